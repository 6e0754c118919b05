//! Who may change things: the admin token, login sessions, and the Origin check.
//!
//! Policy (ISSUE 5): reading is open to whoever reaches the console. Actions (register,
//! deregister, evict) are allowed to anyone when the console listens on loopback only and no
//! token is set — that is the machine's own user. Once an `--admin-token` is set, actions need
//! it, as `Authorization: Bearer` (scripts) or a session cookie from the login form (browsers).
//! Beyond loopback without a token, the console is read-only and says so.
//!
//! Browsers send cookies with cross-site requests unless told not to, and always send `Origin`
//! on cross-origin POSTs and WebSocket handshakes: the session cookie is `SameSite=Strict` and
//! `HttpOnly`, and every mutation and websocket upgrade whose `Origin` is not this console's own
//! is refused, so another site open in the same browser cannot act with the admin's session.
//! Over HTTPS the cookie is also `Secure`, so it never travels in clear text.
//!
//! Guessing the token is slowed by [`throttle`] (per client and in all, a 429 with
//! `Retry-After`), and a token too weak to stand against guessing is refused at start
//! ([`strength`]).

pub mod strength;
mod throttle;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use app::wire::SessionInfo;
use axum::http::{header, request::Parts, HeaderMap};

use self::throttle::Throttle;
use crate::edge::hosts::Caller;
use crate::error::Error;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "muster_session";

/// How long a login lasts.
const SESSION_LIFETIME: Duration = Duration::from_secs(12 * 60 * 60);

/// Most live sessions; the oldest is dropped beyond this, so logins cannot grow memory.
const MAX_SESSIONS: usize = 256;

/// The console's access rules and its login sessions.
#[derive(Debug)]
pub struct Auth {
    token: Option<String>,
    /// Listening on loopback only: the local user is trusted without a token.
    loopback: bool,
    listen: SocketAddr,
    registry: &'static str,
    /// Told to every session beside the registry's name (`SessionInfo::notice`).
    notice: Option<&'static str>,
    sessions: Mutex<HashMap<String, Instant>>,
    throttle: Throttle,
}

impl Auth {
    /// Rules for a console listening on `listen` with an optional admin token.
    pub fn new(listen: SocketAddr, token: Option<String>, registry: &'static str) -> Self {
        Auth {
            token: token.filter(|token| !token.is_empty()),
            loopback: listen.ip().is_loopback(),
            listen,
            registry,
            notice: None,
            sessions: Mutex::new(HashMap::new()),
            throttle: Throttle::default(),
        }
    }

    /// The same rules, telling every session `notice` about the registry's reach.
    pub fn with_notice(self, notice: Option<&'static str>) -> Self {
        Auth { notice, ..self }
    }

    /// What every session is told about the registry's reach.
    pub fn notice(&self) -> Option<String> {
        self.notice.map(str::to_string)
    }

    /// Refuses a request whose `Origin` is present and not this console's own (the `Host` it
    /// was sent to). Requests without `Origin` come from scripts, not from a browser page.
    pub fn check_origin(&self, headers: &HeaderMap) -> Result<(), Error> {
        let Some(origin) = headers.get(header::ORIGIN) else {
            return Ok(());
        };
        let origin = origin.to_str().unwrap_or("null");
        let host = headers
            .get(header::HOST)
            .and_then(|host| host.to_str().ok())
            .unwrap_or("");
        let same = origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"))
            .is_some_and(|origin_host| !host.is_empty() && origin_host == host);
        if same {
            Ok(())
        } else {
            Err(Error::Forbidden(format!(
                "cross-origin request refused (Origin {origin} is not this console)"
            )))
        }
    }

    /// Checks that the client may change things: same origin, then the token policy.
    pub fn authorize(&self, request: &Parts) -> Result<(), Error> {
        self.check_origin(&request.headers)?;
        let Some(token) = &self.token else {
            return if self.loopback {
                Ok(())
            } else {
                Err(Error::Forbidden(self.read_only_reason()))
            };
        };
        if let Some(bearer) = bearer(&request.headers) {
            return self.attempt(bearer, token, client(request));
        }
        if self.session_valid(&request.headers) {
            return Ok(());
        }
        Err(Error::Unauthorized(
            "log in, or send Authorization: Bearer <admin token>".into(),
        ))
    }

    /// Who a request that [`Auth::authorize`] allowed acts as, for the events of its actions:
    /// there is one admin, so the means (loopback, token, sign-in) and the client's address.
    pub fn actor(&self, request: &Parts) -> String {
        let client = client(request);
        if self.token.is_none() {
            format!("local user ({client})")
        } else if bearer(&request.headers).is_some() {
            format!("admin token ({client})")
        } else {
            format!("signed-in admin ({client})")
        }
    }

    /// What this client may do, for the UI.
    pub fn session(&self, request: &Parts) -> SessionInfo {
        let (can_write, reason) = match self.authorize(request) {
            Ok(()) => (true, None),
            Err(error) => (false, Some(error.to_string())),
        };
        let signed_in = self.token.is_some() && self.session_valid(&request.headers);
        SessionInfo {
            can_write,
            reason,
            signed_in,
            can_sign_in: self.token.is_some() && !can_write,
            registry: self.registry.to_string(),
            notice: self.notice(),
        }
    }

