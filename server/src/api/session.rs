//! The client's session: what it may do, and logging in and out with the admin token.
//!
//! The login form posts `token` (and optionally `next`, the page to return to) as an ordinary
//! HTML form, so it works before the wasm loads: success redirects to `next` with the
//! `HttpOnly`, `SameSite=Strict` session cookie set; failure redirects to
//! `/login?error=<message>`. Scripts may post `{"token": "..."}` as JSON instead and get JSON
//! back (they would rather send `Authorization: Bearer`, though). Attempts are limited per
//! client and in all: past the limit, a 429 with `Retry-After`, whatever the token.
//! `POST /logout` takes `next` the same way, so signing out stays on the page it was on.
//! `next` is only ever a path on this console (`app::same_origin_path`), anything else is `/`.

use app::wire::SessionInfo;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Extension, State};
use axum::http::{header, request::Parts, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use serde::Deserialize;

use super::body;
use crate::auth::Auth;
use crate::edge::hosts::Caller;
use crate::error::Error;
use crate::state::AppState;

/// `GET /api/session`: whether this client may change things, and why not.
pub async fn info(State(state): State<AppState>, parts: Parts) -> Json<SessionInfo> {
    Json(state.auth.session(&parts))
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
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Error> {
    state.auth.check_origin(&headers)?;
    if is_json(&headers) {
        let login: Login = body::json(body)?;
        let id = state.auth.login(&login.token, caller.ip)?;
        let info = SessionInfo {
            can_write: true,
            reason: None,
            signed_in: true,
            can_sign_in: false,
            registry: state.hub.registry().name().to_string(),
            notice: state.auth.notice(),
        };
        return Ok((
            [(
                header::SET_COOKIE,
                cookie_header(&Auth::cookie(&id, caller.https))?,
            )],
            Json(info),
        )
            .into_response());
    }
    let bytes = body::bytes(body)?;
    let login: Login = serde_urlencoded::from_bytes(&bytes)
        .map_err(|error| Error::invalid(format!("invalid login form: {error}")))?;
    let next = login
        .next
        .as_deref()
        .and_then(app::same_origin_path)
        .unwrap_or("/");
    match state.auth.login(&login.token, caller.ip) {
        Ok(id) => Ok((
            [(
                header::SET_COOKIE,
                cookie_header(&Auth::cookie(&id, caller.https))?,
            )],
            Redirect::to(next),
        )
            .into_response()),
        Err(error @ Error::TooManyRequests { .. }) => Err(error),
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

/// The sign-out form's one field.
#[derive(Debug, Default, Deserialize)]
pub struct Logout {
    /// Where to go after signing out (a path on this console): the page the button was on.
    #[serde(default)]
    next: Option<String>,
}

/// `POST /logout`: ends the session and clears the cookie; back to `next` or the front page
/// (form), or 204 (script).
pub async fn logout(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    parts: Parts,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Error> {
    state.auth.check_origin(&parts.headers)?;
    state.auth.logout(&parts.headers);
    let cookie = [(
        header::SET_COOKIE,
        cookie_header(&Auth::expired_cookie(caller.https))?,
    )];
    if is_json(&parts.headers) {
        return Ok((cookie, StatusCode::NO_CONTENT).into_response());
    }
    // The session is gone whatever the form says: a malformed one only loses the way back.
    let form: Logout = body::bytes(body)
        .ok()
        .and_then(|bytes| serde_urlencoded::from_bytes(&bytes).ok())
        .unwrap_or_default();
    let next = form
        .next
        .as_deref()
        .and_then(app::same_origin_path)
        .unwrap_or("/");
    Ok((cookie, Redirect::to(next)).into_response())
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"))
}

fn cookie_header(value: &str) -> Result<HeaderValue, Error> {
    HeaderValue::from_str(value).map_err(|error| Error::Internal(error.to_string()))
}
