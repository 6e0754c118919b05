//! "Evict all stale nodes": one button (for one service, or for every service), one modal
//! confirmation listing exactly what will be evicted — service, version, node id, address —
//! and one request with that list. The server evicts the listed nodes still stale when it
//! gets it and keeps the others (one that recovered meanwhile), and the outcome says which.
//!
//! The list is taken when the dialog opens and does not follow the live view: what the operator
//! reads is what is sent.

use leptos::html;
use leptos::prelude::*;

use crate::bulk::{stale_nodes, BulkEvictRequest, BulkEvictResponse, ListedNode};
use crate::live::Live;

/// The button, its dialog and the outcome. `service`: that service's stale nodes; `None`:
/// every service's.
#[component]
pub fn BulkEvict(#[prop(optional, into)] service: Option<Signal<String>>) -> impl IntoView {
    let live = expect_context::<Live>();
    let session = expect_context::<crate::Session>();
    let stale_now = move || {
        live.with_services(|map| match service {
            Some(name) => {
                let name = name.get();
                stale_nodes(map.values().filter(|version| version.name == name))
            }
            None => stale_nodes(map.values()),
        })
        .unwrap_or_default()
    };
    let listed = RwSignal::new(Vec::<ListedNode>::new());
    let outcome = RwSignal::new(None::<Result<BulkEvictResponse, String>>);
    let dialog = NodeRef::<html::Dialog>::new();
    let unavailable = move || live.connection.get().unavailable_reason();
    let count = Memo::new(move |_| stale_now().len());
    let label = if service.is_some() {
        "Evict all stale nodes of this service"
    } else {
        "Evict all stale nodes"
    };
    let open = move |_| {
        listed.set(stale_now());
        outcome.set(None);
        if let Some(dialog) = dialog.get_untracked() {
            let _ = dialog.show_modal();
        }
    };
    let send = Action::new_local(|nodes: &Vec<ListedNode>| {
        let body = serde_json::to_string(&BulkEvictRequest {
            nodes: nodes.clone(),
        })
        .unwrap_or_default();
        async move {
            let (status, text) = crate::browser::post_json("/api/evict-stale", &body).await?;
            if status == 200 {
                serde_json::from_str::<BulkEvictResponse>(&text).map_err(|e| e.to_string())
            } else {
                Err(serde_json::from_str::<crate::wire::ApiError>(&text)
                    .map(|error| error.error)
                    .unwrap_or(text))
            }
        }
    });
    Effect::new(move |_| {
        if let Some(result) = send.value().get() {
            outcome.set(Some(result));
        }
    });
    let confirm = move |_| {
        send.dispatch(listed.get_untracked());
        if let Some(dialog) = dialog.get_untracked() {
            dialog.close();
        }
    };
    let cancel = move |_| {
        if let Some(dialog) = dialog.get_untracked() {
            dialog.close();
        }
    };
    view! {
        <span class="bulk-evict">
            <button
                type="button"
                class="warn"
                aria-haspopup="dialog"
                title=move || {
                    unavailable()
                        .or_else(|| (!session.can_write()).then(|| "Read-only: sign in to evict".into()))
                        .or_else(|| (count.get() == 0).then(|| "No stale node".into()))
                        .unwrap_or_default()
                }
                disabled=move || !session.can_write() || unavailable().is_some() || count.get() == 0
                on:click=open
            >
                {label}
                {move || format!(" ({})", count.get())}
            </button>
            <dialog node_ref=dialog class="confirm bulk" aria-labelledby="bulk-title">
                <h2 id="bulk-title">
                    {move || {
                        let n = listed.with(Vec::len);
                        format!("Evict {n} stale node{}?", if n == 1 { "" } else { "s" })
                    }}
                </h2>
                <p>
                    "This console sends a goodbye on behalf of each node listed here. A node that is alive again when you confirm is kept; owners still alive re-announce themselves."
                </p>
                <table class="bulk-list table-cards">
                    <thead>
                        <tr>
                            <th scope="col">"Service"</th>
                            <th scope="col">"Version"</th>
                            <th scope="col">"Node"</th>
                            <th scope="col">"Address"</th>
                        </tr>
                    </thead>
                    <tbody>
                        <For
                            each=move || listed.get()
                            key=|node| node.clone()
                            let:node
                        >
                            <tr data-listed-node=node.node.clone()>
                                <td class="name" data-label="Service">{node.service.clone()}</td>
                                <td data-label="Version">{node.version.clone()}</td>
                                <td class="name" data-label="Node">{node.node.clone()}</td>
                                <td class="address" data-label="Address">{node.address.clone()}</td>
                            </tr>
                        </For>
                    </tbody>
                </table>
                <div class="dialog-buttons">
                    <button type="button" class="warn" on:click=confirm>
                        {move || format!("Yes, evict {}", listed.with(Vec::len))}
                    </button>
                    <button type="button" on:click=cancel>"Cancel"</button>
                </div>
            </dialog>
            <span class="bulk-outcome" role="status">
                {move || outcome.get().map(|result| match result {
                    Ok(answer) => summary(&answer),
                    Err(error) => format!("Bulk evict failed: {error}"),
                })}
            </span>
        </span>
    }
    .into_any()
}

/// "Evicted 2; kept 1 (b: alive again)".
fn summary(answer: &BulkEvictResponse) -> String {
    let mut text = format!("Evicted {}", answer.evicted.len());
    if !answer.kept.is_empty() {
        let kept: Vec<String> = answer
            .kept
            .iter()
            .map(|kept| format!("{}: {}", kept.node.node, kept.reason))
            .collect();
        text.push_str(&format!(
            "; kept {} ({})",
            answer.kept.len(),
            kept.join(", ")
        ));
    }
    text.push('.');
    text
}
