//! What every phase works with: the plan, the console, an HTTP client, the load generator's
//! socket, the report.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, UdpSocket};
use std::time::{Duration, Instant};

use app::wire::{ServiceSummary, ServiceView};

use crate::console::Console;
use crate::loadgen;
use crate::plan::Plan;
use crate::report::Report;

/// The shared state of one run.
pub struct Bench<'a> {
    /// Sizes and rates.
    pub plan: Plan,
    /// The console under test.
    pub console: &'a Console,
    /// Keep-alive HTTP client (in the console's namespace).
    pub http: reqwest::Client,
    /// The load generator's 5353 socket (opened in its namespace).
    pub generator: UdpSocket,
    /// The load generator's address (its nodes' IP).
    pub generator_ip: Ipv4Addr,
    /// Figures so far.
    pub report: Report,
}

impl Bench<'_> {
    /// Sends `packets` at `per_second` from the load generator, on a blocking thread so the
    /// websocket clients keep reading meanwhile; returns each packet's send time.
    pub async fn send_paced(&self, packets: Vec<Vec<u8>>, per_second: f64) -> Vec<Instant> {
        self.on_generator(move |socket| {
            loadgen::send_paced(socket, packets.iter().map(Vec::as_slice), per_second)
        })
        .await
    }

    /// [`Bench::send_paced`], each packet stamped by `stamp` just before its `send_to`.
    pub async fn send_paced_with<T: Send + 'static>(
        &self,
        packets: Vec<Vec<u8>>,
        per_second: f64,
        stamp: fn() -> T,
    ) -> Vec<T> {
        self.on_generator(move |socket| {
            loadgen::send_paced_with(socket, packets.iter().map(Vec::as_slice), per_second, stamp)
        })
        .await
    }

    /// Runs `job` with the load generator's socket on a blocking thread.
    async fn on_generator<T: Send + 'static>(
        &self,
        job: impl FnOnce(&UdpSocket) -> T + Send + 'static,
    ) -> T {
        let socket = self
            .generator
            .try_clone()
            .expect("clone the generator socket");
        tokio::task::spawn_blocking(move || job(&socket))
            .await
            .expect("the load generator thread")
    }

    /// Live (alive or stale) nodes per service name, from `GET /api/services`; an error
    /// (a console too busy to answer in time) is returned, not a panic: slow is not lost.
    pub async fn live_nodes(&self) -> Result<BTreeMap<String, usize>, String> {
        let response = self
            .http
            .get(self.console.url("/api/services"))
            .send()
            .await
            .map_err(|e| format!("GET /api/services: {e:?}"))?;
        let summaries: Vec<ServiceSummary> = response
            .json()
            .await
            .map_err(|e| format!("GET /api/services: {e:?}"))?;
        Ok(summaries
            .into_iter()
            .map(|summary| (summary.name, summary.nodes.live()))
            .collect())
    }

    /// What the console holds and counts, from `GET /api/stats`.
    pub async fn stats(&self) -> serde_json::Value {
        self.http
            .get(self.console.url("/api/stats"))
            .send()
            .await
            .expect("GET /api/stats")
            .json()
            .await
            .expect("stats JSON")
    }

    /// Every version of `name` with its nodes, from `GET /api/services/{name}` (empty on 404).
    pub async fn service(&self, name: &str) -> Vec<ServiceView> {
        let path = format!("/api/services/{name}");
        let response = self.http.get(self.console.url(&path)).send().await.unwrap();
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Vec::new();
        }
        assert!(
            response.status().is_success(),
            "GET {path}: {}",
            response.status()
        );
        response.json().await.unwrap()
    }

    /// Polls `check` every 50 ms until it returns `true` or `timeout` passes.
    pub async fn eventually<F, Fut>(&self, timeout: Duration, mut check: F) -> bool
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = Instant::now() + timeout;
        loop {
            if check().await {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
