//! How big a run is: the figures (full), or a small run for iterating
//! (`MUSTER_BENCH_QUICK=1`); `MUSTER_BENCH_BURST_RATE` overrides the scale burst's rate.

use std::time::Duration;

/// The sizes and rates of one run.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Services the load generator announces.
    pub services: usize,
    /// Nodes per service.
    pub nodes_per_service: usize,
    /// Announcements per second during the scale burst.
    pub burst_per_second: f64,
    /// Websocket clients connected through the burst; each must end with every node.
    pub clients: usize,
    /// New nodes announced one by one for the discovery-latency figure.
    pub latency_samples: usize,
    /// Their rate: slow enough that each is measured alone.
    pub latency_per_second: f64,
    /// New nodes announced for the wire → DOM figure, each watched for in Chromium.
    pub dom_samples: usize,
    /// Their rate: one browser frame (16 ms) and more apart, so each row is measured alone.
    pub dom_per_second: f64,
    /// Sequential requests per HTTP route and per cached registry query.
    pub requests: usize,
    /// Cold (network) queries per kind: each waits go-micro's 100 ms window.
    pub cold_queries: usize,
    /// Quiet time over which idle CPU is measured.
    pub idle: Duration,
    /// Register+deregister pairs per second during churn.
    pub churn_per_second: f64,
    /// How long churn lasts.
    pub churn: Duration,
    /// Watchers during churn.
    pub churn_watchers: usize,
}

impl Plan {
    /// The full run, or the quick one when `MUSTER_BENCH_QUICK=1`.
    pub fn from_env() -> (Plan, bool) {
        let quick = std::env::var("MUSTER_BENCH_QUICK").is_ok_and(|v| v == "1");
        let full = Plan {
            services: 1_000,
            nodes_per_service: 10,
            // What this two-core machine absorbs with 100 clients watching; 2,000/s overran
            // the console's registry watcher (see BENCHMARKS.md).
            burst_per_second: 500.0,
            clients: 100,
            latency_samples: 500,
            latency_per_second: 50.0,
            dom_samples: 400,
            dom_per_second: 20.0,
            requests: 200,
            cold_queries: 20,
            idle: Duration::from_secs(10),
            churn_per_second: 500.0,
            churn: Duration::from_secs(60),
            churn_watchers: 50,
        };
        // The burst rate can be varied to find where a console stops keeping up.
        let burst_per_second = std::env::var("MUSTER_BENCH_BURST_RATE")
            .ok()
            .and_then(|rate| rate.parse().ok())
            .unwrap_or(full.burst_per_second);
        let full = Plan {
            burst_per_second,
            ..full
        };
        if quick {
            let plan = Plan {
                services: 100,
                latency_samples: 100,
                dom_samples: 200,
                requests: 50,
                cold_queries: 5,
                idle: Duration::from_secs(3),
                churn: Duration::from_secs(5),
                ..full
            };
            (plan, true)
        } else {
            (full, false)
        }
    }

    /// Nodes announced in the scale burst.
    pub fn nodes(&self) -> usize {
        self.services * self.nodes_per_service
    }
}
