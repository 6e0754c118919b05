//! Standard DNS-SD (`_service._tcp.local.`, RFC 6763) next to go-micro's `micro.` dialect.
//!
//! go-micro's mDNS names are invisible to avahi-browse, Bonjour browsers and `dns-sd`. One
//! mdns-sd [`ServiceDaemon`] (its own thread, its own sockets) speaks the standard dialect:
//!
//! - [`advertise`]: the console's own `_http._tcp` advertisement (`--no-advertise`: none).
//! - [`bridge`]: registry nodes mirrored under `_micro._tcp` (`--bridge-dnssd`).
//! - [`lan`]: browsing every type on the link for the LAN page (`--no-lan`: none), into the
//!   [`lan_view::LanView`] the API reads.
//! - [`instance_name`], [`txt`]: the pure rules for mirror names and TXT records.
//!
//! Port 5353 is shared with the go-micro engine (`--registry mdns`): both bind it with
//! SO_REUSEADDR and SO_REUSEPORT. Multicast reaches every socket bound there; the only
//! unicast either stack receives on 5353 is a legacy answer, which neither asks for (the
//! go-micro engine queries from an ephemeral port, mdns-sd never sets the QU bit). Each stack
//! drops the other's names quietly (the engine: not under its domain; mdns-sd: no querier).
//! The interfaces are chosen by the same rule as the engine's (`--interface`, default: up,
//! multicast, not loopback), applied with `disable_interface(All)` then `enable_interface`.
//!
//! The daemon runs under a [`Supervisor`] that holds its cache to `--dnssd-max-records`
//! ([`cache_bound`]: the crate has no bound of its own).

pub mod advertise;
pub mod bridge;
pub mod cache_bound;
pub mod instance_name;
pub mod lan;
pub mod lan_view;
pub mod txt;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use mdns_sd::{DaemonEvent, IfKind, ServiceDaemon};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::console::Hub;
use cache_bound::CacheBound;
use lan_view::LanView;

/// mdns-sd sends a goodbye at once and repeats it 120 ms later; waiting this long before the
/// daemon stops lets the repeat go out.
const GOODBYE_REPEAT_WAIT: Duration = Duration::from_millis(250);
/// How long stop waits for the tasks and the daemon.
const STOP_TIMEOUT: Duration = Duration::from_secs(3);

/// What to run, from the command line.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Advertise the console as `_http._tcp`.
    pub advertise: bool,
    /// Mirror registry nodes under `_micro._tcp`.
    pub bridge: bool,
    /// Browse the LAN for the LAN page.
    pub lan: bool,
    /// `--interface`, as the go-micro engine takes it.
    pub interfaces: Vec<String>,
    /// Where the console listens (the advertisement's port and address).
    pub listen: SocketAddr,
}

impl Settings {
    /// Whether any part needs the daemon.
    pub fn any(&self) -> bool {
        self.advertise || self.bridge || self.lan
    }
}

/// Runs the daemon for as long as the console does, restarting it empty whenever it caches
/// more than its bound (see [`cache_bound`]).
pub struct Supervisor {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Supervisor {
    /// Starts the daemon for what `settings` ask for, under `bound`; `None` when nothing is
    /// asked (the daemon is not started at all).
    /// `lan` is the LAN page's view, filled by the daemon's browsing.
    pub fn start(
        settings: &Settings,
        hub: &Arc<Hub>,
        lan: &Arc<LanView>,
        bound: Arc<CacheBound>,
    ) -> Option<Self> {
        if !settings.any() {
            return None;
        }
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(supervise(
            settings.clone(),
            hub.clone(),
            lan.clone(),
            bound,
            stopped,
        ));
        Some(Supervisor { stop, task })
    }

