//! Sign-in for consoles that listen beyond loopback with an admin token. A plain HTML form:
//! the server checks the token and sets an HttpOnly, SameSite=Strict session cookie.

use leptos::prelude::*;

/// The page for `/login`.
#[component]
pub fn LoginPage() -> impl IntoView {
    view! {
        <section class="login">
            <h1>"Sign in"</h1>
            <p class="muted">
                "This console listens beyond loopback, so changes need the admin token it was started with (--admin-token or MUSTER_ADMIN_TOKEN)."
            </p>
            <form method="POST" action="/login">
                <label for="login-token">"Admin token"</label>
                <input id="login-token" name="token" type="password" required autocomplete="current-password" />
                <button type="submit">"Sign in"</button>
            </form>
        </section>
    }
}
