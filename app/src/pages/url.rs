//! URLs the pages build: percent-encoded components, and a toolbar form's state as a query.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// The URL query (`a=1&b=2`) of the form around the element an event came from, with only
/// `keys` and without empty values: toolbars put their state in the URL this way as the user
/// types, so a view can be bookmarked.
pub fn form_query(event: &leptos::ev::Event, keys: &[&str]) -> Option<String> {
    let form = event_target::<web_sys::HtmlElement>(event)
        .closest("form")
        .ok()
        .flatten()?;
    let data = web_sys::FormData::new_with_form(form.unchecked_ref()).ok()?;
    let pairs: Vec<String> = keys
        .iter()
        .filter_map(|key| {
            let value = data.get(key).as_string().filter(|v| !v.is_empty())?;
            Some(format!("{key}={}", urlencode(&value)))
        })
        .collect();
    Some(pairs.join("&"))
}

/// Percent-encodes a URL component (service names are dotted but may hold anything).
pub fn urlencode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}
