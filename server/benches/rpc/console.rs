//! The release `muster` binary on loopback with the memory registry, and its CPU time.

use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The binary cargo built next to this bench (the release one under `cargo bench`), unless
/// `MUSTER_BENCH_BINARY` names another build: a baseline measured in the same run.
fn muster() -> String {
    std::env::var("MUSTER_BENCH_BINARY").unwrap_or_else(|_| env!("CARGO_BIN_EXE_muster").into())
}

/// A running console; killed on drop.
pub struct Console {
    child: Child,
    addr: SocketAddr,
    _data_dir: tempfile::TempDir,
}

impl Console {
    /// Starts it with `args` and, when given, `seed` as `--memory-seed`, and waits until it
    /// accepts connections.
    pub fn start(args: &[&str], seed: Option<&[serde_json::Value]>) -> Console {
        let data_dir = tempfile::tempdir().expect("a data directory");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let mut command = Command::new(muster());
        command
            .args(["--registry", "memory", "--listen", &addr.to_string()])
            .args(["--no-advertise", "--no-lan", "--site-root", "/nonexistent"])
            .arg("--data-dir")
            .arg(data_dir.path())
            .args(args)
            .env_remove("MUSTER_ADMIN_TOKEN")
            .env("MUSTER_LOG", "warn")
            .stdout(Stdio::null());
        if let Some(seed) = seed {
            let path = data_dir.path().join("seed.json");
            std::fs::write(&path, serde_json::to_vec(seed).expect("JSON")).expect("seed file");
            command.arg("--memory-seed").arg(path);
        }
        let child = command.spawn().expect("muster starts");
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(addr).is_err() {
            assert!(Instant::now() < deadline, "muster did not listen on {addr}");
            std::thread::sleep(Duration::from_millis(50));
        }
        Console {
            child,
            addr,
            _data_dir: data_dir,
        }
    }

    /// `http://addr/path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Resident memory now (`VmRSS`), in MiB.
    pub fn rss_mib(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("the console runs");
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|kb| kb.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    }

    /// File descriptors open now.
    pub fn open_files(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.child.id()))
            .map_or(0, |entries| entries.count())
    }

    /// User + system CPU time so far (`/proc/PID/stat`, clock ticks of 10 ms).
    pub fn cpu(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))
            .expect("the console runs");
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .expect("a stat line")
            .1
            .split_whitespace()
            .collect();
        let ticks: u64 =
            fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
        Duration::from_millis(ticks * 10)
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
