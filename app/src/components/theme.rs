//! The theme switch in the top bar: follow the system, or force light or dark. The choice is
//! kept in the browser's local storage and shown as `data-theme` on `<html>`, which the
//! stylesheet reads; "system" removes the attribute so `prefers-color-scheme` decides.
//!
//! The shell applies a stored choice before first paint with a tiny script carrying the
//! page's CSP nonce ([`PRE_PAINT_SCRIPT`]); the hydrated app applies it again and keeps it.

use leptos::prelude::*;

/// Where the choice is kept in local storage.
pub const STORAGE_KEY: &str = "muster-theme";

/// Sets `data-theme` from local storage before the page paints, so a forced theme does not
/// flash the system's first. It must stay this small: it runs before anything else.
pub const PRE_PAINT_SCRIPT: &str = "try{var t=localStorage.getItem('muster-theme');\
if(t==='light'||t==='dark')document.documentElement.setAttribute('data-theme',t)}catch(e){}";

/// A theme choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Theme {
    System,
    Light,
    Dark,
}

impl Theme {
    /// Parses a stored or chosen value; anything unknown means the system's.
    pub fn parse(text: &str) -> Self {
        match text {
            "light" => Theme::Light,
            "dark" => Theme::Dark,
            _ => Theme::System,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Theme::System => "system",
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }
}

/// The select in the top bar.
#[component]
pub fn ThemeToggle() -> impl IntoView {
    let theme = RwSignal::new(Theme::System);
    // After hydration: show (and apply) what this browser chose before. The server cannot
    // know it, so it renders "system" and the browser corrects it here.
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        {
            let stored = browser::stored();
            browser::apply(stored);
            theme.set(stored);
        }
    });
    let on_change = move |event: leptos::ev::Event| {
        let chosen = Theme::parse(&event_target_value(&event));
        theme.set(chosen);
        #[cfg(feature = "hydrate")]
        {
            browser::store(chosen);
            browser::apply(chosen);
        }
    };
    view! {
        <label class="theme">
            <span class="visually-hidden">"Theme"</span>
            <select data-testid="theme" on:change=on_change prop:value=move || theme.get().as_str()>
                <option value="system">"System theme"</option>
                <option value="light">"Light"</option>
                <option value="dark">"Dark"</option>
            </select>
        </label>
    }
}

/// Local storage and the `<html>` attribute. Browser only.
#[cfg(feature = "hydrate")]
pub mod browser {
    use super::{Theme, STORAGE_KEY};
    use leptos::prelude::{document, window};

    fn storage() -> Option<web_sys::Storage> {
        window().local_storage().ok().flatten()
    }

    /// The stored choice (the system's when none, or storage is unavailable).
    pub fn stored() -> Theme {
        storage()
            .and_then(|storage| storage.get_item(STORAGE_KEY).ok().flatten())
            .map_or(Theme::System, |text| Theme::parse(&text))
    }

    /// Remembers `theme` ("system" forgets the choice).
    pub fn store(theme: Theme) {
        if let Some(storage) = storage() {
            let _ = match theme {
                Theme::System => storage.remove_item(STORAGE_KEY),
                _ => storage.set_item(STORAGE_KEY, theme.as_str()),
            };
        }
    }

    /// Shows `theme` on `<html>` for the stylesheet.
    pub fn apply(theme: Theme) {
        if let Some(root) = document().document_element() {
            let _ = match theme {
                Theme::System => root.remove_attribute("data-theme"),
                _ => root.set_attribute("data-theme", theme.as_str()),
            };
        }
    }
}
