//! The client's session: what it may do, and logging in and out with the admin token.
//!
//! The login form posts `token` (and optionally `next`, the page to return to) as an ordinary
//! HTML form, so it works before the wasm loads: success redirects to `next` with the
//! `HttpOnly`, `SameSite=Strict` session cookie set; failure redirects to
//! `/login?error=<message>`. Scripts may post `{"token": "..."}` as JSON instead and get JSON
//! back (they would rather send `Authorization: Bearer`, though).

use app::wire::SessionInfo;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, request::Parts, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use serde::Deserialize;

use super::body;
use crate::auth::Auth;
use crate::error::Error;
use crate::state::AppState;

/// `GET /api/session`: whether this client may change things, and why not.
pub async fn info(State(state): State<AppState>, parts: Parts) -> Json<SessionInfo> {
    Json(state.hub.auth().session(&parts))
}

/// The login form's fields.
#[derive(Debug, Deserialize)]
pub struct Login {
    /// The admin token.
    token: String,
    /// Where to go after logging in (a path on this console).
    #[serde(default)]
    next: Option<String>,
}

/// `POST /login`: exchanges the admin token for a session cookie.
pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Error> {
    state.hub.auth().check_origin(&headers)?;
    if is_json(&headers) {
        let login: Login = body::json(body)?;
        let id = state.hub.auth().login(&login.token)?;
        let info = SessionInfo {
            can_write: true,
            reason: None,
            registry: state.hub.registry().name().to_string(),
            notice: state.hub.auth().notice(),
        };
        return Ok((
            [(header::SET_COOKIE, cookie_header(&Auth::cookie(&id))?)],
            Json(info),
        )
            .into_response());
    }
    let bytes = body::bytes(body)?;
    let login: Login = serde_urlencoded::from_bytes(&bytes)
        .map_err(|error| Error::invalid(format!("invalid login form: {error}")))?;
    let next = safe_next(login.next.as_deref());
    match state.hub.auth().login(&login.token) {
        Ok(id) => Ok((
            [(header::SET_COOKIE, cookie_header(&Auth::cookie(&id))?)],
            Redirect::to(next),
        )
            .into_response()),
        Err(error) => {
            let query = serde_urlencoded::to_string([
                ("error", error.to_string().as_str()),
                ("next", next),
            ])
            .unwrap_or_default();
            Ok(Redirect::to(&format!("/login?{query}")).into_response())
        }
    }
}

/// `POST /logout`: ends the session and clears the cookie; back to the front page (form) or
/// 204 (script).
pub async fn logout(State(state): State<AppState>, parts: Parts) -> Result<Response, Error> {
    state.hub.auth().check_origin(&parts.headers)?;
    state.hub.auth().logout(&parts.headers);
    let cookie = [(header::SET_COOKIE, cookie_header(&Auth::expired_cookie())?)];
    if is_json(&parts.headers) {
        Ok((cookie, StatusCode::NO_CONTENT).into_response())
    } else {
        Ok((cookie, Redirect::to("/")).into_response())
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"))
}

/// A local path to return to; anything else (another site, `//host`) becomes `/`.
fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => {
            path
        }
        _ => "/",
    }
}

fn cookie_header(value: &str) -> Result<HeaderValue, Error> {
    HeaderValue::from_str(value).map_err(|error| Error::Internal(error.to_string()))
}
