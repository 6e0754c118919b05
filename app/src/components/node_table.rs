//! The service page's one node table: every version's nodes (tombstones too), those that need
//! attention first, with a version filter kept in the URL (`?version=`).
//!
//! Rows are keyed by (version, node id) and each reads only its own node's cell in the live
//! store, so a disclosure opened in a row ("+N" metadata) or a confirmation asked from it
//! survives changes of the other rows, of other services, and the row moving as the order
//! changes; and an event about one node re-renders that node's row and nothing else (the
//! order is recomputed only when a node appears, leaves or moves: see [`crate::live::Place`]).

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::components::confirm::{NodeConfirm, NodeTarget};
use crate::components::copy_text::{CopyButton, CopyText};
use crate::components::health::HealthBadge;
use crate::components::state::StateBadge;
use crate::format::{ago, duration, utc_time};
use crate::live::{Live, VersionCell};
use crate::pages::url::urlencode;
use crate::wire::NodeView;

/// Metadata pairs shown before "+N".
const METADATA_SHOWN: usize = 2;

/// One row: its version and node id, and that node's cell (a node that left and came back
/// has a new cell, hence a new row).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Row {
    /// The node's version.
    pub version: String,
    /// The node's id.
    pub id: String,
    /// The node, as the live store keeps it.
    pub node: ArcRwSignal<NodeView>,
    /// Its version's cells (the row's endpoints flag reads the head).
    pub cell: VersionCell,
}

/// The version filter: `?version=` of the page's URL (`None`: all versions).
pub fn version_filter() -> Memo<Option<String>> {
    let query = use_query_map();
    Memo::new(move |_| {
        query
            .with(|query| query.get("version"))
            .filter(|v| !v.is_empty())
    })
}

/// The rows of `versions` (given newest first) that pass `filter`: by their
/// [`crate::live::Place`] (attention, then address with the port as a number), then version
/// newest first, then id. Tracks the versions' rows only, not their nodes.
pub fn ordered_rows(versions: &[(String, VersionCell)], filter: Option<&str>) -> Vec<Row> {
    let mut rows = Vec::new();
    for (newness, (version, cell)) in versions.iter().enumerate() {
        if filter.is_some_and(|wanted| wanted != version) {
            continue;
        }
        cell.with_rows(|slots| {
            rows.extend(slots.iter().map(|(id, slot)| {
                (
                    slot.place.clone(),
                    newness,
                    Row {
                        version: version.clone(),
                        id: id.clone(),
                        node: slot.node.clone(),
                        cell: cell.clone(),
                    },
                )
            }))
        });
    }
    rows.sort_unstable_by(|a, b| (&a.0, a.1, &a.2.id).cmp(&(&b.0, b.1, &b.2.id)));
    rows.into_iter().map(|(_, _, row)| row).collect()
}

/// The version chips and the table.
#[component]
pub fn NodeTable(name: Memo<String>, versions: Memo<Vec<(String, VersionCell)>>) -> impl IntoView {
    let filter = version_filter();
    let rows = Memo::new(move |_| {
        filter.with(|filter| versions.with(|versions| ordered_rows(versions, filter.as_deref())))
    });
    let chips = Memo::new(move |_| {
        versions.with(|versions| {
            versions
                .iter()
                .map(|(version, cell)| (version.clone(), cell.with_rows(|rows| rows.len())))
                .collect::<Vec<_>>()
        })
    });
    let total = Memo::new(move |_| chips.with(|chips| chips.iter().map(|(_, n)| n).sum::<usize>()));
    let chip_href = move |version: Option<&str>| {
        let path = format!("/services/{}", urlencode(&name.get()));
        match version {
            None => path,
            Some(version) => format!("{path}?version={}", urlencode(version)),
        }
    };
    view! {
        <h2 id="nodes">"Nodes"</h2>
        <nav class="version-filter" aria-label="Show nodes of">
            <a
                href=move || chip_href(None)
                data-noscroll=""
                class="chip"
                data-version-chip=""
                aria-current=move || filter.with(Option::is_none).then_some("true")
            >
                "All versions " <span class="count">{total}</span>
            </a>
            <For each=move || chips.get() key=Clone::clone let:chip>
                {
                    let (version, count) = chip;
                    let selected = {
                        let version = version.clone();
                        move || filter.with(|f| f.as_deref() == Some(version.as_str())).then_some("true")
                    };
                    let href = {
                        let version = version.clone();
                        move || chip_href(Some(&version))
                    };
                    let chip_name = version.clone();
                    view! {
                        <a
                            href=href
                            data-noscroll=""
                            class="chip"
                            data-version-chip=version.clone()
                            aria-current=selected
                        >
                            <span class="name">{chip_name}</span>
                            " "
                            <span class="count">{count}</span>
                        </a>
                    }
                }
            </For>
        </nav>
        <Show when=move || rows.with(Vec::is_empty)>
            <p class="empty">
                {move || match filter.get() {
                    Some(version) => format!("No nodes of version {version}."),
                    None => "No nodes.".to_string(),
                }}
            </p>
        </Show>
        <table class="node-table table-cards">
            <thead>
                <tr>
                    <th scope="col">"Node"</th>
                    <th scope="col">"Version"</th>
                    <th scope="col">"Address"</th>
                    <th scope="col">"Metadata"</th>
                    <th scope="col">"First seen"</th>
                    <th scope="col">"Last seen"</th>
                    <th scope="col">"TTL left"</th>
                    <th scope="col">"State"</th>
                    <th scope="col">"Health"</th>
                    <th scope="col">"Owner"</th>
                    <th scope="col">"Action"</th>
                </tr>
            </thead>
            <tbody>
                <For each=move || rows.get() key=Clone::clone let:row>
                    <NodeRow name row />
                </For>
            </tbody>
        </table>
    }
    .into_any()
}

