//! Who may act, in plain words: the top bar's note ("Read-only: sign in to register or
//! evict", or "Signed in as admin" with Sign out) and the reason a disabled action gives.
//!
//! Sign-in and sign-out are plain forms and links that carry the page they came from as
//! `next`, so both work before the wasm loads and land back where the operator was (the
//! server accepts only a path on this console: `same_origin_path`).

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::live::Live;
use crate::pages::url::urlencode;
use crate::wire::SessionInfo;
use crate::Session;

/// The id of the top bar's note, which disabled actions point to (`aria-describedby`).
pub const ACCESS_NOTE_ID: &str = "access-note";

/// The id of the page's "not reachable" alert, which actions point to while it shows.
pub const CONNECTION_ALERT_ID: &str = "connection-alert";

/// The one identity an admin token stands for (there are no user accounts).
const ADMIN: &str = "admin";

/// What a client that may not act is told; `None` when it may.
pub fn read_only_text(info: &SessionInfo) -> Option<String> {
    if info.can_write {
        return None;
    }
    if info.can_sign_in {
        return Some("Read-only: sign in to register or evict".into());
    }
    let reason = info.reason.as_deref().unwrap_or("read-only");
    let reason = reason.strip_prefix("read-only: ").unwrap_or(reason);
    Some(format!("Read-only: {reason}"))
}

/// The page to come back to: this path and query, unless it is the sign-in page itself.
fn return_path(pathname: &str, search: &str) -> Option<String> {
    if pathname == "/login" {
        return None;
    }
    Some(if search.is_empty() {
        pathname.to_string()
    } else {
        format!("{pathname}?{search}")
    })
}

/// `/login`, returning to `next`.
fn login_href(next: Option<String>) -> String {
    match next {
        Some(next) => format!("/login?next={}", urlencode(&next)),
        None => "/login".into(),
    }
}

impl Session {
    /// Why this client may not act, in plain words (`None`: it may, or not known yet).
    pub fn read_only_text(&self) -> Option<String> {
        self.0
            .get()
            .and_then(Result::ok)
            .and_then(|info| read_only_text(&info))
    }
}

/// Whether an action may be taken now, and why not: the connection first (nothing can be
/// sent), then the session. Disabled buttons take their `title` and `aria-describedby` here.
#[derive(Clone, Copy)]
pub struct ActionGate {
    live: Live,
    session: Session,
}

impl ActionGate {
    /// The gate of the page (from context).
    pub fn new() -> Self {
        ActionGate {
            live: expect_context::<Live>(),
            session: expect_context::<Session>(),
        }
    }

    /// Why actions are unavailable now; `None` when they are available.
    pub fn reason(&self) -> Option<String> {
        self.live
            .connection
            .get()
            .unavailable_reason()
            .or_else(|| self.session.read_only_text())
    }

    /// The id of the visible text that says [`ActionGate::reason`].
    pub fn described_by(&self) -> Option<&'static str> {
        if self.live.connection.get().unavailable_reason().is_some() {
            Some(CONNECTION_ALERT_ID)
        } else if self.session.read_only_text().is_some() {
            Some(ACCESS_NOTE_ID)
        } else {
            None
        }
    }
}

impl Default for ActionGate {
    fn default() -> Self {
        ActionGate::new()
    }
}

/// The top bar's note on what this client may do.
#[component]
pub fn AccessNote(info: SessionInfo) -> impl IntoView {
    let location = use_location();
    let here = move || return_path(&location.pathname.get(), &location.search.get());
    if info.signed_in {
        return view! {
            <span class="signed-in" id=ACCESS_NOTE_ID data-testid="signed-in">
                "Signed in as " <strong>{ADMIN}</strong>
            </span>
            <form class="sign-out" method="POST" action="/logout">
                <input type="hidden" name="next" value=move || here().unwrap_or_default() />
                <button type="submit" class="link">"Sign out"</button>
            </form>
        }
        .into_any();
    }
    let Some(text) = read_only_text(&info) else {
        return ().into_any();
    };
    if info.can_sign_in {
        view! {
            <span class="read-only" role="status" id=ACCESS_NOTE_ID data-testid="read-only">
                "Read-only: "
                <a href=move || login_href(here())>"sign in"</a>
                " to register or evict"
            </span>
        }
        .into_any()
    } else {
        view! {
            <span class="read-only" role="status" id=ACCESS_NOTE_ID data-testid="read-only">
                {text}
            </span>
        }
        .into_any()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(can_write: bool, can_sign_in: bool, reason: Option<&str>) -> SessionInfo {
        SessionInfo {
            can_write,
            reason: reason.map(str::to_string),
            signed_in: false,
            can_sign_in,
            registry: "memory".into(),
            notice: None,
        }
    }

    #[test]
    fn plain_words_for_each_case() {
        assert_eq!(read_only_text(&info(true, false, None)), None);
        assert_eq!(
            read_only_text(&info(false, true, Some("log in, or send Authorization"))).unwrap(),
            "Read-only: sign in to register or evict"
        );
        assert_eq!(
            read_only_text(&info(
                false,
                false,
                Some("read-only: this console listens on 0.0.0.0:3000 (beyond loopback) and no --admin-token is set")
            ))
            .unwrap(),
            "Read-only: this console listens on 0.0.0.0:3000 (beyond loopback) and no --admin-token is set"
        );
    }

    #[test]
    fn sign_in_returns_to_this_page() {
        assert_eq!(
            login_href(return_path("/services/go.micro.srv.greeter", "")),
            "/login?next=%2Fservices%2Fgo.micro.srv.greeter"
        );
        assert_eq!(
            login_href(return_path("/", "q=greeter&sort=name")),
            "/login?next=%2F%3Fq%3Dgreeter%26sort%3Dname"
        );
        assert_eq!(login_href(return_path("/login", "next=%2Fstats")), "/login");
    }
}
