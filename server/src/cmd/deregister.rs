//! `muster deregister NAME NODE_ID`: remove a node, whoever registered it.
//!
//! Like `micro deregister`: on mDNS that is a goodbye on the node's behalf (go-micro watchers
//! drop it; a live owner answers the next query and comes back).

use muster_registry::Service;
use serde_json::json;

use app::escape::escape_controls as shown;

use super::{get_service, print_json_line, Result};
use crate::backend::Backend;

/// Finds the node and removes it.
pub async fn run(backend: &Backend, name: &str, node_id: &str, json: bool) -> Result {
    let services = get_service(backend, name).await?;
    let Some((service, node)) = services.iter().find_map(|service| {
        let node = service.nodes.iter().find(|node| node.id == node_id)?;
        Some((service, node))
    }) else {
        return Err(format!("service {name} has no node {node_id}").into());
    };
    let target = Service {
        nodes: vec![node.clone()],
        ..service.clone()
    };
    let outcome = backend.evict(&target, node_id).await?;
    let (name, node_id) = (shown(name), shown(node_id));
    if json {
        print_json_line(
            &json!({"deregistered": target, "goodbye_sent": outcome.goodbye_sent, "reappeared": outcome.reappeared}),
        )?;
    } else if outcome.reappeared {
        println!("goodbye sent for {node_id}, but its owner answered again: it is alive");
    } else {
        println!("deregistered {node_id} from {name}");
    }
    Ok(())
}