/// One node's row; its cells follow that node's cell in the store, and nothing else changes
/// them (but the clock, and the version's endpoints for the flag).
#[component]
fn NodeRow(name: Memo<String>, row: Row) -> impl IntoView {
    let live = expect_context::<Live>();
    let Row {
        version,
        id,
        node,
        cell,
    } = row;
    let node: Signal<NodeView> = RwSignal::from(node).into();
    let field = move |read: fn(&NodeView) -> String| move || node.with(read);
    let ttl_left = move || match node.with(|node| node.expires_at) {
        None => "—".to_string(),
        Some(at) => {
            let now = live.now_ms.get();
            if at > now {
                duration(at - now)
            } else {
                "0 s".to_string()
            }
        }
    };
    let when = move |read: fn(&NodeView) -> u64| {
        let at = Memo::new(move |_| node.with(read));
        view! {
            <time title=move || format!("{} UTC", utc_time(at.get()))>
                {move || ago(live.now_ms.get(), at.get())}
            </time>
        }
    };
    let state = Memo::new(move |_| node.with(|node| node.state));
    let outlier = {
        let id = id.clone();
        Memo::new(move |_| {
            cell.with_head(|head| {
                head.endpoint_outliers
                    .iter()
                    .find(|outlier| outlier.node == id)
                    .map(|outlier| outlier.endpoints)
            })
        })
    };
    let address = Signal::derive(field(|node| node.node.address.clone()));
    let anchor = format!("node-{}", urlencode(&id));
    let action_version = version.clone();
    view! {
        <tr
            data-node=id.clone()
            data-version=version.clone()
            id=format!("node-{id}")
            data-state=move || state.get().as_str()
        >
            <td class="node-id" data-label="Node">
                <CopyText text=id.clone() what="node id" />
                " "
                <a class="anchor" href=format!("#{anchor}") aria-label="Link to this node">
                    "#"
                </a>
                {move || {
                    outlier
                        .get()
                        .map(|count| {
                            let text = match count {
                                0 => "its record lists no endpoints".to_string(),
                                count => format!("its record lists {count} other endpoints"),
                            };
                            view! { <span class="endpoints-differ">{text}</span> }
                        })
                }}
            </td>
            <td class="name node-version" data-label="Version">{version.clone()}</td>
            <td class="node-address" data-label="Address">
                <CopyText text=address what="address" />
            </td>
            <td class="metadata" data-label="Metadata">
                <NodeMetadata node />
            </td>
            <td data-label="First seen">{when(|node| node.first_seen)}</td>
            <td data-label="Last seen">{when(|node| node.last_seen)}</td>
            <td data-label="TTL left">{ttl_left}</td>
            <td data-label="State">
                {move || {
                    let state = state.get();
                    view! { <StateBadge state /> }
                }}
            </td>
            <td data-label="Health">
                {move || {
                    let health = node.with(|node| node.health.clone());
                    view! { <HealthBadge health /> }
                }}
            </td>
            <td data-label="Owner">
                {field(|node| if node.owned { "this console" } else { "network" }.to_string())}
            </td>
            <td data-label="Action" class="node-actions">
                <NodeAction name version=action_version node />
                <NodeCommands name address />
            </td>
        </tr>
    }
    .into_any()
}

