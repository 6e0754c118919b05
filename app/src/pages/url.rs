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

/// Decodes a percent-encoded URL component (invalid escapes are kept as they are).
pub fn urldecode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .filter(|pair| pair.iter().all(u8::is_ascii_hexdigit))
            .and_then(|pair| std::str::from_utf8(pair).ok())
            .and_then(|pair| u8::from_str_radix(pair, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
