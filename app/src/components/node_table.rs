//! The service page's one node table: every version's nodes (tombstones too), those that need
//! attention first, with a version filter kept in the URL (`?version=`).
//!
//! Rows are keyed by (version, node id) and each follows only its own node, so a disclosure
//! opened in a row ("+N" metadata) or a confirmation asked from it survives changes of the
//! other rows, of other services, and the row moving as the order changes.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::components::confirm::{NodeConfirm, NodeTarget};
use crate::components::copy_text::{CopyButton, CopyText};
use crate::components::health::HealthBadge;
use crate::components::state::StateBadge;
use crate::format::{ago, duration, utc_time};
use crate::live::Live;
use crate::pages::url::urlencode;
use crate::rpc::HealthState;
use crate::wire::{NodeState, NodeView, ServiceView};

/// Metadata pairs shown before "+N".
const METADATA_SHOWN: usize = 2;

/// A row's identity: (version, node id).
pub type RowKey = (String, String);

/// The version filter: `?version=` of the page's URL (`None`: all versions).
pub fn version_filter() -> Memo<Option<String>> {
    let query = use_query_map();
    Memo::new(move |_| {
        query
            .with(|query| query.get("version"))
            .filter(|v| !v.is_empty())
    })
}

/// How urgently a node wants an operator's eye: 0 for a stale node or one whose health check
/// fails or cannot reach it, 1 for the others alive, 2 for tombstones.
pub fn attention(node: &NodeView) -> u8 {
    let unhealthy = matches!(
        node.health.as_ref().map(|health| health.state),
        Some(HealthState::Failing | HealthState::Unreachable)
    );
    match node.state {
        state if state.is_tombstone() => 2,
        NodeState::Stale => 0,
        _ if unhealthy => 0,
        _ => 1,
    }
}

/// The rows of `versions` (given newest first) that pass `filter`: by [`attention`], then
/// address (the port as a number), then version newest first, then id.
pub fn ordered_rows(versions: &[ServiceView], filter: Option<&str>) -> Vec<RowKey> {
    let mut rows: Vec<RowOrder> = versions
        .iter()
        .enumerate()
        .filter(|(_, service)| filter.is_none_or(|wanted| service.version == wanted))
        .flat_map(|(newness, service)| {
            service.nodes.iter().map(move |node| {
                (
                    attention(node),
                    address_order(&node.node.address),
                    newness,
                    node.node.id.as_str(),
                    service.version.as_str(),
                )
            })
        })
        .collect();
    rows.sort_unstable();
    rows.into_iter()
        .map(|(_, _, _, id, version)| (version.to_string(), id.to_string()))
        .collect()
}

/// A row's place: attention, address, version (0 the newest), id; then its version's name.
type RowOrder<'a> = (u8, (&'a str, u32), usize, &'a str, &'a str);

/// `host:port` ordered by host, then port as a number (`:9000` before `:19000`).
fn address_order(address: &str) -> (&str, u32) {
    match address.rsplit_once(':') {
        Some((host, port)) => match port.parse() {
            Ok(port) => (host, port),
            Err(_) => (address, 0),
        },
        None => (address, 0),
    }
}

/// The version chips and the table.
#[component]
pub fn NodeTable(name: Memo<String>, versions: Memo<Vec<ServiceView>>) -> impl IntoView {
    let filter = version_filter();
    let rows = Memo::new(move |_| {
        filter.with(|filter| versions.with(|versions| ordered_rows(versions, filter.as_deref())))
    });
    let chips = Memo::new(move |_| {
        versions.with(|versions| {
            versions
                .iter()
                .map(|service| (service.version.clone(), service.nodes.len()))
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
                    <NodeRow name versions row />
                </For>
            </tbody>
        </table>
    }
    .into_any()
}

/// One node's row; its cells follow that node only.
#[component]
fn NodeRow(name: Memo<String>, versions: Memo<Vec<ServiceView>>, row: RowKey) -> impl IntoView {
    let live = expect_context::<Live>();
    let (version, id) = row;
    // Read in place, not cloned per row: a change of a large service costs each row a lookup.
    let node = {
        let (version, id) = (version.clone(), id.clone());
        // Nodes come sorted by id (the server's view and `apply_event` keep them so).
        Memo::new(move |_| {
            versions.with(|versions| {
                let nodes = &versions.iter().find(|s| s.version == version)?.nodes;
                nodes
                    .binary_search_by(|node| node.node.id.as_str().cmp(&id))
                    .ok()
                    .map(|at| nodes[at].clone())
            })
        })
    };
    let field = move |read: fn(&NodeView) -> String| {
        move || node.with(|node| node.as_ref().map(read).unwrap_or_default())
    };
    let ttl_left = move || match node.with(|node| node.as_ref().and_then(|node| node.expires_at)) {
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
        let at = Memo::new(move |_| node.with(|node| node.as_ref().map(read).unwrap_or(0)));
        view! {
            <time title=move || format!("{} UTC", utc_time(at.get()))>
                {move || ago(live.now_ms.get(), at.get())}
            </time>
        }
    };
    let state = Memo::new(move |_| node.with(|node| node.as_ref().map(|node| node.state)));
    let outlier = {
        let (version, id) = (version.clone(), id.clone());
        Memo::new(move |_| {
            versions.with(|versions| {
                versions
                    .iter()
                    .find(|service| service.version == version)?
                    .endpoint_outliers
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
            data-state=move || state.get().map(|state| state.as_str()).unwrap_or_default()
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
            <td data-label="State">{move || state.get().map(|state| view! { <StateBadge state /> })}</td>
            <td data-label="Health">
                {move || {
                    let health = node.with(|node| node.as_ref().and_then(|node| node.health.clone()));
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
fn NodeMetadata(node: Memo<Option<NodeView>>) -> impl IntoView {
    let open = RwSignal::new(false);
    let pairs = Memo::new(move |_| {
        node.with(|node| {
            node.iter()
                .flat_map(|node| node.node.metadata.iter())
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
fn NodeAction(name: Memo<String>, version: String, node: Memo<Option<NodeView>>) -> impl IntoView {
    let gate = crate::components::access::ActionGate::new();
    let confirm = expect_context::<NodeConfirm>();
    let target = Memo::new(move |_| {
        node.with(|node| {
            node.as_ref()
                .filter(|node| !node.state.is_tombstone())
                .map(|node| NodeTarget {
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
    use crate::rpc::NodeHealth;
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

    fn version(version: &str, mut nodes: Vec<NodeView>) -> ServiceView {
        nodes.sort_by(|a, b| a.node.id.cmp(&b.node.id));
        ServiceView {
            name: "svc".into(),
            version: version.into(),
            nodes,
            ..ServiceView::default()
        }
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
            .map(|(_, id)| id)
            .collect();
        assert_eq!(ids, ["f", "d", "c", "a", "e", "b"]);
        let only_old: Vec<RowKey> = ordered_rows(&versions, Some("1.0.0"));
        assert!(only_old.iter().all(|(version, _)| version == "1.0.0"));
        assert_eq!(only_old.len(), 3);
        assert!(ordered_rows(&versions, Some("9.9.9")).is_empty());
    }
}
