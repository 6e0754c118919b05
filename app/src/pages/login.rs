//! Sign-in for consoles started with an admin token. A plain HTML form, so it works without
//! the wasm bundle: the server checks the token, sets an HttpOnly, SameSite=Strict session
//! cookie and redirects to `next`; a wrong token comes back here with `?error=`. `next` is
//! only ever a path on this console ([`same_origin_path`], the rule the server applies too).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// `next` when it is a path on this console, else `None`.
///
/// Browsers read `//host` and `/\host` as another site, and drop tabs, CR and LF anywhere in
/// a URL (so `/<TAB>/host` is `//host` too); a CR or LF would also break the `Location`
/// header. So: one leading `/`, then visible ASCII only, no `\`, and no second `/` at the
/// start. Non-ASCII paths arrive percent-encoded from the browser anyway.
pub fn same_origin_path(next: &str) -> Option<&str> {
    let rest = next.strip_prefix('/')?;
    let safe = !rest.starts_with('/') && next.chars().all(|c| c.is_ascii_graphic() && c != '\\');
    safe.then_some(next)
}

/// The page for `/login`.
#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let error = move || query.with(|query| query.get("error"));
    let next = move || {
        query
            .with(|query| query.get("next"))
            .filter(|next| same_origin_path(next).is_some())
            .unwrap_or_else(|| "/".into())
    };
    view! {
        <Title text="Sign in · Muster" />
        <section class="login">
            <h1>"Sign in"</h1>
            <p class="muted">
                "Changes on this console need the admin token it was started with (--admin-token or MUSTER_ADMIN_TOKEN)."
            </p>
            <form method="POST" action="/login">
                <label for="login-token">"Admin token"</label>
                <input
                    id="login-token"
                    name="token"
                    type="password"
                    required
                    autocomplete="current-password"
                    aria-describedby="login-error"
                />
                {move || {
                    error()
                        .map(|message| {
                            view! {
                                <p class="field-error" id="login-error" role="alert">
                                    {message}
                                </p>
                            }
                        })
                }}
                <input type="hidden" name="next" value=next />
                <button type="submit">"Sign in"</button>
            </form>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::same_origin_path;

    #[test]
    fn only_paths_on_this_console() {
        for next in ["/", "/services?q=greeter", "/service/go.micro.srv.greeter"] {
            assert_eq!(same_origin_path(next), Some(next));
        }
        for next in [
            "",
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/\r\nSet-Cookie: a=b",
            "https://evil.example",
            "evil",
            "/caf\u{e9}",
            "/ /x",
        ] {
            assert_eq!(same_origin_path(next), None, "{next:?}");
        }
    }
}
