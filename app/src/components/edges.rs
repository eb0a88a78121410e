//! The dependency edges of the canvas: a line from each card to every card it depends on, drawn
//! behind the cards. Measured in the browser after each update and on resize (the server renders
//! none, and the lines take no layout space, so nothing shifts).

use leptos::prelude::*;

use crate::live::LiveInstance;

/// One edge, in the canvas's coordinates: from (x1, y1) to (x2, y2).
type Line = (f64, f64, f64, f64);

/// The edges of `live`'s components over the element `canvas`.
#[component]
pub fn Edges(live: LiveInstance, canvas: NodeRef<leptos::html::Div>) -> impl IntoView {
    let lines = RwSignal::new(Vec::<Line>::new());
    #[cfg(feature = "hydrate")]
    {
        let measure = move || lines.set(browser::measure(live, canvas));
        Effect::new(move |_| {
            live.view.track();
            // Measured after the browser lays the cards out; at once if it cannot wait a frame.
            if request_animation_frame(measure).is_err() {
                measure();
            }
        });
        let resize = window_event_listener(leptos::ev::resize, move |_| measure());
        on_cleanup(move || resize.remove());
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (live, canvas);
    view! {
        <svg class="edges" aria-hidden="true" data-testid="edges">
            {move || lines.get().into_iter().map(|(x1, y1, x2, y2)| {
                // Whole pixels, written as integers: formatting floats would bring the
                // standard library's float printer into the bundle for nothing a screen shows.
                let [x1, y1, x2, y2] = [x1, y1, x2, y2].map(|v| v.round() as i64);
                let bend = ((y2 - y1) / 2).abs().max(24);
                view! { <path d=format!("M{x1},{y1} C{x1},{} {x2},{} {x2},{y2}", y1 + bend, y2 - bend)/> }
            }).collect_view()}
        </svg>
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use leptos::prelude::*;

    use super::Line;
    use crate::live::LiveInstance;

    /// From the bottom middle of each card to the top middle of each card it depends on (or
    /// side to side when they sit in the same row).
    pub fn measure(live: LiveInstance, canvas: NodeRef<leptos::html::Div>) -> Vec<Line> {
        let Some(canvas) = canvas.get_untracked() else {
            return Vec::new();
        };
        let origin = canvas.get_bounding_client_rect();
        let doc = document();
        let rect = |id: &str| {
            doc.get_element_by_id(&format!("card-{id}"))
                .map(|e| e.get_bounding_client_rect())
        };
        let mut out = Vec::new();
        live.view.with_untracked(|v| {
            for c in &v.components {
                let Some(from) = rect(&c.component.id) else {
                    continue;
                };
                for dep in &c.component.depends_on {
                    let Some(to) = rect(dep) else { continue };
                    let (fx, tx) = (
                        from.left() + from.width() / 2.0 - origin.left(),
                        to.left() + to.width() / 2.0 - origin.left(),
                    );
                    let line = if (from.top() - to.top()).abs() < 1.0 {
                        (fx, from.top() - origin.top(), tx, to.top() - origin.top())
                    } else if from.top() < to.top() {
                        (
                            fx,
                            from.bottom() - origin.top(),
                            tx,
                            to.top() - origin.top(),
                        )
                    } else {
                        (
                            fx,
                            from.top() - origin.top(),
                            tx,
                            to.bottom() - origin.top(),
                        )
                    };
                    out.push(line);
                }
            }
        });
        out
    }
}
