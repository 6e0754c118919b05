//! The service page's endpoints: each distinct endpoint once for all versions (a badge names
//! the versions that have it when they differ), handlers apart from subscribers, and a
//! side-by-side comparison of two versions.
//!
//! Cards are keyed by name and content ([`EndpointGroup::key`]): a card, its open schema trees
//! and its Call panel stay while nodes and versions come and go; only the badge and the Call
//! panel's node picker follow them.

use leptos::prelude::*;

use crate::components::call_panel::CallPanel;
use crate::components::json_text::{ordered_example, pretty};
use crate::components::schema::SchemaTree;
use crate::endpoints::{compare, group_endpoints, subscriber_topic, Change, EndpointGroup};
use crate::pages::url::urlencode;
use crate::wire::ServiceView;
use muster_registry::{Endpoint, Value};

/// A card's identity: see [`EndpointGroup::key`].
type CardKey = (String, String);

/// Handlers, then subscribers, with the comparison when there are two versions or more.
#[component]
pub fn EndpointList(name: Memo<String>, versions: Memo<Vec<ServiceView>>) -> impl IntoView {
    let groups = Memo::new(move |_| {
        versions.with(|versions| {
            group_endpoints(
                versions
                    .iter()
                    .map(|service| (service.version.as_str(), &service.endpoints[..])),
            )
        })
    });
    let keys = move |subscribers: bool| {
        Memo::new(move |_| {
            groups.with(|groups| {
                groups
                    .iter()
                    .filter(|group| subscriber_topic(&group.endpoint).is_some() == subscribers)
                    .map(EndpointGroup::key)
                    .collect::<Vec<_>>()
            })
        })
    };
    let (handlers, subscribers) = (keys(false), keys(true));
    let distinct_names = move |keys: Memo<Vec<CardKey>>| {
        keys.with(|keys| {
            let mut names: Vec<&str> = keys.iter().map(|(name, _)| name.as_str()).collect();
            names.dedup();
            names.len()
        })
    };
    let disagreements = move || {
        versions.with(|versions| {
            versions
                .iter()
                .filter_map(|service| {
                    let from = service.endpoints_from.clone()?;
                    let odd: Vec<&str> = service
                        .endpoint_outliers
                        .iter()
                        .map(|outlier| outlier.node.as_str())
                        .collect();
                    Some(format!(
                        "Version {}: the nodes' records disagree: these schemas are node {from}'s \
                         (as most nodes have them); {} differ{} (flagged in the table).",
                        service.version,
                        odd.join(", "),
                        if odd.len() == 1 { "s" } else { "" }
                    ))
                })
                .map(|text| view! { <p class="hint endpoints-source">{text}</p> })
                .collect_view()
        })
    };
    let several_versions = move || versions.with(|versions| versions.len() > 1);
    let card = move |key: CardKey, subscriber: bool| {
        view! { <EndpointCard name versions groups key subscriber /> }
    };
    view! {
        <section class="endpoints" aria-labelledby="endpoints">
            <h2 id="endpoints" tabindex="-1">
                {move || format!("Endpoints ({})", distinct_names(handlers))}
            </h2>
            {disagreements}
            <Show when=several_versions>
                <CompareVersions versions />
            </Show>
            <Show when=move || handlers.with(Vec::is_empty)>
                <p class="empty">"No endpoints registered."</p>
            </Show>
            <For each=move || handlers.get() key=Clone::clone let:key>
                {card(key, false)}
            </For>
        </section>
        <Show when=move || !subscribers.with(Vec::is_empty)>
            <section class="subscribers" aria-labelledby="subscribers">
                <h2 id="subscribers" tabindex="-1">
                    {move || format!("Subscribers ({})", distinct_names(subscribers))}
                </h2>
                <For each=move || subscribers.get() key=Clone::clone let:key>
                    {card(key, true)}
                </For>
            </section>
        </Show>
    }
    .into_any()
}

