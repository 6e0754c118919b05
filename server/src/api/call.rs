//! `POST /api/services/{name}/call`: calls an endpoint on a node of the registry.
//!
//! Only addresses of live registry nodes are ever called: the body names a node by id, never
//! an address (unknown fields are refused), so the console cannot be made to send requests to
//! arbitrary hosts. Calls need the same authorization as register and evict: a call runs the
//! handler on a real node, with whatever side effects it has.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use app::rpc::{CallFailure, CallReply, CallRequest, DEFAULT_TIMEOUT_MS, MAX_TIMEOUT_MS};
use app::wire::{NodeState, ServiceView};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{request::Parts, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use muster_rpc::HealthState;

use crate::api::body;
use crate::error::Error;
use crate::state::AppState;

/// Which node each service's next call without a pinned node goes to.
#[derive(Debug, Default)]
pub struct RoundRobin {
    next: Mutex<HashMap<String, usize>>,
}

/// The node a call goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Its id.
    pub node: String,
    /// Its address.
    pub address: String,
}

impl RoundRobin {
    /// The node of `versions` (one service) to call: `pinned`, or the next of the best live
    /// nodes that speak mucp over HTTP (alive and answering first, then any live one).
    pub fn pick(
        &self,
        name: &str,
        versions: &[ServiceView],
        pinned: Option<&str>,
    ) -> Result<Target, Error> {
        if versions.is_empty() {
            return Err(Error::NotFound(format!("no service {name}")));
        }
        let live = versions.iter().flat_map(|version| {
            version
                .nodes
                .iter()
                .filter(|node| !node.state.is_tombstone())
                .map(move |node| (version, node))
        });
        let supported = |version: &ServiceView, node: &app::wire::NodeView| {
            muster_rpc::supported(&version.name, &node.node.metadata)
        };
        if let Some(id) = pinned {
            let (version, node) = live
                .into_iter()
                .find(|(_, node)| node.node.id == id)
                .ok_or_else(|| Error::NotFound(format!("no live node {id} in service {name}")))?;
            if !supported(version, node) {
                return Err(Error::invalid(format!(
                    "node {id} does not speak go-micro's rpc over HTTP (its metadata names another server or transport)"
                )));
            }
            return Ok(target(node));
        }
        let mut candidates: Vec<(u8, &app::wire::NodeView)> = live
            .filter(|(version, node)| supported(version, node))
            .map(|(_, node)| (rank(node), node))
            .collect();
        let best = candidates
            .iter()
            .map(|(rank, _)| *rank)
            .min()
            .ok_or_else(|| {
                Error::NotFound(format!(
                    "service {name} has no live node that speaks go-micro's rpc over HTTP"
                ))
            })?;
        candidates.retain(|(rank, _)| *rank == best);
        candidates.sort_by(|a, b| a.1.node.id.cmp(&b.1.node.id));
        let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
        let turn = next.entry(name.to_string()).or_insert(0);
        let chosen = candidates[*turn % candidates.len()].1;
        *turn = turn.wrapping_add(1);
        Ok(target(chosen))
    }
}

/// 0 for a node that is alive and not known to be unreachable, 1 for the other live ones.
fn rank(node: &app::wire::NodeView) -> u8 {
    let unreachable = node
        .health
        .as_ref()
        .is_some_and(|health| health.state == HealthState::Unreachable);
    u8::from(node.state != NodeState::Alive || unreachable)
}

fn target(node: &app::wire::NodeView) -> Target {
    Target {
        node: node.node.id.clone(),
        address: node.node.address.clone(),
    }
}

/// The call's time limit: [`DEFAULT_TIMEOUT_MS`] when absent, 1 ms to [`MAX_TIMEOUT_MS`].
fn timeout(timeout_ms: Option<u64>) -> Result<Duration, Error> {
    match timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS) {
        ms @ 1..=MAX_TIMEOUT_MS => Ok(Duration::from_millis(ms)),
        ms => Err(Error::invalid_parameter(
            "timeout_ms",
            format!("timeout_ms must be between 1 and {MAX_TIMEOUT_MS}, not {ms}"),
        )),
    }
}

/// `Handler.Method`: go-micro's router splits the endpoint at its first dot.
fn endpoint(text: &str) -> Result<&str, Error> {
    match text.split_once('.') {
        Some((handler, method)) if !handler.is_empty() && !method.is_empty() => Ok(text),
        _ => Err(Error::invalid_parameter(
            "endpoint",
            format!("endpoint must be Handler.Method, not {text:?}"),
        )),
    }
}

/// `POST /api/services/{name}/call`.
pub async fn call(
    State(state): State<AppState>,
    Path(name): Path<String>,
    parts: Parts,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Error> {
    state.auth.authorize(&parts)?;
    let request: CallRequest = body::json(body)?;
    let timeout = timeout(request.timeout_ms)?;
    let endpoint = endpoint(&request.endpoint)?;
    let target = state
        .calls
        .pick(&name, &state.hub.service(&name), request.node.as_deref())?;
    let json = request
        .request
        .as_ref()
        .map_or("{}".to_string(), |raw| raw.get().to_string());
    let mut call = muster_rpc::Call::new(&name, endpoint, json, timeout);
    call.metadata = request.metadata.into_iter().collect();
    let failure = |status: StatusCode, error: String, remote| {
        let body = CallFailure {
            error,
            remote,
            node: target.node.clone(),
            address: target.address.clone(),
        };
        Ok((status, Json(body)).into_response())
    };
    match muster_rpc::call(&target.address, &call).await {
        Ok(reply) => Ok(Json(CallReply {
            node: target.node.clone(),
            address: target.address.clone(),
            duration_ms: reply.duration.as_secs_f64() * 1000.0,
            response: reply.body,
        })
        .into_response()),
        Err(muster_rpc::Error::Invalid(message)) => Err(Error::invalid(message)),
        Err(muster_rpc::Error::Remote(remote)) => failure(
            StatusCode::BAD_GATEWAY,
            format!("{endpoint} on {} failed: {remote}", target.node),
            Some(remote),
        ),
        Err(error @ muster_rpc::Error::Timeout(_)) => failure(
            StatusCode::GATEWAY_TIMEOUT,
            format!("{} at {}: {error}", target.node, target.address),
            None,
        ),
        Err(error) => failure(
            StatusCode::BAD_GATEWAY,
            format!("{} at {}: {error}", target.node, target.address),
            None,
        ),
    }
}
