//! `--redirect-http`: a plain-HTTP listener that sends every request to the HTTPS console.
//!
//! A browser given `http://console.example` gets a 308 to the same path over HTTPS, and from
//! then on HSTS keeps it there. The target host is the request's own `Host`, so it must pass
//! the same allow-list as the console: otherwise this would be an open redirect to any name an
//! attacker writes in `Host`.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;

use super::hosts::HostPolicy;
use crate::error::Error;

/// Where the redirects point.
#[derive(Debug, Clone)]
struct Target {
    policy: Arc<HostPolicy>,
    https_port: u16,
}

/// The redirecting application for the HTTPS console on `https_port`.
pub fn router(policy: Arc<HostPolicy>, https_port: u16) -> Router {
    Router::new()
        .fallback(redirect)
        .with_state(Target { policy, https_port })
}

async fn redirect(State(target): State<Target>, request: Request) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .unwrap_or("");
    if !target.policy.allows(host) {
        return Error::Forbidden(format!(
            "Host {host:?} is not a name of this console; no redirect"
        ))
        .into_response();
    }
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    let port = match target.https_port {
        443 => String::new(),
        port => format!(":{port}"),
    };
    let path = request
        .uri()
        .path_and_query()
        .map_or("/", |path| path.as_str());
    (
        StatusCode::PERMANENT_REDIRECT,
        [(header::LOCATION, format!("https://{name}{port}{path}"))],
    )
        .into_response()
}