/// A node's metadata: the first pairs, the rest behind "+N" (a disclosure the row keeps open
/// while the node changes).
#[component]
fn NodeMetadata(node: Signal<NodeView>) -> impl IntoView {
    let open = RwSignal::new(false);
    let pairs = Memo::new(move |_| {
        node.with(|node| {
            node.node
                .metadata
                .iter()
                .map(|(key, value)| format!("{key}={value}"))
                .collect::<Vec<_>>()
        })
    });
    let more = move || pairs.with(Vec::len).saturating_sub(METADATA_SHOWN);
    view! {
        {move || {
            pairs
                .get()
                .into_iter()
                .enumerate()
                .map(|(at, pair)| {
                    let hidden = move || at >= METADATA_SHOWN && !open.get();
                    view! { <span class="pair" hidden=hidden>{pair}</span> }
                })
                .collect_view()
        }}
        <Show when=move || { more() > 0 }>
            <button
                type="button"
                class="more"
                aria-expanded=move || open.get().to_string()
                on:click=move |_| open.update(|open| *open = !*open)
            >
                {move || if open.get() { "less".to_string() } else { format!("+{}", more()) }}
            </button>
        </Show>
    }
    .into_any()
}

/// Copy buttons for the commands that ask this node itself, outside the console: go-micro's
/// CLI and curl ([`crate::commands`]).
#[component]
fn NodeCommands(name: Memo<String>, address: Signal<String>) -> impl IntoView {
    let micro = Signal::derive(move || crate::commands::micro_health(&name.get(), &address.get()));
    let curl = Signal::derive(move || crate::commands::curl_health(&name.get(), &address.get()));
    view! {
        <span class="node-commands">
            <CopyButton text=micro label="micro" name="Copy as micro command" reveal=true />
            <CopyButton text=curl label="curl" name="Copy as curl" reveal=true />
        </span>
    }
}

/// Deregister (own node) or Evict (foreign node): opens the page's confirmation dialog.
/// Disabled, with the reason, while the console is unreachable or the session read-only.
#[component]
fn NodeAction(name: Memo<String>, version: String, node: Signal<NodeView>) -> impl IntoView {
    let gate = crate::components::access::ActionGate::new();
    let confirm = expect_context::<NodeConfirm>();
    let target = Memo::new(move |_| {
        node.with(|node| {
            (!node.state.is_tombstone()).then(|| NodeTarget {
                service: name.get(),
                version: version.clone(),
                node_id: node.node.id.clone(),
                owned: node.owned,
            })
        })
    });
    move || match target.get() {
        None => view! { <span class="muted">"removed"</span> }.into_any(),
        Some(target) => {
            let owned = target.owned;
            view! {
                <button
                    type="button"
                    class=if owned { "danger" } else { "warn" }
                    aria-haspopup="dialog"
                    title=move || gate.reason()
                    aria-describedby=move || gate.described_by()
                    disabled=move || gate.reason().is_some()
                    on:click=move |event| {
                        let trigger = event_target::<web_sys::HtmlElement>(&event);
                        confirm.ask(target.clone(), Some(trigger));
                    }
                >
                    {if owned { "Deregister" } else { "Evict" }}
                </button>
            }
            .into_any()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpc::{HealthState, NodeHealth};
    use crate::wire::{NodeState, ServiceView};
    use muster_registry::Node;

    fn node(id: &str, address: &str, state: NodeState, health: Option<HealthState>) -> NodeView {
        NodeView {
            node: Node {
                id: id.into(),
                address: address.into(),
                metadata: Default::default(),
            },
            first_seen: 1,
            last_seen: 1,
            expires_at: None,
            state,
            owned: false,
            health: health.map(|state| NodeHealth {
                state,
                checked_at: 1,
                latency_ms: None,
                detail: String::new(),
            }),
        }
    }

    fn version(version: &str, mut nodes: Vec<NodeView>) -> (String, VersionCell) {
        nodes.sort_by(|a, b| a.node.id.cmp(&b.node.id));
        let service = ServiceView {
            name: "svc".into(),
            version: version.into(),
            nodes,
            ..ServiceView::default()
        };
        (version.to_string(), VersionCell::of(&service))
    }

    #[test]
    fn nodes_needing_attention_come_first_then_by_address() {
        use NodeState::*;
        let versions = [
            version(
                "2.0.0",
                vec![
                    node("a", "10.0.0.1:9000", Alive, Some(HealthState::Healthy)),
                    node("b", "10.0.0.1:8000", Deregistered, None),
                    node("c", "10.0.0.2:80", Alive, Some(HealthState::Unreachable)),
                ],
            ),
            version(
                "1.0.0",
                vec![
                    node("d", "10.0.0.1:19000", Stale, None),
                    node("e", "10.0.0.1:9000", Alive, None),
                    node("f", "10.0.0.1:1", Alive, Some(HealthState::Failing)),
                ],
            ),
        ];
        let ids: Vec<String> = ordered_rows(&versions, None)
            .into_iter()
            .map(|row| row.id)
            .collect();
        assert_eq!(ids, ["f", "d", "c", "a", "e", "b"]);
        let only_old = ordered_rows(&versions, Some("1.0.0"));
        assert!(only_old.iter().all(|row| row.version == "1.0.0"));
        assert_eq!(only_old.len(), 3);
        assert!(ordered_rows(&versions, Some("9.9.9")).is_empty());
    }
}
