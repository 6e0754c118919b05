//! The app's [`Console`]: what pages and server functions ask of the running console.
//!
//! The pages see one console; the server keeps its parts apart (the hub's view and actions,
//! the access rules, the LAN view). This adapter puts them together again for the pages, and
//! turns the server's errors into the `ApiError` bodies the JSON API answers with, so a form
//! and a script get the same messages.

use std::sync::Arc;

use app::console::Console;
use app::wire::{
    ApiError, EvictResponse, Indexed, LanSnapshot, RegisterRequest, ServiceSummary, ServiceView,
    SessionInfo,
};
use async_trait::async_trait;
use http::request::Parts;

use super::Hub;
use crate::auth::Auth;
use crate::dnssd::lan_view::LanView;

/// The console as the pages see it.
pub struct Ui {
    hub: Arc<Hub>,
    auth: Arc<Auth>,
    lan: Arc<LanView>,
}

impl Ui {
    /// The pages' console over `hub`, checking access with `auth`, showing the LAN from `lan`.
    pub fn new(hub: Arc<Hub>, auth: Arc<Auth>, lan: Arc<LanView>) -> Self {
        Ui { hub, auth, lan }
    }
}

#[async_trait]
impl Console for Ui {
    fn service(&self, name: &str) -> Vec<ServiceView> {
        self.hub.service(name)
    }

    fn summaries(&self) -> Vec<ServiceSummary> {
        self.hub.summaries()
    }

    fn read_index(&self, read: &mut dyn FnMut(&mut dyn Iterator<Item = &Indexed>)) {
        self.hub.read_index(read)
    }

    fn lan(&self) -> LanSnapshot {
        self.lan.snapshot()
    }

    fn snapshot(&self) -> (u64, Vec<ServiceView>) {
        self.hub.snapshot()
    }

    fn session(&self, request: &Parts) -> SessionInfo {
        self.auth.session(request)
    }

    fn authorize(&self, request: &Parts) -> Result<(), ApiError> {
        self.auth.authorize(request).map_err(|error| error.body())
    }

    fn actor(&self, request: &Parts) -> String {
        self.auth.actor(request)
    }

    async fn register(&self, request: RegisterRequest) -> Result<(), ApiError> {
        self.hub
            .register(request)
            .await
            .map(drop)
            .map_err(|error| error.body())
    }

    async fn deregister(&self, service: &str, node_id: &str, actor: &str) -> Result<(), ApiError> {
        self.hub
            .deregister(service, node_id, actor)
            .await
            .map_err(|error| error.body())
    }

    async fn evict(
        &self,
        service: &str,
        node_id: &str,
        actor: &str,
    ) -> Result<EvictResponse, ApiError> {
        self.hub
            .evict(service, node_id, actor)
            .await
            .map_err(|error| error.body())
    }
}
