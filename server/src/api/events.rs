//! `GET /api/events`: the events the console still holds (its replay ring, oldest first),
//! filtered as the events page filters them; `format=ndjson` makes it a download, one event
//! per line, for `jq` and log tools.

use std::collections::HashMap;

use app::event_filter::EventFilter;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::error::Error;
use crate::state::AppState;

/// The events matching the query's `q`, `action` and `service`, as a JSON array, or with
/// `format=ndjson` as an attachment of newline-delimited JSON.
pub async fn list(
    State(state): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, Error> {
    let filter = EventFilter::from_params(|key| params.get(key).cloned());
    let events = state.hub.events_matching(|event| filter.matches(event));
    match params.get("format").map(String::as_str) {
        None | Some("json") => Ok(Json(events).into_response()),
        Some("ndjson") => {
            let mut body = String::new();
            for event in &events {
                body.push_str(
                    &serde_json::to_string(event).expect("an event is plain data with string keys"),
                );
                body.push('\n');
            }
            Ok((
                [
                    (header::CONTENT_TYPE, "application/x-ndjson"),
                    (
                        header::CONTENT_DISPOSITION,
                        "attachment; filename=\"muster-events.ndjson\"",
                    ),
                ],
                body,
            )
                .into_response())
        }
        Some(other) => Err(Error::invalid_parameter(
            "format",
            format!("unknown format {other:?}: json or ndjson"),
        )),
    }
}
