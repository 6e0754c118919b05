//! One node: deregister (this console's own) or evict (another process's).

use app::bulk::{BulkEvictRequest, BulkEvictResponse};
use app::wire::EvictResponse;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{request::Parts, StatusCode};
use axum::Json;

use crate::error::Error;
use crate::state::AppState;

/// `DELETE /api/services/{name}/nodes/{id}`: deregisters a node this console registered;
/// 204. A node registered elsewhere is a 409: evict it instead.
pub async fn deregister(
    State(state): State<AppState>,
    Path((name, node_id)): Path<(String, String)>,
    parts: Parts,
) -> Result<StatusCode, Error> {
    state.auth.authorize(&parts)?;
    let actor = state.auth.actor(&parts);
    state.hub.deregister(&name, &node_id, &actor).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/services/{name}/nodes/{id}/evict`: a goodbye on behalf of a node another process
/// registered. A node of this console's own is a 409: deregister it instead.
pub async fn evict(
    State(state): State<AppState>,
    Path((name, node_id)): Path<(String, String)>,
    parts: Parts,
) -> Result<Json<EvictResponse>, Error> {
    state.auth.authorize(&parts)?;
    let actor = state.auth.actor(&parts);
    Ok(Json(state.hub.evict(&name, &node_id, &actor).await?))
}

/// `POST /api/evict-stale` with the nodes a confirmation listed: evicts those still stale,
/// keeps the others, and says which was which. Allowed as a single evict is.
pub async fn evict_stale(
    State(state): State<AppState>,
    parts: Parts,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<BulkEvictResponse>, Error> {
    state.auth.authorize(&parts)?;
    let request: BulkEvictRequest = super::body::json(body)?;
    let actor = state.auth.actor(&parts);
    Ok(Json(state.hub.evict_listed(request.nodes, &actor).await?))
}
