//! A long identifier (a node id, an address) cut to its cell's width, whole on hover, with a
//! button that copies it and says so.

use std::time::Duration;

use leptos::prelude::*;

/// How long "Copied" stays on the button.
const CONFIRMATION: Duration = Duration::from_secs(2);

/// `text` in one line, ellipsed by CSS (`.truncate`), and a Copy button for it. `what` names
/// it for screen readers ("Copy node id").
#[component]
pub fn CopyText(#[prop(into)] text: Signal<String>, what: &'static str) -> impl IntoView {
    view! {
        <span class="copy-text">
            <span class="truncate" title=text>{text}</span>
            <CopyButton text label="Copy" name=format!("Copy {what}") />
        </span>
    }
    .into_any()
}

/// A button that copies `text`, labelled `label` ("Copy", "micro"), `name` for screen
/// readers; it says "Copied" (or that the browser refused) for a moment. `reveal`: the text
/// is its tooltip (a command one wants to read before pasting).
#[component]
pub fn CopyButton(
    #[prop(into)] text: Signal<String>,
    label: &'static str,
    #[prop(into)] name: String,
    #[prop(optional)] reveal: bool,
) -> impl IntoView {
    // What the last click came to: the browser may refuse the clipboard (no permission, an
    // insecure origin), and then the button says so instead of pretending.
    let outcome = RwSignal::new(None::<bool>);
    let copy = move |_| {
        let value = text.get_untracked();
        leptos::task::spawn_local(async move {
            let promise = window().navigator().clipboard().write_text(&value);
            let copied = wasm_bindgen_futures::JsFuture::from(promise).await.is_ok();
            outcome.set(Some(copied));
            set_timeout(move || outcome.set(None), CONFIRMATION);
        });
    };
    view! {
        <button
            type="button"
            class="copy"
            aria-label=name
            title=move || reveal.then(|| text.get())
            data-copied=move || outcome.get().map(|copied| copied.to_string())
            on:click=copy
        >
            {move || match outcome.get() {
                None => label,
                Some(true) => "Copied",
                Some(false) => "Copy failed",
            }}
        </button>
    }
    .into_any()
}