/// One distinct endpoint: its versions (when not all have it), metadata or topic, request and
/// response trees with example JSON, and (for a handler) the Call panel.
#[component]
fn EndpointCard(
    name: Memo<String>,
    versions: Memo<Vec<ServiceView>>,
    groups: Memo<Vec<EndpointGroup>>,
    key: CardKey,
    subscriber: bool,
) -> impl IntoView {
    // The card's content is its key's: only the versions holding it change.
    let held_by = {
        let key = key.clone();
        Memo::new(move |_| {
            groups.with(|groups| {
                groups
                    .iter()
                    .find(|group| group.key() == key)
                    .map(|group| group.versions.clone())
                    .unwrap_or_default()
            })
        })
    };
    let endpoint: Endpoint = groups.with_untracked(|groups| {
        groups
            .iter()
            .find(|group| group.key() == key)
            .map(|group| group.endpoint.clone())
            .unwrap_or_default()
    });
    let all_versions = Memo::new(move |_| {
        versions.with(|versions| {
            versions
                .iter()
                .map(|service| service.version.clone())
                .collect::<Vec<_>>()
        })
    });
    let badge = move || {
        let held = held_by.get();
        let differ = all_versions.with(|all| all.len() > 1 && *all != held);
        differ.then(|| {
            view! {
                <span
                    class="versions-badge"
                    title="Only these versions register this endpoint with this schema"
                >
                    {format!("only {}", held.join(", "))}
                </span>
            }
        })
    };
    // The Call panels' node picker: the live nodes of the versions that have this endpoint.
    let nodes = Memo::new(move |_| {
        held_by.with(|held| {
            versions.with(|versions| {
                versions
                    .iter()
                    .filter(|service| held.contains(&service.version))
                    .flat_map(|service| service.nodes.iter())
                    .filter(|node| !node.state.is_tombstone())
                    .map(|node| node.node.id.clone())
                    .collect::<Vec<_>>()
            })
        })
    });
    let newest = held_by.get_untracked().first().cloned().unwrap_or_default();
    let id = format!("endpoint-{newest}-{}", endpoint.name);
    let anchor = urlencode(&id);
    let topic = subscriber_topic(&endpoint).map(str::to_string);
    let metadata = endpoint
        .metadata
        .iter()
        .filter(|(key, _)| !(topic.is_some() && (*key == "subscriber" || *key == "topic")))
        .map(|(key, value)| format!("{key}={value}"))
        .collect::<Vec<_>>()
        .join(", ");
    // Erased: the card's view type with the panel's inside it is deeper than the server
    // crate's type-layout limit.
    let call = (!subscriber).then(|| {
        view! {
            <CallPanel
                service=name.get_untracked()
                endpoint=endpoint.name.clone()
                request=endpoint.request.clone()
                nodes=nodes
            />
        }
        .into_any()
    });
    let title = endpoint.name.clone();
    view! {
        <article class="endpoint" data-endpoint=endpoint.name.clone() id=id>
            <h3>
                <span class="name">{endpoint.name.clone()}</span>
                " "
                {badge}
                " "
                <a class="anchor" href=format!("#{anchor}") aria-label="Link to this endpoint">
                    "#"
                </a>
            </h3>
            {topic
                .map(|topic| {
                    view! {
                        <p class="topic">"Topic " <span class="name">{topic}</span></p>
                    }
                })}
            {(!metadata.is_empty()).then(|| view! { <p class="muted">{metadata}</p> })}
            <div class="schemas">
                {if subscriber {
                    schema_part("Message", &title, endpoint.request.clone())
                } else {
                    view! {
                        {schema_part("Request", &title, endpoint.request.clone())}
                        {schema_part("Response", &title, endpoint.response.clone())}
                    }
                    .into_any()
                }}
            </div>
            {call}
        </article>
    }
    .into_any()
}

/// One schema of a card: its tree and its example JSON (in field order), or "none".
fn schema_part(title: &'static str, endpoint: &str, value: Option<Value>) -> AnyView {
    match value {
        None => view! {
            <div class="schema-part">
                <h4>{title}</h4>
                <p class="muted">"none"</p>
            </div>
        }
        .into_any(),
        Some(value) => {
            let example = pretty(&ordered_example(&value));
            let label = format!("{title} of {endpoint}");
            view! {
                <div class="schema-part">
                    <h4>{title}</h4>
                    <SchemaTree value label />
                    <CopyExample example />
                </div>
            }
            .into_any()
        }
    }
}

/// Example JSON for a schema, with a button that copies it to the clipboard.
#[component]
fn CopyExample(example: String) -> impl IntoView {
    let (copied, set_copied) = signal(false);
    let text = example.clone();
    view! {
        <details class="example">
            <summary>"Example JSON"</summary>
            <pre>{example}</pre>
            <button
                type="button"
                on:click=move |_| {
                    let clipboard = window().navigator().clipboard();
                    let _ = clipboard.write_text(&crate::escape::escape_json_controls(&text));
                    set_copied.set(true);
                }
            >
                {move || if copied.get() { "Copied" } else { "Copy example JSON" }}
            </button>
        </details>
    }
    .into_any()
}

