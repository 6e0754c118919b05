//! The confirmation for removing a node (Deregister or Evict): one modal `<dialog>` per page.
//!
//! The dialog lives at the page level, outside the node table, so that live updates of the
//! table (a node's state changing, rows appearing or leaving) never close it. It reads the node
//! it is about from the live store: if the node leaves while the dialog is open, the dialog says
//! so instead of vanishing. `showModal()` makes the page behind inert and gives Escape; Tab is
//! kept cycling inside (the browser would let it leave to its own toolbar); focus returns to
//! the button that opened it, and the outcome is shown after it closes.

use leptos::html;
use leptos::prelude::*;
use send_wrapper::SendWrapper;

use crate::api::{deregister_node, evict_node};
use crate::components::errors::plain_error;
use crate::live::Live;
use crate::wire::NodeState;

/// A node the operator asked to remove.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeTarget {
    /// Service name.
    pub service: String,
    /// Service version.
    pub version: String,
    /// Node id.
    pub node_id: String,
    /// Registered by this console (deregister) rather than learned from the network (evict).
    pub owned: bool,
}

impl NodeTarget {
    fn verb(&self) -> &'static str {
        if self.owned {
            "Deregister"
        } else {
            "Evict"
        }
    }

    /// What confirming does on the network, in words.
    fn explanation(&self) -> String {
        let id = &self.node_id;
        if self.owned {
            format!(
                "Deregister {id}: this console stops announcing it and sends a goodbye (TTL 0) \
                 for it; every go-micro client and watcher drops it."
            )
        } else {
            format!(
                "Evict {id}: this console sends a goodbye (TTL 0) on its behalf; every go-micro \
                 watcher drops it. If its owner is still alive it answers the next query and \
                 re-announces itself, and it reappears here."
            )
        }
    }
}

/// The page's confirmation state, shared (context) by the node rows that open it.
#[derive(Clone, Copy)]
pub struct NodeConfirm {
    pending: RwSignal<Option<NodeTarget>>,
    /// The button that opened the dialog, to give focus back to. Set only in the browser; the
    /// wrapper is created there, not on the server, where the page's owner is cleaned up on
    /// another worker thread than it was made on (a local stored value panics when dropped so).
    trigger: StoredValue<Option<SendWrapper<web_sys::HtmlElement>>>,
    action: Action<NodeTarget, Result<String, String>>,
    /// The node the last outcome is about.
    last: RwSignal<Option<NodeTarget>>,
}

impl NodeConfirm {
    /// Creates the state; call once per page.
    pub fn new() -> Self {
        let action = Action::new(|target: &NodeTarget| {
            let target = target.clone();
            async move {
                let NodeTarget {
                    service,
                    node_id,
                    owned,
                    ..
                } = target;
                let result = if owned {
                    deregister_node(service, node_id).await
                } else {
                    evict_node(service, node_id)
                        .await
                        .map(|response| format!("Evicted: {}.", response.message))
                };
                result.map_err(|error| plain_error(&error))
            }
        });
        NodeConfirm {
            pending: RwSignal::new(None),
            trigger: StoredValue::new(None),
            action,
            last: RwSignal::new(None),
        }
    }

    /// Opens the dialog for `target`; `trigger` gets the focus back when it closes.
    pub fn ask(&self, target: NodeTarget, trigger: Option<web_sys::HtmlElement>) {
        self.trigger.set_value(trigger.map(SendWrapper::new));
        self.pending.set(Some(target));
    }
}

impl Default for NodeConfirm {
    fn default() -> Self {
        Self::new()
    }
}

