//! The middleware every request passes before a handler, websocket upgrades included.
//!
//! 1. The `Host` (past a trusted proxy: the forwarded one) must be one of the console's names
//!    ([`HostPolicy`]): DNS rebinding is refused here, reads included, since a rebound page
//!    could otherwise read the registry.
//! 2. A mutation (any method but GET/HEAD/OPTIONS) or a websocket upgrade whose `Origin` is
//!    present must come from the console's own origin, scheme included (`Origin` is absent only
//!    outside browsers, e.g. scripts with a bearer token).
//! 3. The request goes on with its [`Caller`] as an extension, and, past a trusted proxy, its
//!    `Host` set to the forwarded one, so every later check sees the client's view.
//! 4. The answer gets the security headers ([`headers::secure`]).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::headers;
use super::hosts::{Caller, HostPolicy};
use super::Peer;
use crate::error::Error;

/// The middleware (`axum::middleware::from_fn_with_state`).
pub async fn guard(
    State(policy): State<Arc<HostPolicy>>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request.extensions().get::<Peer>().copied().unwrap_or(Peer {
        addr: ([0, 0, 0, 0], 0).into(),
        tls: false,
    });
    let caller = policy.caller(peer, request.headers());
    let https = caller.https;
    let mut response = match check(&policy, &caller, &request) {
        Err(error) => error.into_response(),
        Ok(()) => {
            let forwarded_host = caller.proxied.then_some(caller.host.as_deref()).flatten();
            if let Some(host) = forwarded_host.and_then(|host| HeaderValue::from_str(host).ok()) {
                request.headers_mut().insert(header::HOST, host);
            }
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
    };
    headers::secure(response.headers_mut(), https);
    response
}

/// Steps 1 and 2.
fn check(policy: &HostPolicy, caller: &Caller, request: &Request) -> Result<(), Error> {
    if let Some(host) = &caller.host {
        if !policy.allows(host) {
            return Err(Error::Forbidden(format!(
                "Host {host:?} is not a name of this console (its listen address, localhost, \
                 or an --allowed-host); refused as possible DNS rebinding"
            )));
        }
    }
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    let upgrade = request
        .headers()
        .get(header::UPGRADE)
        .is_some_and(|value| value.as_bytes().eq_ignore_ascii_case(b"websocket"));
    if safe && !upgrade {
        return Ok(());
    }
    let Some(origin) = request.headers().get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().unwrap_or("null");
    if caller
        .origin()
        .is_some_and(|own| own.eq_ignore_ascii_case(origin))
    {
        Ok(())
    } else {
        Err(Error::Forbidden(format!(
            "cross-origin request refused (Origin {origin} is not this console)"
        )))
    }
}
