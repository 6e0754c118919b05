//! Services: the list (summaries), one service in full, and registration.

use app::wire::{RegisterRequest, ServiceSummary, ServiceView};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{request::Parts, StatusCode};
use axum::Json;

use super::body;
use crate::error::Error;
use crate::state::AppState;

/// `GET /api/services`: one summary per name (versions, node counts by state), by name.
/// The view keeps them ([`crate::console::summaries`]): no copy of its nodes.
pub async fn list(State(state): State<AppState>) -> Json<Vec<ServiceSummary>> {
    Json(state.hub.summaries())
}

/// `GET /api/services/{name}`: every version with endpoints and nodes (tombstones included).
pub async fn get(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<Vec<ServiceView>>, Error> {
    let versions = state.hub.service(&name);
    if versions.is_empty() {
        return Err(Error::NotFound(format!("no service {name}")));
    }
    Ok(Json(versions))
}

/// `POST /api/services`: a go-micro Service plus optional `ttl` seconds; 201 with the
/// service's versions as they are now.
pub async fn register(
    State(state): State<AppState>,
    parts: Parts,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Vec<ServiceView>>), Error> {
    state.auth.authorize(&parts)?;
    let request: RegisterRequest = body::json(body)?;
    let versions = state.hub.register(request).await?;
    Ok((StatusCode::CREATED, Json(versions)))
}