/// The modal dialog and, below the page title, the outcome of the last action.
#[component]
pub fn NodeConfirmDialog(confirm: NodeConfirm) -> impl IntoView {
    let live = expect_context::<Live>();
    let dialog = NodeRef::<html::Dialog>::new();
    let NodeConfirm {
        pending,
        trigger,
        action,
        last,
    } = confirm;
    // The dialog element follows `pending`: modal while a target is set.
    Effect::new(move |_| {
        let open = pending.with(Option::is_some);
        if let Some(dialog) = dialog.get() {
            if open && !dialog.open() {
                let _ = dialog.show_modal();
            } else if !open && dialog.open() {
                dialog.close();
            }
        }
    });
    // Escape, Cancel and Confirm all end in the element's `close` event.
    let on_close = move |_| {
        pending.set(None);
        if let Some(button) = trigger.get_value().filter(|button| button.is_connected()) {
            let _ = button.focus();
        }
    };
    // The node as the live view has it now: `None` once it left the view entirely.
    let current = move || {
        pending.get().map(|target| {
            let state = live
                .service(&(target.service.clone(), target.version.clone()))
                .and_then(|service| {
                    service
                        .nodes
                        .into_iter()
                        .find(|node| node.node.id == target.node_id)
                        .map(|node| node.state)
                });
            (target, state)
        })
    };
    let gone =
        move || current().is_some_and(|(_, state)| state.is_none_or(NodeState::is_tombstone));
    let yes = NodeRef::<html::Button>::new();
    let cancel = NodeRef::<html::Button>::new();
    // Tab past the last button comes back to the first, Shift+Tab the other way round.
    let trap_tab = move |event: web_sys::KeyboardEvent| {
        if event.key() != "Tab" {
            return;
        }
        let (Some(yes), Some(cancel)) = (yes.get_untracked(), cancel.get_untracked()) else {
            return;
        };
        let first: web_sys::HtmlElement = if yes.disabled() {
            cancel.clone().into()
        } else {
            yes.into()
        };
        let last: web_sys::HtmlElement = cancel.into();
        let active = document().active_element();
        let at = |element: &web_sys::HtmlElement| {
            active
                .as_ref()
                .is_some_and(|active| active.is_same_node(Some(element)))
        };
        let wrap_to = if event.shift_key() && at(&first) {
            Some(last)
        } else if !event.shift_key() && at(&last) {
            Some(first)
        } else {
            None
        };
        if let Some(target) = wrap_to {
            event.prevent_default();
            let _ = target.focus();
        }
    };
    let confirm_click = move |_| {
        if let Some(target) = pending.get_untracked() {
            last.set(Some(target.clone()));
            action.dispatch(target);
        }
        if let Some(dialog) = dialog.get_untracked() {
            dialog.close();
        }
    };
    view! {
        <dialog
            node_ref=dialog
            class="confirm"
            role="alertdialog"
            aria-labelledby="confirm-title"
            on:close=on_close
            on:keydown=trap_tab
        >
            {move || {
                current()
                    .map(|(target, state)| {
                        let verb = target.verb();
                        let left = match state {
                            None => Some("is gone from the registry".to_string()),
                            Some(state) if state.is_tombstone() => {
                                Some(format!("has left the registry (now {})", state.as_str()))
                            }
                            Some(_) => None,
                        };
                        view! {
                            <h2 id="confirm-title">{format!("{verb} node {}?", target.node_id)}</h2>
                            <p>{target.explanation()}</p>
                            {left
                                .map(|left| {
                                    view! {
                                        <p class="error" role="alert">
                                            {format!(
                                                "{} {left} while this dialog was open: there is nothing left to {}.",
                                                target.node_id,
                                                verb.to_lowercase(),
                                            )}
                                        </p>
                                    }
                                })}
                        }
                    })
            }}
            <div class="dialog-buttons">
                <button
                    type="button"
                    node_ref=yes
                    class=move || {
                        if pending.with(|target| target.as_ref().is_some_and(|t| t.owned)) {
                            "danger"
                        } else {
                            "warn"
                        }
                    }
                    on:click=confirm_click
                    disabled=gone
                >
                    {move || {
                        pending
                            .get()
                            .map(|target| format!("Yes, {}", target.verb().to_lowercase()))
                            .unwrap_or_default()
                    }}
                </button>
                <button
                    type="button"
                    node_ref=cancel
                    autofocus
                    on:click=move |_| {
                        if let Some(dialog) = dialog.get_untracked() {
                            dialog.close();
                        }
                    }
                >
                    "Cancel"
                </button>
            </div>
        </dialog>
        <div class="outcome" aria-live="polite">
            {move || {
                let target = last.get()?;
                if action.pending().get() {
                    return Some(
                        view! {
                            <p class="muted" role="status">
                                {format!("{}ing {}…", target.verb().trim_end_matches('e'), target.node_id)}
                            </p>
                        }
                            .into_any(),
                    );
                }
                Some(match action.value().get()? {
                    Ok(message) => view! { <p class="done" role="status">{message}</p> }.into_any(),
                    Err(error) => {
                        view! {
                            <p class="error" role="alert">
                                {format!("{} {} failed: {error}", target.verb(), target.node_id)}
                            </p>
                        }
                            .into_any()
                    }
                })
            }}
        </div>
    }
}
