//! Which page an address shows, and moving between pages without loading the document again.
//!
//! [`Route::of`] reads a path. [`Location`] holds the address the page shows (its path and
//! query): on the server, the request's; in the browser, the address bar's. The app renders the
//! route of that address. In the browser a click on a link to another of Berth's pages, or
//! [`Location::go`], pushes the new address to the browser's history and sets it, so only the
//! page's part of the document changes; Back and Forward (`popstate`) set it too. Links with a
//! modifier key, a `target`, a `download`, `rel="external"` or an address that is not a path on
//! this server (another site, `#card-web`) are left to the browser.
//!
//! Berth's pages are five fixed paths, so this stands in for Leptos's router, whose nested routes
//! and matching were 6% of the browser bundle's code (`end2end/bench/bundle-breakdown.py`).

use leptos::prelude::*;

/// Every page's path, as the server mounts it (`{param}` stands for one segment). [`Route::of`]
/// reads exactly these; a test holds the two together.
pub const PAGES: [&str; 5] = [
    "/",
    "/templates",
    "/templates/{id}",
    "/instances/{namespace}/{name}",
    "/instances/{namespace}/{name}/history",
];

/// A page of the console, by its address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `/`: every instance.
    Instances,
    /// `/templates`: the catalog.
    Templates,
    /// `/templates/:id`
    Template { id: String },
    /// `/instances/:namespace/:name`
    Instance { namespace: String, name: String },
    /// `/instances/:namespace/:name/history`
    History { namespace: String, name: String },
    /// Any other path.
    NotFound,
}

impl Route {
    /// The route of `path` (an address without its query). Exact, as the server's routes are:
    /// `/templates/` and `/instances//x` are not found.
    pub fn of(path: &str) -> Route {
        let path = path.strip_prefix('/').unwrap_or(path);
        if path.is_empty() {
            return Route::Instances;
        }
        let parts: Vec<&str> = path.split('/').collect();
        if parts.contains(&"") {
            return Route::NotFound;
        }
        let pair = |namespace: &str, name: &str| (namespace.to_string(), name.to_string());
        match parts.as_slice() {
            ["templates"] => Route::Templates,
            ["templates", id] => Route::Template { id: id.to_string() },
            ["instances", namespace, name] => {
                let (namespace, name) = pair(namespace, name);
                Route::Instance { namespace, name }
            }
            ["instances", namespace, name, "history"] => {
                let (namespace, name) = pair(namespace, name);
                Route::History { namespace, name }
            }
            _ => Route::NotFound,
        }
    }
}

/// The address the page shows: its path and query, such as `/instances/ns/x?op=2`.
#[derive(Debug, Clone, Copy)]
pub struct Location {
    address: RwSignal<String>,
}

impl Location {
    /// The current request's address (on the server) or the address bar's (in the browser),
    /// provided to every page; in the browser, link clicks and Back and Forward now move it.
    pub fn provide() -> Location {
        let location = Location {
            address: RwSignal::new(current_address()),
        };
        provide_context(location);
        #[cfg(feature = "hydrate")]
        browser::follow_links(location);
        location
    }

    /// The one [`provide`](Location::provide)d for this app.
    pub fn get() -> Location {
        expect_context()
    }

    /// The path, without the query; tracked, so what reads it follows every move.
    pub fn path(&self) -> String {
        self.address.with(|a| split(a).0.to_string())
    }

    /// The query's value for `key`, read once (not tracked).
    pub fn query(&self, key: &str) -> Option<String> {
        self.address.with_untracked(|a| {
            split(a)
                .1
                .split('&')
                .filter_map(|pair| pair.split_once('='))
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.to_string())
        })
    }

    /// Shows `address` (a path on this server, with an optional query), as a click on a link
    /// to it would.
    pub fn go(&self, address: &str) {
        #[cfg(feature = "hydrate")]
        browser::push(address);
        self.show(address.to_string());
    }

    /// Moves to `address`, unless the page already shows it: a jump to an anchor (`#card-web`)
    /// fires `popstate` with the same path, and setting the signal anyway would build the page
    /// again, loading its data again and dropping its unapplied edits.
    fn show(&self, address: String) {
        if self.address.with_untracked(|now| *now != address) {
            self.address.set(address);
        }
    }
}

/// An address's path and its query (empty when it has none).
fn split(address: &str) -> (&str, &str) {
    address.split_once('?').unwrap_or((address, ""))
}

#[cfg(feature = "ssr")]
fn current_address() -> String {
    use_context::<http::request::Parts>()
        .and_then(|parts| parts.uri.path_and_query().map(|pq| pq.as_str().to_string()))
        .unwrap_or_else(|| "/".to_string())
}

#[cfg(all(feature = "hydrate", not(feature = "ssr")))]
fn current_address() -> String {
    browser::address()
}

