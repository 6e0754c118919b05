//! A private LAN of network namespaces for the DNS-SD tests, consoles on it, and an independent
//! peer (python-zeroconf) on it.
//!
//! The LAN itself is the registry tests' `private_lan` (here 10.78.0.0/24 and `mdsd-*` names,
//! so these and the registry's mDNS tests can run at once). Processes run with `ip netns exec`;
//! the test's own HTTP and WebSocket clients run on a thread that entered the console's
//! namespace. Namespaces are deleted on drop, panics included.
//!
//! Needs root, `ip`, and python-zeroconf in `target/pyenv` (`scripts/setup.sh test`).
//! `MUSTER_SKIP_NETNS=1` skips these tests explicitly, with a warning.
#![allow(dead_code)]

use std::fs::File;
use std::future::Future;
use std::io::{BufRead, BufReader, Write};
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::MUSTER;

#[path = "../../../registry/tests/private_lan/mod.rs"]
mod private_lan;
use private_lan::{enter, ip, PrivateLan};

static NEXT_LAN: AtomicUsize = AtomicUsize::new(0);

/// The port consoles listen on inside their namespace (nothing else is there).
pub const CONSOLE_PORT: u16 = 3000;
/// The admin token the consoles get (they listen beyond loopback).
pub const TOKEN: &str = "dnssd-test-token";

/// `true` (after a warning) when the environment asks to skip namespace tests.
pub fn skip() -> bool {
    if std::env::var_os("MUSTER_SKIP_NETNS").is_some_and(|v| v == "1") {
        let _ = std::io::stderr()
            .write_all(b"WARNING: MUSTER_SKIP_NETNS=1: DNS-SD network-namespace test SKIPPED\n");
        return true;
    }
    false
}

/// A private LAN of hosts (10.78.0.0/24, namespaces `mdsd-<pid>-<n>-*`).
pub struct Lan {
    lan: PrivateLan,
}

/// The third octet of this LAN's subnet: the registry's tests use 10.77, the bench 10.79.
const SUBNET: u8 = 78;

impl Lan {
    /// A LAN of `hosts` hosts: host i is 10.78.0.(i+1).
    pub fn new(hosts: usize) -> Lan {
        let prefix = format!(
            "mdsd-{}-{}",
            std::process::id(),
            NEXT_LAN.fetch_add(1, Ordering::Relaxed)
        );
        let names: Vec<String> = (0..hosts).map(|index| format!("h{index}")).collect();
        Lan {
            lan: PrivateLan::new(&prefix, SUBNET, &names),
        }
    }

    /// Host `index`'s address.
    pub fn ip(index: usize) -> Ipv4Addr {
        Ipv4Addr::new(10, SUBNET, 0, index as u8 + 1)
    }

    /// Host `index`'s namespace.
    pub fn ns(&self, index: usize) -> &str {
        self.lan.namespace(index)
    }

    /// Takes host `index`'s `eth0` down: the host is off the LAN, with no interface for mDNS.
    pub fn unplug(&self, index: usize) {
        ip(&["-n", self.ns(index), "link", "set", "eth0", "down"]);
    }

    /// A client thread inside host `index`'s namespace: every socket it opens is that
    /// host's.
    pub fn client(&self, index: usize) -> Client {
        Client::spawn(self.ns(index).to_string())
    }

    /// Starts a console on host `index` (`--interface eth0`, listening on every address of
    /// its namespace) with `args` added; its log (`MUSTER_LOG=info`) goes to a file.
    pub fn console(&self, index: usize, args: &[&str]) -> Console {
        self.console_logging(index, args, "info")
    }

    /// [`Lan::console`] with the log filter `log_filter` (`MUSTER_LOG`).
    pub fn console_logging(&self, index: usize, args: &[&str], log_filter: &str) -> Console {
        self.spawn_console(index, Some("eth0"), CONSOLE_PORT, args, log_filter)
    }