    /// Goodbyes for the advertisement and every mirror, then the daemon stops.
    pub async fn stop(self) {
        self.stop.send_replace(true);
        let _ = self.task.await;
    }
}

async fn supervise(
    settings: Settings,
    hub: Arc<Hub>,
    lan: Arc<LanView>,
    bound: Arc<CacheBound>,
    mut stopped: watch::Receiver<bool>,
) {
    let mut running = Dnssd::start(&settings, &hub, &lan);
    loop {
        tokio::select! {
            _ = stopped.wait_for(|stop| *stop) => break,
            () = tokio::time::sleep(cache_bound::CHECK_EVERY) => {}
        }
        let Some(dnssd) = &running else { continue };
        let Some(records) = cache_bound::records(&dnssd.daemon).await else {
            continue;
        };
        if bound.over(records) {
            tracing::warn!(
                "dnssd: the mDNS daemon caches {records} records (--dnssd-max-records {}): \
                 restarting it empty (a LAN peer announcing junk?)",
                bound.stats().max_records
            );
            if let Some(dnssd) = running.take() {
                dnssd.stop().await;
            }
            bound.restarted();
            running = Dnssd::start(&settings, &hub, &lan);
        }
    }
    if let Some(dnssd) = running {
        dnssd.stop().await;
    }
}

/// The running daemon and its tasks.
pub struct Dnssd {
    daemon: ServiceDaemon,
    advertised: Option<String>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Dnssd {
    /// Starts what `settings` ask for. `None` when nothing is asked, or when mdns-sd cannot
    /// start: then a warning is logged, the LAN view says why, and the console runs without.
    /// `lan` is the LAN page's view, filled here.
    fn start(settings: &Settings, hub: &Arc<Hub>, lan: &Arc<LanView>) -> Option<Dnssd> {
        if !settings.any() {
            return None;
        }
        match Dnssd::try_start(settings, hub, lan) {
            Ok(dnssd) => Some(dnssd),
            Err(error) => {
                tracing::warn!("dnssd: not running: {error}");
                if settings.lan {
                    lan.set_disabled(format!("mDNS (DNS-SD) could not start: {error}"));
                }
                None
            }
        }
    }

    fn try_start(settings: &Settings, hub: &Arc<Hub>, lan: &Arc<LanView>) -> Result<Dnssd, String> {
        let chosen = muster_registry::mdns::interfaces::select(&settings.interfaces)
            .map_err(|error| error.to_string())?;
        let names: Vec<IfKind> = chosen
            .iter()
            .map(|interface| IfKind::Name(interface.name.clone()))
            .collect();
        let daemon = ServiceDaemon::new().map_err(|error| error.to_string())?;
        // mdns-sd starts on every interface, loopback included; these two commands run before
        // any other, so nothing is announced or browsed outside the selection.
        daemon
            .disable_interface(IfKind::All)
            .and_then(|()| daemon.enable_interface(names))
            .map_err(|error| error.to_string())?;
        let monitor = daemon.monitor().map_err(|error| error.to_string())?;
        let (stop, _) = watch::channel(false);
        let mut dnssd = Dnssd {
            daemon: daemon.clone(),
            advertised: None,
            stop,
            tasks: Vec::new(),
        };
        // Ends by itself when the daemon stops (its channel closes).
        tokio::spawn(log_daemon_events(monitor));
        let interfaces: Vec<&str> = chosen.iter().map(|i| i.name.as_str()).collect();
        tracing::info!("dnssd: standard mDNS on {}", interfaces.join(", "));
        if settings.advertise {
            let listen = settings.listen.ip();
            let loopback_chosen = chosen.iter().any(|i| {
                i.ipv4.iter().any(|ip| ip.is_loopback()) || i.ipv6.iter().any(|ip| ip.is_loopback())
            });
            if listen.is_loopback() && !loopback_chosen {
                tracing::info!(
                    "dnssd: listening on {listen} only, so the advertisement reaches no chosen \
                     interface (listen on 0.0.0.0 or a LAN address to be found)"
                );
            }
            let host = muster_registry::mdns::names::local_host_name();
            let info = advertise::service_info(host.trim_end_matches('.'), settings.listen)?;
            let fullname = info.get_fullname().to_string();
            daemon
                .register(info)
                .map_err(|error| format!("cannot advertise the console: {error}"))?;
            tracing::info!("dnssd: advertising {fullname}");
            dnssd.advertised = Some(fullname);
        }
        if settings.bridge {
            let stop = dnssd.stop.subscribe();
            dnssd
                .tasks
                .push(tokio::spawn(bridge::run(daemon.clone(), hub.clone(), stop)));
        }
        if settings.lan {
            let stop = dnssd.stop.subscribe();
            dnssd
                .tasks
                .push(tokio::spawn(lan::run(daemon, lan.clone(), stop)));
        }
        Ok(dnssd)
    }

    /// Goodbyes for the advertisement and every mirror, then the daemon stops.
    async fn stop(self) {
        self.stop.send_replace(true);
        for task in self.tasks {
            let _ = tokio::time::timeout(STOP_TIMEOUT, task).await;
        }
        if let Some(fullname) = &self.advertised {
            if let Some(confirmation) = retry(|| self.daemon.unregister(fullname)).await {
                let _ = tokio::time::timeout(STOP_TIMEOUT, confirmation.recv_async()).await;
            }
        }
        tokio::time::sleep(GOODBYE_REPEAT_WAIT).await;
        if let Ok(done) = self.daemon.shutdown() {
            let _ = tokio::time::timeout(STOP_TIMEOUT, done.recv_async()).await;
        }
    }
}

/// Runs an mdns-sd command, waiting while its queue (100 commands) is full: a snapshot of a
/// big registry, or a burst of new types on the LAN, is more commands than that at once.
/// `None` (logged) when the command fails otherwise, e.g. once the daemon stopped.
pub async fn retry<T>(mut command: impl FnMut() -> mdns_sd::Result<T>) -> Option<T> {
    for _ in 0..500 {
        match command() {
            Ok(value) => return Some(value),
            Err(mdns_sd::Error::Again) => tokio::time::sleep(Duration::from_millis(10)).await,
            Err(error) => {
                tracing::debug!("dnssd: command failed: {error}");
                return None;
            }
        }
    }
    tracing::warn!("dnssd: the mDNS daemon accepts no commands; a change was lost");
    None
}

/// Logs what mdns-sd reports on the side: errors, and renames after a name conflict.
async fn log_daemon_events(monitor: mdns_sd::Receiver<DaemonEvent>) {
    let mut events = monitor.into_stream();
    while let Some(event) = events.next().await {
        match event {
            DaemonEvent::Error(error) => tracing::warn!("dnssd: {error}"),
            DaemonEvent::NameChange(change) => tracing::info!(
                "dnssd: {} was taken on the LAN; now {}",
                change.original,
                change.new_name
            ),
            _ => {}
        }
    }
}
