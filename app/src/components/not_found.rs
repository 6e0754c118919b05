//! The framed "not found" page: what was asked for, up to three registered service names
//! that look like it (a mistyped or half-remembered name is the usual way to get here), and
//! the way back. Served with HTTP 404 so scripts and crawlers see the miss too.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::pages::url::urlencode;

/// Suggestions shown at most.
const MAX_SUGGESTIONS: usize = 3;

/// The not-found page for `wanted` (a service name, or the last part of an unknown path).
#[component]
pub fn NotFound(
    /// What the page was asked for.
    #[prop(into)]
    wanted: Signal<String>,
    /// What was not found, in a sentence.
    #[prop(into)]
    message: String,
) -> impl IntoView {
    set_status_not_found();
    let suggestions = Resource::new(move || wanted.get(), suggest_services);
    view! {
        <section class="not-found" data-testid="not-found">
            <h1>"Not found"</h1>
            <p>{message}</p>
            <Suspense>
                {move || {
                    suggestions.get().and_then(Result::ok).filter(|names| !names.is_empty()).map(
                        |names| {
                            view! {
                                <nav aria-labelledby="did-you-mean" data-testid="suggestions">
                                    <h2 id="did-you-mean">"Did you mean"</h2>
                                    <ul>
                                        {names
                                            .into_iter()
                                            .map(|name| {
                                                let href = format!("/services/{}", urlencode(&name));
                                                view! { <li><A href=href>{name}</A></li> }
                                            })
                                            .collect_view()}
                                    </ul>
                                </nav>
                            }
                        },
                    )
                }}
            </Suspense>
            <p>
                <A href="/">"← Back to all services"</A>
            </p>
        </section>
    }
}

/// Marks the server's response as a 404 (a no-op in the browser). Takes effect when called
/// while the page's first chunk renders, not inside a `Suspense`.
pub fn set_status_not_found() {
    #[cfg(feature = "ssr")]
    if let Some(options) = use_context::<leptos_axum::ResponseOptions>() {
        options.set_status(http::StatusCode::NOT_FOUND);
    }
}

/// The registered service names most like `wanted`, best first.
#[server(prefix = "/rpc", output = crate::codec::JsonOut)]
pub async fn suggest_services(wanted: String) -> Result<Vec<String>, ServerFnError> {
    let console = expect_context::<crate::console::SharedConsole>();
    let (_, services) = console.snapshot();
    let names: std::collections::BTreeSet<String> =
        services.into_iter().map(|service| service.name).collect();
    Ok(similar(names.iter().map(String::as_str), &wanted))
}

/// Up to [`MAX_SUGGESTIONS`] of `names` close to `wanted`, case-insensitively: names that
/// start with it (or that it starts with) first, then names a few edits away, nearest first.
pub fn similar<'a>(names: impl IntoIterator<Item = &'a str>, wanted: &str) -> Vec<String> {
    let wanted = wanted.trim().to_lowercase();
    if wanted.is_empty() {
        return Vec::new();
    }
    // About one typo per six characters, and at least one: looser budgets suggest names
    // that merely share a prefix (`go.micro.srv.user` for `go.micro.srv.ordr`).
    let budget = (wanted.chars().count() / 6).max(1);
    let mut scored: Vec<(usize, &str)> = names
        .into_iter()
        .filter_map(|name| {
            let lower = name.to_lowercase();
            if lower == wanted {
                return None;
            }
            if lower.starts_with(&wanted) || wanted.starts_with(&lower) {
                return Some((0, name));
            }
            let distance = edit_distance(&lower, &wanted);
            (distance <= budget).then_some((distance, name))
        })
        .collect();
    scored.sort();
    scored
        .into_iter()
        .take(MAX_SUGGESTIONS)
        .map(|(_, name)| name.to_string())
        .collect()
}

/// Levenshtein distance (insertions, deletions, substitutions) between two strings.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, a_char) in a.chars().enumerate() {
        current[0] = i + 1;
        for (j, b_char) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(a_char != *b_char);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: [&str; 5] = [
        "go.micro.srv.order",
        "go.micro.srv.orders-archive",
        "go.micro.srv.user",
        "go.micro.api.gateway",
        "billing",
    ];

    #[test]
    fn a_typo_finds_the_name() {
        assert_eq!(similar(NAMES, "go.micro.srv.ordr")[0], "go.micro.srv.order");
        assert_eq!(similar(NAMES, "BILLNG"), ["billing"]);
        assert_eq!(similar(NAMES, "go.micro.srv.ordr"), ["go.micro.srv.order"]);
    }

    #[test]
    fn a_prefix_finds_the_names_it_starts_and_no_more_than_three() {
        let found = similar(NAMES, "go.micro");
        assert_eq!(found.len(), 3);
        assert!(found.iter().all(|name| name.starts_with("go.micro")));
    }

    #[test]
    fn nothing_alike_suggests_nothing() {
        assert!(similar(NAMES, "payments").is_empty());
        assert!(similar(NAMES, "").is_empty());
        assert!(similar(NAMES, "billing").is_empty(), "not the name itself");
    }

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("same", "same"), 0);
    }
}