    /// [`Lan::console`] listening on `port` instead of [`CONSOLE_PORT`]: a second console on
    /// the same host.
    pub fn console_on_port(&self, index: usize, port: u16, args: &[&str]) -> Console {
        self.spawn_console(index, Some("eth0"), port, args, "info")
    }

    /// [`Lan::console`] without `--interface`: the console picks its interfaces itself, as
    /// `scripts/run.sh` runs it.
    pub fn console_choosing_interfaces(&self, index: usize, args: &[&str]) -> Console {
        self.spawn_console(index, None, CONSOLE_PORT, args, "info")
    }

    fn spawn_console(
        &self,
        index: usize,
        interface: Option<&str>,
        port: u16,
        args: &[&str],
        log_filter: &str,
    ) -> Console {
        let dir = tempfile::tempdir().unwrap();
        let log_path = dir.path().join("muster.log");
        let log = File::create(&log_path).unwrap();
        let mut command = Command::new("ip");
        command.args(["netns", "exec", self.ns(index), MUSTER]);
        if !args.contains(&"--registry") {
            command.args(["--registry", "memory"]);
        }
        if let Some(interface) = interface {
            command.args(["--interface", interface]);
        }
        if !args.contains(&"--probe-interval") {
            command.args(["--probe-interval", "0"]);
        }
        let child = command
            .args(["--site-root", "/nonexistent"])
            .args(["--admin-token", TOKEN])
            .arg("--listen")
            .arg(format!("0.0.0.0:{port}"))
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .args(args)
            .env("MUSTER_LOG", log_filter)
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("muster runs");
        Console {
            child: Some(child),
            log_path,
            _dir: dir,
        }
    }

