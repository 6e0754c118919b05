//! Small browser-side helpers for talking to the console from the page: fetch (the Call
//! panel's POST, the connection badge's `/readyz`, the Stats page's `/api/stats`) and a timer.
//! They compile natively too (web-sys does), but only the browser calls them.

use leptos::prelude::window;

/// `fetch(url, init)` on this page's origin (the session cookie and the Origin header go
/// along): the status and the body as text. `Err` only when no answer came.
pub async fn fetch(url: &str, init: &web_sys::RequestInit) -> Result<(u16, String), String> {
    use wasm_bindgen::JsCast;
    let error = |value: wasm_bindgen::JsValue| format!("{value:?}");
    let response =
        wasm_bindgen_futures::JsFuture::from(window().fetch_with_str_and_init(url, init))
            .await
            .map_err(error)?;
    let response: web_sys::Response = response.dyn_into().map_err(error)?;
    let text = wasm_bindgen_futures::JsFuture::from(response.text().map_err(error)?)
        .await
        .map_err(error)?;
    Ok((response.status(), text.as_string().unwrap_or_default()))
}

/// `POST url` with a JSON body from the browser (same origin: the session cookie and the
/// Origin header go along, as the API's authorization needs).
pub async fn post_json(url: &str, body: &str) -> Result<(u16, String), String> {
    let error = |value: wasm_bindgen::JsValue| format!("{value:?}");
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&wasm_bindgen::JsValue::from_str(body));
    let headers = web_sys::Headers::new().map_err(error)?;
    headers
        .set("content-type", "application/json")
        .map_err(error)?;
    init.set_headers(&headers);
    fetch(url, &init).await
}

/// `GET path`, its body read as JSON whatever the status (`/readyz` answers the same body
/// with 200 and 503).
#[cfg(feature = "hydrate")]
pub async fn get_json<T: serde::de::DeserializeOwned>(path: &str) -> Result<T, String> {
    let (_, text) = fetch(path, &web_sys::RequestInit::new()).await?;
    serde_json::from_str(&text).map_err(|e| e.to_string())
}

/// Resolves after `duration`, on the browser's own timer.
#[cfg(feature = "hydrate")]
pub async fn sleep(duration: std::time::Duration) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let _ = window().set_timeout_with_callback_and_timeout_and_arguments_0(
            &resolve,
            duration.as_millis() as i32,
        );
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}
