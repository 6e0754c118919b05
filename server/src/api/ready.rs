//! `GET /readyz`: whether the registry backend serves now (`/healthz` only says the process
//! answers). 200 with [`Readiness`] when it does; 503 with the same body, and `Retry-After`,
//! when it does not (etcd unreachable or without quorum), so that a load balancer stops
//! sending traffic and the connection badge can say why.

use app::wire::Readiness;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::error::RETRY_AFTER_SECS;
use crate::state::AppState;

/// Asks the backend (etcd: at most one probe a second, shared by concurrent callers).
pub async fn ready(State(state): State<AppState>) -> Response {
    let readiness: Readiness = state.hub.backend().readiness().await;
    if readiness.ready {
        return Json(readiness).into_response();
    }
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, RETRY_AFTER_SECS.to_string())],
        Json(readiness),
    )
        .into_response()
}