    /// Exchanges the admin token for a session id, the value of the session cookie; `client`
    /// is counted against the attempt limit.
    pub fn login(&self, token: &str, client: IpAddr) -> Result<String, Error> {
        let Some(expected) = &self.token else {
            return Err(Error::Forbidden(if self.loopback {
                "no login needed: actions are allowed on this loopback console".into()
            } else {
                self.read_only_reason()
            }));
        };
        self.attempt(token, expected, client)?;
        let id = session_id()?;
        let now = Instant::now();
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        sessions.retain(|_, expires| *expires > now);
        if sessions.len() >= MAX_SESSIONS {
            if let Some(oldest) = sessions
                .iter()
                .min_by_key(|(_, expires)| **expires)
                .map(|(id, _)| id.clone())
            {
                sessions.remove(&oldest);
            }
        }
        sessions.insert(id.clone(), now + SESSION_LIFETIME);
        Ok(id)
    }

    /// Ends the session the request carries, if any.
    pub fn logout(&self, headers: &HeaderMap) {
        if let Some(id) = session_cookie(headers) {
            self.sessions
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(id);
        }
    }

    /// The `Set-Cookie` value that stores session `id` in the browser (`Secure` when the
    /// client reached the console over HTTPS).
    pub fn cookie(id: &str, https: bool) -> String {
        format!(
            "{SESSION_COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
            SESSION_LIFETIME.as_secs(),
            secure(https)
        )
    }

    /// The `Set-Cookie` value that removes the session cookie.
    pub fn expired_cookie(https: bool) -> String {
        format!(
            "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{}",
            secure(https)
        )
    }

    /// One offered token against the expected one, counted against the attempt limit before
    /// the comparison (a right token gives its attempt back).
    fn attempt(&self, offered: &str, expected: &str, client: IpAddr) -> Result<(), Error> {
        self.throttle.take(client).map_err(|wait| {
            let seconds = wait.as_secs() + 1;
            Error::TooManyRequests {
                message: format!("too many admin-token attempts; try again in {seconds} s"),
                retry_after: seconds,
            }
        })?;
        if constant_time_eq(offered.as_bytes(), expected.as_bytes()) {
            self.throttle.give_back(client);
            Ok(())
        } else {
            Err(Error::Unauthorized("invalid admin token".into()))
        }
    }

    fn session_valid(&self, headers: &HeaderMap) -> bool {
        let Some(id) = session_cookie(headers) else {
            return false;
        };
        let sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        sessions
            .get(id)
            .is_some_and(|expires| *expires > Instant::now())
    }

    fn read_only_reason(&self) -> String {
        format!(
            "read-only: this console listens on {} (beyond loopback) and no --admin-token is set",
            self.listen
        )
    }
}

/// `; Secure` over HTTPS.
fn secure(https: bool) -> &'static str {
    if https {
        "; Secure"
    } else {
        ""
    }
}

/// The client a request counts against (as the edge saw it; unspecified outside the server).
fn client(request: &Parts) -> IpAddr {
    request
        .extensions
        .get::<Caller>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |caller| caller.ip)
}

/// The token of an `Authorization: Bearer <token>` header.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// The session id in the `Cookie` headers.
fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value)
}

/// 32 random bytes from the OS, hex.
fn session_id() -> Result<String, Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|error| Error::Internal(format!("no randomness for a session id: {error}")))?;
    Ok(bytes.iter().map(|byte| format!("{byte:02x}")).collect())
}

/// Compares without an early exit, so response timing does not reveal how much of a guessed
/// token was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn parts(headers: &[(&str, &str)]) -> Parts {
        let mut request = Request::builder().uri("/api/services");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.body(()).unwrap().into_parts().0
    }

    #[test]
    fn loopback_without_token_allows() {
        let auth = Auth::new("127.0.0.1:3000".parse().unwrap(), None, "memory");
        assert_eq!(auth.authorize(&parts(&[])), Ok(()));
    }

    #[test]
    fn beyond_loopback_without_token_is_read_only() {
        let auth = Auth::new("0.0.0.0:3000".parse().unwrap(), None, "memory");
        assert!(matches!(
            auth.authorize(&parts(&[])),
            Err(Error::Forbidden(_))
        ));
        assert!(!auth.session(&parts(&[])).can_write);
    }

    #[test]
    fn token_bearer_and_cookie() {
        let auth = Auth::new(
            "0.0.0.0:3000".parse().unwrap(),
            Some("s3cret".into()),
            "mdns",
        );
        assert!(matches!(
            auth.authorize(&parts(&[])),
            Err(Error::Unauthorized(_))
        ));
        assert!(matches!(
            auth.authorize(&parts(&[("authorization", "Bearer wrong")])),
            Err(Error::Unauthorized(_))
        ));
        assert_eq!(
            auth.authorize(&parts(&[("authorization", "Bearer s3cret")])),
            Ok(())
        );
        let id = auth
            .login("s3cret", IpAddr::V4(Ipv4Addr::LOCALHOST))
            .unwrap();
        let cookie = format!("other=1; {SESSION_COOKIE}={id}");
        assert_eq!(auth.authorize(&parts(&[("cookie", &cookie)])), Ok(()));
        auth.logout(&parts(&[("cookie", &cookie)]).headers);
        assert!(auth.authorize(&parts(&[("cookie", &cookie)])).is_err());
        assert!(auth.login("nope", IpAddr::V4(Ipv4Addr::LOCALHOST)).is_err());
    }

    #[test]
    fn origin_must_match_host() {
        let auth = Auth::new("127.0.0.1:3000".parse().unwrap(), None, "memory");
        let same = [
            ("host", "127.0.0.1:3000"),
            ("origin", "http://127.0.0.1:3000"),
        ];
        assert_eq!(auth.authorize(&parts(&same)), Ok(()));
        let other = [
            ("host", "127.0.0.1:3000"),
            ("origin", "http://evil.example"),
        ];
        assert!(matches!(
            auth.authorize(&parts(&other)),
            Err(Error::Forbidden(_))
        ));
        let null = [("host", "127.0.0.1:3000"), ("origin", "null")];
        assert!(auth.authorize(&parts(&null)).is_err());
    }
}