/// Two versions' endpoints side by side: what the right one added, removed or changed.
#[component]
fn CompareVersions(versions: Memo<Vec<ServiceView>>) -> impl IntoView {
    let names = Memo::new(move |_| {
        versions.with(|versions| {
            versions
                .iter()
                .map(|service| service.version.clone())
                .collect::<Vec<_>>()
        })
    });
    // What the operator chose; until then (or when a chosen version leaves) the two newest,
    // older on the left.
    let chosen_left = RwSignal::new(None::<String>);
    let chosen_right = RwSignal::new(None::<String>);
    let side = move |chosen: RwSignal<Option<String>>, fallback: usize| {
        Memo::new(move |_| {
            names.with(|names| {
                chosen
                    .get()
                    .filter(|version| names.contains(version))
                    .or_else(|| names.get(fallback).cloned())
                    .unwrap_or_default()
            })
        })
    };
    let (left, right) = (side(chosen_left, 1), side(chosen_right, 0));
    let changes = Memo::new(move |_| {
        let endpoints = |version: &str| {
            versions.with(|versions| {
                versions
                    .iter()
                    .find(|service| service.version == version)
                    .map(|service| service.endpoints.clone())
                    .unwrap_or_default()
            })
        };
        compare(&endpoints(&left.get()), &endpoints(&right.get()))
    });
    let picker = move |label: &'static str,
                       class: &'static str,
                       chosen: RwSignal<Option<String>>,
                       shown: Memo<String>| {
        view! {
            <label>
                {label}
                " "
                <select
                    class=class
                    on:change=move |event| chosen.set(Some(event_target_value(&event)))
                    prop:value=move || shown.get()
                >
                    <For each=move || names.get() key=Clone::clone let:version>
                        <option value=version.clone() selected=move || shown.get() == version>
                            {version.clone()}
                        </option>
                    </For>
                </select>
            </label>
        }
    };
    view! {
        <details class="compare">
            <summary>"Compare two versions"</summary>
            <p class="compare-pickers">
                {picker("Compare", "compare-left", chosen_left, left)}
                " "
                {picker("with", "compare-right", chosen_right, right)}
            </p>
            <table class="compare-table">
                <thead>
                    <tr>
                        <th scope="col">"Endpoint"</th>
                        <th scope="col">{move || left.get()}</th>
                        <th scope="col">{move || right.get()}</th>
                        <th scope="col">"Change"</th>
                    </tr>
                </thead>
                <tbody>
                    {move || {
                        changes
                            .get()
                            .into_iter()
                            .map(|change| {
                                let what = change.change.as_str();
                                let detail = differences(&change.left, &change.right);
                                view! {
                                    <tr data-compare=change.name.clone() data-change=what>
                                        <td class="name">{change.name.clone()}</td>
                                        <td class="name">{signature(&change.left)}</td>
                                        <td class="name">{signature(&change.right)}</td>
                                        <td class=format!("change change-{what}")>
                                            {match change.change {
                                                Change::Changed => format!("changed: {detail}"),
                                                _ => what.to_string(),
                                            }}
                                        </td>
                                    </tr>
                                }
                            })
                            .collect_view()
                    }}
                </tbody>
            </table>
        </details>
    }
    .into_any()
}

/// `Request → Response` by type, or "—" where the version has no such endpoint.
fn signature(endpoint: &Option<Endpoint>) -> String {
    let Some(endpoint) = endpoint else {
        return "—".to_string();
    };
    let type_of = |value: &Option<Value>| {
        value
            .as_ref()
            .map_or("none".to_string(), |value| value.r#type.clone())
    };
    format!(
        "{} → {}",
        type_of(&endpoint.request),
        type_of(&endpoint.response)
    )
}

/// Which parts of a changed endpoint differ: "request", "response", "metadata".
fn differences(left: &Option<Endpoint>, right: &Option<Endpoint>) -> String {
    let (Some(left), Some(right)) = (left, right) else {
        return String::new();
    };
    [
        (left.request != right.request, "request"),
        (left.response != right.response, "response"),
        (left.metadata != right.metadata, "metadata"),
    ]
    .into_iter()
    .filter_map(|(differs, part)| differs.then_some(part))
    .collect::<Vec<_>>()
    .join(", ")
}
