//! Wire → DOM: a node announced by the load generator (one real go-micro packet) → its row on
//! the service page a user has open in headless Chromium, with the scale burst's nodes known
//! and the bench's websocket clients connected.
//!
//! The browser is `end2end/bench/wire-dom.mjs`, started from the console's namespace and driven
//! over JSON lines: open a service's page (it answers once the page is hydrated and live),
//! then the page's new nodes are announced, each stamped with `SystemTime` just before its
//! `send_to`, then collect: per node id, when its row was added to the DOM (MutationObserver),
//! when it first intersected the viewport (IntersectionObserver), and when the websocket frame
//! carrying it reached the page, all as `performance.timeOrigin + performance.now()`: Unix ms,
//! the same wall clock. The same announcements' `create` at bench client 0 is the same-run
//! baseline, so the page's own share shows as the difference.
//!
//! The pages are the scale burst's services: the mDNS cache is full of services in the full
//! plan (1,024), and one source address may hold 128 nodes of a service, so each page gets
//! [`NODES_PER_PAGE`] new nodes beside its 10.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Deserialize;
use serde_json::json;
use tokio::sync::mpsc;

use crate::bench::Bench;
use crate::console::site_root;
use crate::loadgen;
use crate::report::verdict;
use crate::scale;
use crate::stats::{ms, Summary};
use crate::watchers::Client;

/// New nodes per page: with the burst's 10, under the 128 one source may hold in a service.
const NODES_PER_PAGE: usize = 100;
/// The target for the DOM figure.
const TARGET: Duration = Duration::from_millis(30);

/// The browser tests' directory (their `node_modules` has playwright-core).
fn end2end() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../end2end")
}

/// The browser script, beside the other browser benches.
fn script() -> PathBuf {
    end2end().join("bench/wire-dom.mjs")
}