/// Neither server nor browser (the crate's own unit tests): the first page.
#[cfg(not(any(feature = "ssr", feature = "hydrate")))]
fn current_address() -> String {
    "/".to_string()
}

#[cfg(feature = "hydrate")]
mod browser {
    use leptos::prelude::*;
    use wasm_bindgen::{JsCast, JsValue, closure::Closure};

    use super::Location;

    /// The address bar's path and query.
    pub fn address() -> String {
        let here = window().location();
        let path = here.pathname().unwrap_or_else(|_| "/".to_string());
        format!("{path}{}", here.search().unwrap_or_default())
    }

    /// Adds `address` to the history and scrolls to the top, as a page load would.
    pub fn push(address: &str) {
        let window = window();
        if let Ok(history) = window.history() {
            let _ = history.push_state_with_url(&JsValue::NULL, "", Some(address));
        }
        window.scroll_to_with_x_and_y(0.0, 0.0);
    }

    /// Moves `location` on clicks on links to Berth's pages and on Back and Forward. The
    /// listeners live as long as the page.
    pub fn follow_links(location: Location) {
        let window = window();
        let on_click =
            Closure::<dyn Fn(web_sys::MouseEvent)>::new(move |e: web_sys::MouseEvent| {
                if let Some(address) = own_link(&e) {
                    e.prevent_default();
                    location.go(&address);
                }
            });
        let on_pop = Closure::<dyn Fn()>::new(move || location.show(address()));
        let _ = window.add_event_listener_with_callback("click", on_click.as_ref().unchecked_ref());
        let _ =
            window.add_event_listener_with_callback("popstate", on_pop.as_ref().unchecked_ref());
        on_click.forget();
        on_pop.forget();
    }

    /// The address of the link a plain click landed on, when it is one of Berth's pages.
    fn own_link(e: &web_sys::MouseEvent) -> Option<String> {
        if e.default_prevented()
            || e.button() != 0
            || e.meta_key()
            || e.ctrl_key()
            || e.shift_key()
            || e.alt_key()
        {
            return None;
        }
        let target: web_sys::Element = e.target()?.dyn_into().ok()?;
        let link = target.closest("a[href]").ok()??;
        let href = link.get_attribute("href")?;
        let elsewhere = link.has_attribute("target")
            || link.has_attribute("download")
            || link
                .get_attribute("rel")
                .is_some_and(|r| r.contains("external"));
        let own_path = href.starts_with('/') && !href.starts_with("//") && !href.contains('#');
        (own_path && !elsewhere).then_some(href)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_page_has_its_path_and_anything_else_is_not_found() {
        assert_eq!(Route::of("/"), Route::Instances);
        assert_eq!(Route::of(""), Route::Instances);
        assert_eq!(Route::of("/templates"), Route::Templates);
        assert_eq!(
            Route::of("/templates/posthog"),
            Route::Template {
                id: "posthog".into()
            }
        );
        assert_eq!(
            Route::of("/instances/team-a/posthog"),
            Route::Instance {
                namespace: "team-a".into(),
                name: "posthog".into()
            }
        );
        assert_eq!(
            Route::of("/instances/team-a/posthog/history"),
            Route::History {
                namespace: "team-a".into(),
                name: "posthog".into()
            }
        );
        for other in [
            "/instances",
            "/instances/team-a",
            "/instances/a/b/c",
            "/templates/a/b",
            "/pkg/berth.wasm",
            "/templates/",
            "/instances//posthog",
            "//templates",
        ] {
            assert_eq!(Route::of(other), Route::NotFound, "{other}");
        }
    }

    #[test]
    fn every_path_the_server_mounts_is_a_different_page() {
        let pages: Vec<Route> = PAGES
            .iter()
            .map(|p| Route::of(&p.replace(['{', '}'], "")))
            .collect();
        for (path, page) in PAGES.iter().zip(&pages) {
            assert_ne!(*page, Route::NotFound, "{path}");
        }
        for (i, page) in pages.iter().enumerate() {
            assert!(!pages[..i].contains(page), "{page:?} twice");
        }
    }

    #[test]
    fn the_path_and_the_query_are_read_apart() {
        let owner = Owner::new();
        owner.with(|| {
            let location = Location {
                address: RwSignal::new("/instances/ns/x?op=3&x=y".to_string()),
            };
            assert_eq!(location.path(), "/instances/ns/x");
            assert_eq!(location.query("op").as_deref(), Some("3"));
            assert_eq!(location.query("x").as_deref(), Some("y"));
            assert_eq!(location.query("missing"), None);
            location.go("/templates");
            assert_eq!(location.path(), "/templates");
            assert_eq!(location.query("op"), None);
        });
    }
}
