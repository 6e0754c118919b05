//! Small browser-side helpers shared by the pages that poll the server (the connection
//! badge's `/readyz`, the Stats page's `/api/stats`). Browser only.

use std::time::Duration;

use leptos::prelude::window;
use serde::de::DeserializeOwned;

/// `GET path` on this page's origin, its body read as JSON whatever the status (`/readyz`
/// answers the same body with 200 and 503).
pub async fn get_json<T: DeserializeOwned>(path: &str) -> Result<T, String> {
    use wasm_bindgen::JsCast;
    let error = |value: wasm_bindgen::JsValue| format!("{value:?}");
    let response = wasm_bindgen_futures::JsFuture::from(window().fetch_with_str(path))
        .await
        .map_err(error)?;
    let response: web_sys::Response = response.dyn_into().map_err(error)?;
    let text = wasm_bindgen_futures::JsFuture::from(response.text().map_err(error)?)
        .await
        .map_err(error)?;
    serde_json::from_str(&text.as_string().unwrap_or_default()).map_err(|e| e.to_string())
}

/// Resolves after `duration`, on the browser's own timer.
pub async fn sleep(duration: Duration) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let _ = window().set_timeout_with_callback_and_timeout_and_arguments_0(
            &resolve,
            duration.as_millis() as i32,
        );
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}
