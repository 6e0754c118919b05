//! A real etcd for the tests: Debian's `etcd` on loopback, free ports, a temporary data dir,
//! killed (SIGKILL) and its directory removed on drop.
//!
//! CI installs etcd (`scripts/setup.sh test`), so a missing binary fails the test with a clear
//! message; `MUSTER_SKIP_ETCD=1` turns that into a warning and a skipped test, for machines
//! that cannot have etcd.

#![allow(dead_code)] // Each test binary uses part of the helper.

use std::fs::{self, File};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use etcd_client::Client;
use muster_registry::etcd::{EtcdOptions, EtcdRegistry};
use muster_registry::Options;

/// How long etcd may take to start answering.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running (or killed, to be restarted) etcd member.
pub struct Etcd {
    child: Option<Child>,
    /// The client port the member listens on now.
    pub client_port: u16,
    peer_port: u16,
    /// Holds `data` (the member's data dir) and `etcd.log`.
    root: PathBuf,
}

impl Etcd {
    /// Starts a fresh member, or returns `None` (after a warning) when etcd is missing and
    /// `MUSTER_SKIP_ETCD=1`. Panics when etcd is missing otherwise.
    pub async fn start() -> Option<Etcd> {
        let binary = etcd_binary()?;
        static RUNS: AtomicU32 = AtomicU32::new(0);
        let root = std::env::temp_dir().join(format!(
            "muster-etcd-{}-{}",
            std::process::id(),
            RUNS.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(&root).expect("create the etcd temp dir");
        let mut etcd = Etcd {
            child: None,
            client_port: free_port(),
            peer_port: free_port(),
            root,
        };
        etcd.spawn(&binary).await;
        Some(etcd)
    }

    /// `127.0.0.1:<client port>`.
    pub fn endpoint(&self) -> String {
        format!("127.0.0.1:{}", self.client_port)
    }

    /// Registry options for this member.
    pub fn options(&self) -> Options {
        Options {
            addrs: vec![self.endpoint()],
            timeout: Some(Duration::from_secs(5)),
            ..Options::default()
        }
    }

    /// A registry on this member with `etcd` options.
    pub async fn registry_with(&self, etcd: EtcdOptions) -> EtcdRegistry {
        let mut options = self.options();
        options.extensions.insert(etcd);
        EtcdRegistry::connect(options)
            .await
            .expect("connect the registry")
    }

    /// A registry on this member with the default options.
    pub async fn registry(&self) -> EtcdRegistry {
        self.registry_with(EtcdOptions::default()).await
    }

    /// A raw etcd client, to read and write keys behind the registry's back.
    pub async fn client(&self) -> Client {
        Client::connect([self.endpoint()], None)
            .await
            .expect("connect a raw client")
    }

    /// SIGKILL: no clean shutdown, connections reset.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the member again on the same data dir, listening for clients on `client_port`
    /// (the peer port stays: it is part of the stored membership).
    pub async fn restart_on(&mut self, client_port: u16) {
        self.kill();
        self.client_port = client_port;
        let binary = etcd_binary().expect("etcd was there at start");
        self.spawn(&binary).await;
    }

    /// Starts the member again on the same data dir and ports.
    pub async fn restart(&mut self) {
        self.restart_on(self.client_port).await;
    }

    async fn spawn(&mut self, binary: &Path) {
        let client_url = format!("http://127.0.0.1:{}", self.client_port);
        let peer_url = format!("http://127.0.0.1:{}", self.peer_port);
        let log = File::options()
            .create(true)
            .append(true)
            .open(self.root.join("etcd.log"))
            .expect("open the etcd log");
        let child = Command::new(binary)
            .arg("--name=muster-test")
            .arg(format!("--data-dir={}", self.root.join("data").display()))
            .arg(format!("--listen-client-urls={client_url}"))
            .arg(format!("--advertise-client-urls={client_url}"))
            .arg(format!("--listen-peer-urls={peer_url}"))
            .arg(format!("--initial-advertise-peer-urls={peer_url}"))
            .arg(format!("--initial-cluster=muster-test={peer_url}"))
            .arg("--logger=zap")
            .arg("--log-level=warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone the log handle"))
            .stderr(log)
            .spawn()
            .expect("start etcd");
        self.child = Some(child);
        self.wait_ready().await;
    }

    /// Waits until the member answers a read.
    async fn wait_ready(&mut self) {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!("etcd exited with {status}; log:\n{}", self.log());
            }
            if let Ok(mut client) = Client::connect([self.endpoint()], None).await {
                if client.get("/muster/ready", None).await.is_ok() {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "etcd did not answer within {START_TIMEOUT:?}; log:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The member's log so far.
    pub fn log(&self) -> String {
        fs::read_to_string(self.root.join("etcd.log")).unwrap_or_default()
    }
}

impl Drop for Etcd {
    fn drop(&mut self) {
        self.kill();
        let _ = fs::remove_dir_all(&self.root);
    }
}

/// A port nobody listens on now (the OS's pick).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("bind a loopback port")
        .port()
}

/// The etcd binary (`MUSTER_ETCD_BIN`, else `etcd` on the `PATH` or in `/usr/bin`), or `None`
/// when it is missing and the tests may skip.
fn etcd_binary() -> Option<PathBuf> {
    if let Some(binary) = std::env::var_os("MUSTER_ETCD_BIN") {
        let binary = PathBuf::from(binary);
        if binary.is_file() {
            return Some(binary);
        }
        return missing();
    }
    let found = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .chain([PathBuf::from("/usr/bin")])
        .map(|dir| dir.join("etcd"))
        .find(|candidate| candidate.is_file());
    found.or_else(missing)
}

/// `None` when a test may skip for want of etcd; a panic saying what to do otherwise.
fn missing() -> Option<PathBuf> {
    assert!(
        std::env::var("MUSTER_SKIP_ETCD").as_deref() == Ok("1"),
        "etcd not found: these tests need a real etcd server. Install Debian's etcd-server \
         (scripts/setup.sh test does), or set MUSTER_SKIP_ETCD=1 to skip them"
    );
    // Straight to the stream: the test harness captures `eprintln!` of passing tests.
    let _ = std::io::Write::write_all(
        &mut std::io::stderr(),
        b"WARNING: etcd not found and MUSTER_SKIP_ETCD=1: etcd test SKIPPED\n",
    );
    None
}

/// Starts etcd for a test, or returns from it (skipped) when allowed to.
#[macro_export]
macro_rules! etcd_or_skip {
    () => {
        match etcd_support::Etcd::start().await {
            Some(etcd) => etcd,
            None => return,
        }
    };
}
