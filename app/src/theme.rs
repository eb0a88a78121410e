//! Light and dark themes.
//!
//! The chosen theme lives in `localStorage["berth-theme"]` and is reflected as
//! `data-theme="dark|light"` on `<html>`, which `style/main.css` keys its colour tokens on.
//! With no stored choice the operating system's preference wins.

use leptos::prelude::*;

/// Sets `data-theme` before the first paint, so a reload never flashes the wrong theme.
pub const PRE_PAINT_SCRIPT: &str = r#"(function(){try{var t=localStorage.getItem('berth-theme');if(t!=='dark'&&t!=='light'){t=window.matchMedia('(prefers-color-scheme: light)').matches?'light':'dark';}document.documentElement.dataset.theme=t;}catch(e){document.documentElement.dataset.theme='dark';}})();"#;

/// One of the two colour themes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Theme {
    Dark,
    Light,
}

impl Theme {
    /// The value used in `data-theme` and in storage.
    pub fn as_str(self) -> &'static str {
        match self {
            Theme::Dark => "dark",
            Theme::Light => "light",
        }
    }

    /// The other theme.
    pub fn toggled(self) -> Theme {
        match self {
            Theme::Dark => Theme::Light,
            Theme::Light => Theme::Dark,
        }
    }

    /// Parses a stored value; anything unknown is `None`.
    pub fn parse(value: &str) -> Option<Theme> {
        match value {
            "dark" => Some(Theme::Dark),
            "light" => Some(Theme::Light),
            _ => None,
        }
    }
}

/// The theme currently shown by the document (dark during server rendering).
fn current_theme() -> Theme {
    #[cfg(feature = "hydrate")]
    {
        document()
            .document_element()
            .and_then(|el| el.get_attribute("data-theme"))
            .and_then(|v| Theme::parse(&v))
            .unwrap_or(Theme::Dark)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        Theme::Dark
    }
}

/// Applies a theme to the document and remembers it.
fn apply_theme(theme: Theme) {
    #[cfg(feature = "hydrate")]
    {
        if let Some(el) = document().document_element() {
            let _ = el.set_attribute("data-theme", theme.as_str());
        }
        if let Ok(Some(storage)) = window().local_storage() {
            let _ = storage.set_item("berth-theme", theme.as_str());
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = theme;
}

/// A button that switches between the light and dark themes.
#[component]
pub fn ThemeSwitch() -> impl IntoView {
    // Until hydration the server cannot know the stored theme, so the label is neutral and fixed
    // in width: no layout jump when the real value arrives.
    let theme = RwSignal::new(None::<Theme>);
    Effect::new(move |_| theme.set(Some(current_theme())));
    let toggle = move |_| {
        let next = theme
            .get_untracked()
            .unwrap_or_else(current_theme)
            .toggled();
        apply_theme(next);
        theme.set(Some(next));
    };
    let label = move || match theme.get() {
        Some(Theme::Dark) => "Switch to light theme",
        Some(Theme::Light) => "Switch to dark theme",
        None => "Switch theme",
    };
    view! {
        <button
            type="button"
            class="theme-switch"
            data-testid="theme-switch"
            aria-label=label
            title=label
            on:click=toggle
        >
            <span class="theme-icon" aria-hidden="true"></span>
        </button>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toggling_twice_returns_the_same_theme() {
        for t in [Theme::Dark, Theme::Light] {
            assert_eq!(t.toggled().toggled(), t);
            assert_ne!(t.toggled(), t);
        }
    }

    #[test]
    fn parse_round_trips_and_rejects_unknown_values() {
        for t in [Theme::Dark, Theme::Light] {
            assert_eq!(Theme::parse(t.as_str()), Some(t));
        }
        assert_eq!(Theme::parse("sepia"), None);
        assert_eq!(Theme::parse(""), None);
    }
}