/// Chromium, where the browser tests find it.
fn chromium() -> PathBuf {
    std::env::var_os("CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

/// Checks, before the LAN is built, everything the phase needs that a run cannot do without:
/// the built site, Node with playwright-core, Chromium. A missing one fails the run, with how
/// to get it.
pub fn preflight() -> Result<(), String> {
    let wasm = site_root().join("pkg/muster_bg.wasm");
    if !wasm.is_file() {
        return Err(format!(
            "no built site ({} is missing): run scripts/build-site.sh (scripts/bench.sh does)",
            wasm.display()
        ));
    }
    let playwright = end2end().join("node_modules/playwright-core");
    if !playwright.is_dir() {
        return Err(format!(
            "no playwright-core at {}: run scripts/setup.sh test",
            playwright.display()
        ));
    }
    if Command::new("node").arg("--version").output().is_err() {
        return Err("no `node` on PATH: run scripts/setup.sh test".to_string());
    }
    if !chromium().is_file() {
        return Err(format!(
            "no Chromium at {} (set CHROMIUM, or run scripts/setup.sh test)",
            chromium().display()
        ));
    }
    Ok(())
}

/// The browser script's answers.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum Answer {
    Ready {
        service: String,
        skew_ms: f64,
    },
    Collected {
        rows: std::collections::HashMap<String, f64>,
        visible: std::collections::HashMap<String, f64>,
        frames: std::collections::HashMap<String, f64>,
    },
}

/// The running browser script; on drop it is asked to close Chromium and exit (its orders
/// end), and killed only if it has not within a few seconds: killed at once, Chromium outlived
/// it, a websocket client still rendering events through the phases measured after this one
/// (idle CPU, the query paths).
struct Browser {
    child: Child,
    orders: Option<ChildStdin>,
    answers: mpsc::UnboundedReceiver<String>,
}

impl Browser {
    /// Starts the script against the console at `url`. It runs in this thread's network
    /// namespace, the console's (every thread of the clients' runtime is there).
    fn start(url: &str) -> Browser {
        let mut child = Command::new("node")
            .arg(script())
            .arg(url)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("node starts");
        let orders = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, answers) = mpsc::unbounded_channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Browser {
            child,
            orders: Some(orders),
            answers,
        }
    }

    fn order(&mut self, order: serde_json::Value) {
        let orders = self.orders.as_mut().expect("the script's orders are open");
        writeln!(orders, "{order}").expect("an order to wire-dom.mjs");
    }

    /// The next answer; panics if the script exits or says nothing for `timeout`.
    async fn answer(&mut self, timeout: Duration) -> Answer {
        let line = match tokio::time::timeout(timeout, self.answers.recv()).await {
            Ok(Some(line)) => line,
            Ok(None) => panic!(
                "wire-dom.mjs exited ({:?}): its error is above (Chromium, the site, the page)",
                self.child.wait()
            ),
            Err(_) => panic!("wire-dom.mjs did not answer within {timeout:?}"),
        };
        serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("wire-dom.mjs said {line:?}, not an answer: {e}"))
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        drop(self.orders.take());
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A new node's send time on both clocks: `Instant` for the bench client's baseline, the wall
/// clock for the browser's timestamps.
type Sent = (Instant, SystemTime);

fn stamp() -> Sent {
    (Instant::now(), SystemTime::now())
}

/// How far a browser timestamp, corrected by the page's measured skew, may still fall before
/// its send: `Date.now()` counts whole milliseconds, so the skew it measures is known to about
/// that much. (Uncorrected and with no allowance, a frame stamped 0.66 ms "before" its packet
/// failed a run whose page clock was within the 2 ms the skew check allows.)
const CLOCK_RESOLUTION_MS: f64 = 1.0;

/// The delay from a wall-clock send time to a browser timestamp (the page's performance clock,
/// Unix ms) once the page's skew (`Date.now()` minus that clock) is added. One still before
/// its send by more than [`CLOCK_RESOLUTION_MS`] means the clocks disagree, which would make
/// every figure meaningless: it fails the run; within it, the delay is zero.
fn since(sent: SystemTime, at_ms: f64, skew_ms: f64, what: &str) -> Duration {
    let sent_ms = sent.duration_since(UNIX_EPOCH).unwrap().as_secs_f64() * 1e3;
    let delay = at_ms + skew_ms - sent_ms;
    assert!(
        delay >= -CLOCK_RESOLUTION_MS,
        "CLOCKS DISAGREE: {what} {delay:.3} ms before its packet was sent (page skew \
         {skew_ms:.3} ms)"
    );
    Duration::from_secs_f64(delay.max(0.0) / 1e3)
}

/// One measured node: each delay from its send.
struct Sample {
    dom: Duration,
    visible: Option<Duration>,
    page_frame: Duration,
    baseline: Duration,
}

/// Opens each page in Chromium, announces its new nodes, and reports the delays against the
/// same announcements at `client` (one that stamps every create). Panics on a missing row or
/// event.
pub async fn run(bench: &mut Bench<'_>, client: &Client) {
    let plan = bench.plan.clone();
    let pages = plan.dom_samples.div_ceil(NODES_PER_PAGE);
    assert!(
        pages < plan.services / 2,
        "the query phase reads service {} as the burst left it",
        plan.services / 2
    );
    let mut browser = Browser::start(&bench.console.url(""));
    let mut samples = Vec::with_capacity(plan.dom_samples);
    let mut not_on_screen = 0;
    for page in 0..pages {
        let service = scale::service_name(page);
        let count = NODES_PER_PAGE.min(plan.dom_samples - page * NODES_PER_PAGE);
        // Ports count down: each new node sorts first (by address), so its row lands at the
        // top of the table, in view, as a user watching the page would see it.
        let nodes: Vec<_> = (0..count)
            .map(|index| {
                let id = format!("wd-{page}-{index:03}");
                loadgen::node(&service, &id, bench.generator_ip, 6999 - index as u16)
            })
            .collect();
        let ids: Vec<&str> = nodes.iter().map(|node| node.node_id.as_str()).collect();
        browser.order(json!({"type": "open", "service": service, "nodes": ids}));
        let skew_ms = match browser.answer(Duration::from_secs(120)).await {
            Answer::Ready { skew_ms, .. } if skew_ms.abs() > 2.0 => panic!(
                "CLOCKS DISAGREE: the page's performance clock is {skew_ms:.3} ms off Date.now()"
            ),
            Answer::Ready {
                service: ready,
                skew_ms,
            } => {
                assert_eq!(ready, service);
                skew_ms
            }
            other => panic!("wire-dom.mjs: {other:?}, not ready"),
        };
        let packets = nodes.iter().map(|node| node.hello.clone()).collect();
        let sent = bench
            .send_paced_with(packets, plan.dom_per_second, stamp)
            .await;
        browser.order(json!({"type": "collect", "timeout_ms": 10_000}));
        let Answer::Collected {
            rows,
            visible,
            frames,
        } = browser.answer(Duration::from_secs(60)).await
        else {
            panic!("wire-dom.mjs answered a collect with something else")
        };
        let lost: Vec<&str> = ids
            .iter()
            .copied()
            .filter(|id| !rows.contains_key(*id))
            .collect();
        assert!(
            lost.is_empty(),
            "LOST ROWS: {} of {count} new nodes of {service} never appeared on its page in \
             Chromium within 10 s (first: {:?}; their websocket frames reached the page: {})",
            lost.len(),
            &lost[..lost.len().min(5)],
            lost.iter().filter(|id| frames.contains_key(**id)).count()
        );
        let arrived = bench
            .eventually(Duration::from_secs(10), || async {
                let received = client.received.lock().unwrap();
                nodes.iter().all(|node| {
                    received
                        .created_at
                        .contains_key(&(service.clone(), node.node_id.clone()))
                })
            })
            .await;
        assert!(
            arrived,
            "LOST EVENTS: bench client 0 missed creates of {service}"
        );
        let received = client.received.lock().unwrap();
        for (node, (sent_at, sent_wall)) in nodes.iter().zip(sent) {
            let id = &node.node_id;
            let frame = frames
                .get(id)
                .unwrap_or_else(|| panic!("the row of {id} appeared, but no frame carried it"));
            let on_screen = visible
                .get(id)
                .map(|at| since(sent_wall, *at, skew_ms, "a row shown"));
            not_on_screen += usize::from(on_screen.is_none());
            samples.push(Sample {
                dom: since(sent_wall, rows[id], skew_ms, "a row"),
                visible: on_screen,
                page_frame: since(sent_wall, *frame, skew_ms, "a websocket frame"),
                baseline: received.created_at[&(service.clone(), id.clone())] - sent_at,
            });
        }
    }
    drop(browser);
    report(bench, &samples, not_on_screen);
}

fn report(bench: &mut Bench<'_>, samples: &[Sample], not_on_screen: usize) {
    let summary = |read: fn(&Sample) -> Duration| Summary::of(samples.iter().map(read).collect());
    let dom = summary(|s| s.dom);
    let baseline = summary(|s| s.baseline);
    let page_frame = summary(|s| s.page_frame);
    let frame_to_dom = summary(|s| s.dom.saturating_sub(s.page_frame));
    let plan = &bench.plan;
    bench.report.add(
        "wire → DOM",
        format!(
            "announcement → its node row in the DOM of the service page in headless Chromium \
             (MutationObserver), {} nodes known, {} websocket clients, {}/s",
            plan.nodes(),
            plan.clients,
            plan.dom_per_second
        ),
        dom.to_string(),
        verdict(dom.p99 <= TARGET, "p99 ≤ 30 ms"),
    );
    let on_screen: Vec<Duration> = samples.iter().filter_map(|s| s.visible).collect();
    if !on_screen.is_empty() {
        let shown = Summary::of(on_screen);
        bench.report.add(
            "wire → DOM",
            format!(
                "the same rows on screen (IntersectionObserver: the frame that paints them; \
                 {not_on_screen} never in the viewport)"
            ),
            shown.to_string(),
            verdict(shown.p99 <= TARGET, "p99 ≤ 30 ms"),
        );
    }
    let ratio = |slow: Duration, fast: Duration| slow.as_secs_f64() / fast.as_secs_f64().max(1e-9);
    bench.report.add(
        "wire → DOM",
        "baseline: the same announcements → websocket event at bench client 0",
        format!(
            "{baseline}; the DOM row is {:.1}× (+{}) at p50, {:.1}× (+{}) at p99",
            ratio(dom.p50, baseline.p50),
            ms(dom.p50.saturating_sub(baseline.p50)),
            ratio(dom.p99, baseline.p99),
            ms(dom.p99.saturating_sub(baseline.p99)),
        ),
        "(baseline)",
    );
    bench.report.add(
        "wire → DOM",
        "where it goes: announcement → websocket frame at the page (its JS thread)",
        page_frame.to_string(),
        "(breakdown)",
    );
    bench.report.add(
        "wire → DOM",
        "where it goes: websocket frame at the page → row in the DOM (wasm: parse, store, render)",
        frame_to_dom.to_string(),
        "(breakdown)",
    );
}
