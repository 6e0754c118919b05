//! Query latency with the scale burst's nodes known: cached reads through the registry
//! (in-process, on the probe host) and through the console's HTTP API and pages, against
//! baselines from the same process: a cold network query the go-micro way (one PTR query, then
//! go-micro's fixed 100 ms answer window) and the console's no-op route `/healthz`.

use std::future::Future;
use std::time::{Duration, Instant};

use muster_registry::{QueryOptions, Registry};

use crate::bench::Bench;
use crate::probe_host::ProbeHost;
use crate::report::verdict;
use crate::scale;
use crate::stats::{ms, Summary};

/// Service registered through the console, so its owner (the console) answers network queries.
pub const ANSWERED: &str = "bench.query";

/// Times `count` sequential runs of `operation`.
async fn time<F, Fut>(count: usize, mut operation: F) -> Summary
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    let mut samples = Vec::with_capacity(count);
    for _ in 0..count {
        let started = Instant::now();
        operation().await;
        samples.push(started.elapsed());
    }
    Summary::of(samples)
}

fn ratio(slow: Duration, fast: Duration) -> f64 {
    slow.as_secs_f64() / fast.as_secs_f64().max(1e-9)
}

/// Registry-level figures: cached against cold, on the probe host.
pub async fn registry(bench: &mut Bench<'_>, probe: &ProbeHost) {
    let plan = bench.plan.clone();
    let registry = probe.registry.clone();
    let name = scale::service_name(plan.services / 2);
    let nodes = registry
        .get_service(&name, QueryOptions::default())
        .await
        .unwrap();
    assert_eq!(
        nodes.iter().map(|s| s.nodes.len()).sum::<usize>(),
        plan.nodes_per_service,
        "the probe host's cache lacks nodes of {name}"
    );
    let cached_get = time(plan.requests, || async {
        registry
            .get_service(&name, QueryOptions::default())
            .await
            .unwrap();
    })
    .await;
    let cached_list = time(plan.requests, || async {
        registry
            .list_services(QueryOptions::default())
            .await
            .unwrap();
    })
    .await;
    let fresh = QueryOptions { fresh: true };
    let cold_get = time(plan.cold_queries, || async {
        let found = registry.get_service(ANSWERED, fresh.clone()).await.unwrap();
        assert!(
            !found.is_empty(),
            "no answer to a cold query for {ANSWERED}"
        );
    })
    .await;
    let cold_list = time(plan.cold_queries, || async {
        registry.list_services(fresh.clone()).await.unwrap();
    })
    .await;
    let known = plan.nodes();
    for (measure, cached, cold) in [
        ("get_service", cached_get, cold_get),
        ("list_services", cached_list, cold_list),
    ] {
        bench.report.add(
            "query",
            format!("registry {measure}, cached ({known} nodes known)"),
            cached.to_string(),
            verdict(cached.p99 <= Duration::from_micros(500), "≤ 0.5 ms at p99"),
        );
        let speedup = ratio(cold.p50, cached.p50);
        bench.report.add(
            "query",
            format!("registry {measure}, cold network query (go-micro's way)"),
            format!("{cold} → cached is {speedup:.0}× faster (p50)"),
            verdict(speedup >= 100.0, "cached ≥ 100× go-micro"),
        );
    }
}

/// HTTP figures: each route timed from the client (request sent → whole body read), with
/// `/healthz` as the same-process floor of an HTTP round trip.
pub async fn http(bench: &mut Bench<'_>) {
    let plan = bench.plan.clone();
    let name = scale::service_name(plan.services / 2);
    let routes = [
        ("/healthz".to_string(), "baseline: no-op route", None),
        (
            "/api/services".to_string(),
            "the services list via the API",
            Some(2),
        ),
        (
            format!("/api/services/{name}"),
            "get_service via the API",
            Some(1),
        ),
        ("/".to_string(), "services page (SSR)", Some(10)),
        (format!("/services/{name}"), "service page (SSR)", Some(10)),
    ];
    let mut floor = Duration::ZERO;
    for (path, what, target_ms) in routes {
        let url = bench.console.url(&path);
        let http = bench.http.clone();
        let bytes = std::cell::Cell::new(0);
        let summary = time(plan.requests, || {
            let (http, url, bytes) = (http.clone(), url.clone(), &bytes);
            async move {
                let response = http.get(&url).send().await.unwrap();
                assert!(
                    response.status().is_success(),
                    "GET {url}: {}",
                    response.status()
                );
                bytes.set(response.bytes().await.unwrap().len());
            }
        })
        .await;
        let bytes = bytes.get();
        let figure = match target_ms {
            None => {
                floor = summary.p50;
                format!("{summary}; {bytes} B")
            }
            Some(_) => format!(
                "{summary}; {bytes} B; p50 {:.1}× /healthz (+{})",
                ratio(summary.p50, floor),
                ms(summary.p50.saturating_sub(floor))
            ),
        };
        let target = match target_ms {
            None => "(baseline)".to_string(),
            Some(limit) => verdict(
                summary.p99 <= Duration::from_millis(limit),
                &format!("≤ {limit} ms"),
            ),
        };
        bench
            .report
            .add("query", format!("GET {path} — {what}"), figure, target);
    }
}
