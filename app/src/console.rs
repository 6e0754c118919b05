//! The server's side of the UI: what pages and server functions ask of the running console.
//!
//! The server crate implements [`Console`] and provides it to Leptos as context
//! (`Arc<dyn Console>`); server functions and the JSON API both go through it, so a form and a
//! script get the same validation, authorization and answers.

use std::sync::Arc;

use async_trait::async_trait;
use http::request::Parts;

use crate::wire::{
    ApiError, EvictResponse, Indexed, LanSnapshot, RegisterRequest, ServiceSummary, ServiceView,
    SessionInfo,
};

/// The console as pages see it. Implemented by the server.
#[async_trait]
pub trait Console: Send + Sync {
    /// The whole current view (tombstones included) and the sequence number it is at.
    fn snapshot(&self) -> (u64, Vec<ServiceView>);

    /// Every version of the service `name` (tombstones included), sorted by version; empty
    /// when there is none. Reads one range of the view, not a copy of all of it.
    fn service(&self, name: &str) -> Vec<ServiceView>;

    /// One summary per service name, sorted by name (what `GET /api/services` answers),
    /// counted from the view in place: no node is copied.
    fn summaries(&self) -> Vec<ServiceSummary>;

    /// Reads the same summaries with the text each is searched by, sorted by name, in place
    /// (the services page's first render filters them without copying any).
    fn read_index(&self, read: &mut dyn FnMut(&mut dyn Iterator<Item = &Indexed>));

    /// The standard DNS-SD services seen on the LAN (the LAN page's first load).
    fn lan(&self) -> LanSnapshot;

    /// What the client behind `request` may do.
    fn session(&self, request: &Parts) -> SessionInfo;

    /// Checks that the client behind `request` may change things (token, Origin).
    fn authorize(&self, request: &Parts) -> Result<(), ApiError>;

    /// Who an authorized request acts as, for the events its actions cause.
    fn actor(&self, request: &Parts) -> String;

    /// Validates and registers a service; the console keeps it registered until deregistered.
    async fn register(&self, request: RegisterRequest) -> Result<(), ApiError>;

    /// Deregisters a node this console owns (a goodbye on the network), as `actor`.
    async fn deregister(&self, service: &str, node_id: &str, actor: &str) -> Result<(), ApiError>;

    /// Sends a goodbye on behalf of a node this console does not own, as `actor`.
    async fn evict(
        &self,
        service: &str,
        node_id: &str,
        actor: &str,
    ) -> Result<EvictResponse, ApiError>;
}

/// How pages find the console in context.
pub type SharedConsole = Arc<dyn Console>;
