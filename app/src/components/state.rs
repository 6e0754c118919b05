//! Small pieces that show a node's state the same way everywhere.

use leptos::prelude::*;

use crate::wire::NodeState;

/// A coloured label for a node state.
#[component]
pub fn StateBadge(state: NodeState) -> impl IntoView {
    view! { <span class=format!("state state-{}", state.as_str())>{state.as_str()}</span> }
}
