//! `muster call NAME ENDPOINT [JSON|-] [--node ID] [--timeout 5s] [--metadata k=v]...`: one
//! call over go-micro's RPC, to a node the registry lists.

use std::io::Read;
use std::time::Duration;

use muster_registry::Node;

use super::{get_service, Result};
use crate::backend::Backend;

/// The command's arguments.
pub struct Args<'a> {
    /// The service name.
    pub name: &'a str,
    /// `Handler.Method`.
    pub endpoint: &'a str,
    /// The request JSON, `-` for stdin; `{}` when absent.
    pub request: Option<&'a str>,
    /// A node id.
    pub node: Option<&'a str>,
    /// How long the call may take.
    pub timeout: Duration,
    /// Metadata headers.
    pub metadata: &'a [(String, String)],
}

/// Calls the endpoint and prints the reply JSON as the node sent it.
pub async fn run(backend: &Backend, args: &Args<'_>) -> Result {
    let body = match args.request {
        None => "{}".to_string(),
        Some("-") => {
            let mut text = String::new();
            std::io::stdin().read_to_string(&mut text)?;
            text
        }
        Some(text) => text.to_string(),
    };
    serde_json::from_str::<&serde_json::value::RawValue>(body.trim())
        .map_err(|error| format!("the request is not JSON: {error}"))?;
    let node = pick(&mucp_nodes(backend, args.name).await?, args.name, args.node)?;
    let mut call = muster_rpc::Call::new(
        args.name,
        args.endpoint,
        body.trim().to_string(),
        args.timeout,
    );
    call.metadata = args.metadata.to_vec();
    match muster_rpc::call(&node.address, &call).await {
        Ok(reply) => {
            println!("{}", reply.body.get());
            Ok(())
        }
        Err(muster_rpc::Error::Remote(remote)) => Err(serde_json::to_string(&remote)
            .unwrap_or_else(|_| remote.to_string())
            .into()),
        Err(error) => Err(format!("{} at {}: {error}", node.id, node.address).into()),
    }
}

/// Every node of `name` (all versions) that speaks go-micro's rpc over HTTP, by id.
pub async fn mucp_nodes(backend: &Backend, name: &str) -> Result<Vec<Node>> {
    let services = get_service(backend, name).await?;
    let mut nodes: Vec<Node> = services
        .into_iter()
        .flat_map(|service| service.nodes)
        .filter(|node| muster_rpc::supported(name, &node.metadata))
        .collect();
    nodes.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(nodes)
}

/// The node with id `pinned`, or the first.
pub fn pick(nodes: &[Node], name: &str, pinned: Option<&str>) -> Result<Node> {
    match pinned {
        Some(id) => nodes
            .iter()
            .find(|node| node.id == id)
            .cloned()
            .ok_or_else(|| {
                format!("service {name} has no node {id} that speaks go-micro's rpc over HTTP")
                    .into()
            }),
        None => nodes.first().cloned().ok_or_else(|| {
            format!("service {name} has no node that speaks go-micro's rpc over HTTP").into()
        }),
    }
}
