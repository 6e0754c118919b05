//! Runs the real `muster` binary for a test: memory registry, a free loopback port, a private
//! data directory, and helpers to speak to it.
//!
//! These consoles run in the machine's own network namespace, so they never start standard
//! DNS-SD (`--no-advertise --no-lan`): no multicast may leave a test. `dnssd.rs` runs its
//! consoles inside namespaces of its own (see `netns.rs`).
#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

pub mod netns;
pub mod raw;

/// The binary under test.
pub const MUSTER: &str = env!("CARGO_BIN_EXE_muster");

/// A running console.
pub struct Server {
    child: Child,
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its data directory.
    pub data_dir: PathBuf,
    /// Keeps a temporary data directory alive.
    _temp: Option<tempfile::TempDir>,
}

impl Server {
    /// A console on 127.0.0.1 with `--registry memory` (unless `args` name another) and a
    /// fresh data directory.
    pub fn start(args: &[&str]) -> Server {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path().to_path_buf();
        let mut server = Server::start_with(([127, 0, 0, 1], 0).into(), &dir, args);
        server._temp = Some(temp);
        server
    }

    /// A console listening on `listen` (port 0: a free one) with `data_dir`.
    pub fn start_with(listen: SocketAddr, data_dir: &Path, args: &[&str]) -> Server {
        let addr = if listen.port() == 0 {
            let port = TcpListener::bind((listen.ip(), 0))
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            SocketAddr::new(listen.ip(), port)
        } else {
            listen
        };
        let mut command = Command::new(MUSTER);
        if !args.contains(&"--registry") {
            command.args(["--registry", "memory"]);
        }
        // Health checks call every node's address: tests register made-up ones (10.0.x.x),
        // which must never be dialled from here. A test that checks health names loopback
        // peers and its own interval.
        if !args.contains(&"--probe-interval") {
            command.args(["--probe-interval", "0"]);
        }
        let child = command
            .args(["--site-root", "/nonexistent", "--no-advertise", "--no-lan"])
            .arg("--listen")
            .arg(addr.to_string())
            .arg("--data-dir")
            .arg(data_dir)
            .args(args)
            .env_remove("MUSTER_ADMIN_TOKEN")
            .env("MUSTER_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("muster runs");
        let server = Server {
            child,
            addr,
            data_dir: data_dir.to_path_buf(),
            _temp: None,
        };
        server.wait_healthy();
        server
    }

    /// The address to connect to (loopback when listening on every address).
    pub fn connect_addr(&self) -> SocketAddr {
        if self.addr.ip().is_unspecified() {
            SocketAddr::from(([127, 0, 0, 1], self.addr.port()))
        } else {
            self.addr
        }
    }

    /// `http://addr/path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.connect_addr())
    }

    /// `ws://addr/path`.
    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://{}{path}", self.connect_addr())
    }

    fn wait_healthy(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(stream) = std::net::TcpStream::connect(self.connect_addr()) {
                drop(stream);
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("muster did not start listening on {}", self.addr);
    }

    /// The process id (for signals).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL: no shutdown at all.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then waits for the exit; returns whether it exited cleanly.
    pub fn terminate(&mut self) -> bool {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        self.child
            .wait()
            .map(|status| status.success())
            .unwrap_or(false)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A loopback port nothing listens on (for a second listener of a console).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Runs the console with `args` (memory registry, no DNS-SD), expecting it to refuse to start
/// within 10 s; returns what it printed on stderr.
pub fn refused_at_start(args: &[&str]) -> String {
    let mut child = Command::new(MUSTER)
        .args(["--registry", "memory", "--no-advertise", "--no-lan"])
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .env_remove("MUSTER_ADMIN_TOKEN")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("muster runs");
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("muster started with {args:?} instead of refusing");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(!status.success(), "exited cleanly with {args:?}: {stderr}");
    stderr
}

/// An HTTP client that does not follow redirects (the login flow checks them).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// A go-micro service with one node.
pub fn service(name: &str, node_id: &str, address: &str) -> Value {
    json!({
        "name": name,
        "version": "1.0.0",
        "metadata": {"team": "core"},
        "endpoints": [{
            "name": "Greeter.Hello",
            "request": {"name": "Request", "type": "Request", "values": [{"name": "name", "type": "string", "values": null}]},
            "response": {"name": "Response", "type": "Response", "values": null},
            "metadata": {"stream": "false"}
        }],
        "nodes": [{"id": node_id, "address": address, "metadata": {"protocol": "grpc"}}]
    })
}

/// `POST /api/services` of `body`, which must be accepted (201).
pub async fn register(server: &Server, body: Value) {
    let response = client()
        .post(server.url("/api/services"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "{:?}", response.text().await);
}

/// `GET url` as JSON (panics on a transport error or a body that is not JSON).
pub async fn get_json(url: impl reqwest::IntoUrl) -> Value {
    client()
        .get(url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Polls `check` every 50 ms until it returns `Some`, for at most `timeout`.
pub async fn eventually<T, F, Fut>(timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "condition not met within {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `GET /api/services/{name}` as JSON, or `None` on 404.
pub async fn get_service(server: &Server, name: &str) -> Option<Value> {
    let response = client()
        .get(server.url(&format!("/api/services/{name}")))
        .send()
        .await
        .unwrap();
    if response.status() == 404 {
        return None;
    }
    assert_eq!(response.status(), 200);
    Some(response.json().await.unwrap())
}

/// The state of node `id` of `name` (first version holding it).
pub async fn node_state(server: &Server, name: &str, id: &str) -> Option<String> {
    let versions = get_service(server, name).await?;
    versions.as_array()?.iter().find_map(|version| {
        version["nodes"].as_array()?.iter().find_map(|node| {
            (node["id"] == id).then(|| node["state"].as_str().unwrap().to_string())
        })
    })
}
