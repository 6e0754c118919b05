//! Sign-in for consoles started with an admin token. A plain HTML form, so it works without
//! the wasm bundle: the server checks the token, sets an HttpOnly, SameSite=Strict session
//! cookie and redirects to `next`; a wrong token comes back here with `?error=`.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// The page for `/login`.
#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let error = move || query.with(|query| query.get("error"));
    let next = move || {
        query
            .with(|query| query.get("next"))
            .unwrap_or_else(|| "/".into())
    };
    view! {
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
                <input type="hidden" name="next" prop:value=next />
                <button type="submit">"Sign in"</button>
            </form>
        </section>
    }
}
