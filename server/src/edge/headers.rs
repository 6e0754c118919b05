//! The security headers of every answer.
//!
//! - `Content-Security-Policy`: pages get [`page_policy`] with the nonce leptos puts on its
//!   inline hydration script (a fresh one per page), so an injected `<script>` does not run;
//!   every other answer (JSON, static files, errors) gets [`OTHER_POLICY`], which allows
//!   nothing. Both carry `frame-ancestors 'none'`: no other site can frame the console and
//!   trick a click on Evict.
//! - `X-Frame-Options: DENY`, for browsers that predate `frame-ancestors`.
//! - `X-Content-Type-Options: nosniff`: a JSON body is never run as a script or page.
//! - `Referrer-Policy: same-origin`: console URLs (service names, filters) stay on the console.
//! - `Strict-Transport-Security` over HTTPS: the browser comes back over HTTPS only, so a
//!   network attacker cannot downgrade the next visit to plain HTTP and read the session.

use axum::http::{header, HeaderMap, HeaderValue};

/// The policy of answers that are not pages.
pub const OTHER_POLICY: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

/// HSTS: one year. No `includeSubDomains`: the console does not speak for its domain's other
/// hosts.
const HSTS: &str = "max-age=31536000";

/// The policy of a page whose inline script carries `nonce`: scripts, the wasm bundle, styles
/// and the websockets from the console itself, inline script only with the nonce
/// (`'wasm-unsafe-eval'` is what compiling the bundle needs), forms only to the console.
pub fn page_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'nonce-{nonce}'; img-src 'self' data:; connect-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// Adds the security headers to an answer (keeping a page's own policy); HSTS when `https`.
pub fn secure(headers: &mut HeaderMap, https: bool) {
    headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(OTHER_POLICY));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
}