    /// Runs `muster <args>` (a subcommand) on host `index` until dropped; `--registry mdns
    /// --interface eth0` come first.
    pub fn muster_command(&self, index: usize, args: &[&str]) -> Process {
        let child = Command::new("ip")
            .args(["netns", "exec", self.ns(index), MUSTER])
            .args(["--registry", "mdns", "--interface", "eth0"])
            .args(args)
            .env("MUSTER_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .expect("muster runs");
        Process { child }
    }

    /// The independent peer on host `index`, browsing `types`.
    pub fn browsing_peer(&self, index: usize, types: &[&str]) -> Peer {
        let mut args = vec!["browse"];
        args.extend_from_slice(types);
        let peer = Peer::spawn(self.ns(index), Lan::ip(index), &args);
        peer.expect(Duration::from_secs(20), "the peer browsing", |e| {
            e["event"] == "browsing"
        });
        peer
    }

    /// The independent peer on host `index`, publishing an instance until dropped or
    /// [`Peer::close`]d.
    pub fn publishing_peer(
        &self,
        index: usize,
        service_type: &str,
        instance: &str,
        port: u16,
        txt: &[&str],
    ) -> Peer {
        let port = port.to_string();
        let mut args = vec!["publish", service_type, instance, &port];
        args.extend_from_slice(txt);
        let peer = Peer::spawn(self.ns(index), Lan::ip(index), &args);
        peer.expect(Duration::from_secs(20), "the peer publishing", |e| {
            e["event"] == "published"
        });
        peer
    }
}

/// A thread that entered a host's namespace and drives a current-thread Tokio runtime there;
/// sockets stay usable across [`Client::run`] calls (they belong to this one runtime).
pub struct Client {
    handle: tokio::runtime::Handle,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Client {
    fn spawn(ns: String) -> Client {
        let (handle_tx, handle_rx) = mpsc::channel();
        let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            enter(&ns);
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            handle_tx.send(runtime.handle().clone()).unwrap();
            runtime.block_on(async {
                let _ = stop_rx.await;
            });
        });
        Client {
            handle: handle_rx.recv().expect("client thread started"),
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Runs `task` in the namespace and returns its output; a panic in it fails the caller.
    pub fn run<T: Send + 'static>(&self, task: impl Future<Output = T> + Send + 'static) -> T {
        match futures::executor::block_on(self.handle.spawn(task)) {
            Ok(value) => value,
            Err(error) => std::panic::resume_unwind(error.into_panic()),
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A console running in a namespace.
pub struct Console {
    child: Option<Child>,
    log_path: PathBuf,
    _dir: tempfile::TempDir,
}

impl Console {
    /// The muster process's pid (`ip netns exec` execs it), e.g. to read its VmRSS.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Its log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// SIGTERM (what `shutdown.rs` handles), then waits for the exit; returns whether it
    /// exited cleanly. `ip netns exec` execs muster, so the pid is muster's own.
    pub fn terminate(&mut self) -> bool {
        let Some(mut child) = self.child.take() else {
            return false;
        };
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        child.wait().map(|status| status.success()).unwrap_or(false)
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A process killed on drop.
pub struct Process {
    child: Child,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// python-zeroconf, pinned by `scripts/setup.sh test` into `target/pyenv`.
fn python() -> PathBuf {
    let path = std::env::var_os("MUSTER_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../target/pyenv/bin/python"
            ))
        });
    assert!(
        path.exists(),
        "{} is missing: run `scripts/setup.sh test` (installs python-zeroconf for the DNS-SD \
         tests), or set MUSTER_SKIP_NETNS=1 to skip them",
        path.display()
    );
    path
}

/// The independent DNS-SD peer (`tests/dnssd_peer.py`): its JSON lines, as they come.
pub struct Peer {
    child: Child,
    stdin: Option<ChildStdin>,
    events: Receiver<Value>,
}

impl Peer {
    fn spawn(ns: &str, ip: Ipv4Addr, args: &[&str]) -> Peer {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/dnssd_peer.py");
        let mut child = Command::new("ip")
            .args(["netns", "exec", ns])
            .arg(python())
            .arg(script)
            .arg("--ip")
            .arg(ip.to_string())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the python peer runs");
        let stdout = child.stdout.take().unwrap();
        let (sender, events) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                match serde_json::from_str(&line) {
                    Ok(event) => {
                        if sender.send(event).is_err() {
                            break;
                        }
                    }
                    Err(_) => eprintln!("peer: {line}"),
                }
            }
        });
        Peer {
            stdin: child.stdin.take(),
            child,
            events,
        }
    }

    /// The first event from now on that `matches`, waiting at most `timeout`.
    pub fn expect(&self, timeout: Duration, what: &str, matches: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + timeout;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(event) if matches(&event) => return event,
                Ok(event) => seen.push(event),
                Err(_) => panic!("peer: no {what} within {timeout:?}; saw {seen:#?}"),
            }
        }
    }

    /// Every event that arrives within `window`.
    pub fn collect(&self, window: Duration) -> Vec<Value> {
        let deadline = Instant::now() + window;
        let mut seen = Vec::new();
        while let Ok(event) = self
            .events
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            seen.push(event);
        }
        seen
    }

    /// Closes stdin: a publishing peer unregisters (a goodbye) and exits.
    pub fn close(&mut self) {
        self.stdin.take();
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.stdin.take();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until the console in this thread's namespace accepts connections.
pub async fn console_ready() {
    let deadline = Instant::now() + Duration::from_secs(20);
    while tokio::net::TcpStream::connect(("127.0.0.1", CONSOLE_PORT))
        .await
        .is_err()
    {
        assert!(
            Instant::now() < deadline,
            "the console did not start listening"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Registers `service` through the console in this thread's namespace (with the admin token:
/// the consoles listen beyond loopback); fails the test unless it is a 201.
pub async fn register(service: Value) {
    let response = super::client()
        .post(url("/api/services"))
        .bearer_auth(TOKEN)
        .json(&service)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
}

/// `http://127.0.0.1:3000/path`, for a client in the console's namespace.
pub fn url(path: &str) -> String {
    format!("http://127.0.0.1:{CONSOLE_PORT}{path}")
}
