//! The real `muster` binary (release build) serving in the console's namespace, and what the
//! kernel says about it: resident memory and CPU time from `/proc`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The binary cargo built next to this bench (the release one under `cargo bench`).
const MUSTER: &str = env!("CARGO_BIN_EXE_muster");

/// UDP counters of a namespace.
#[derive(Debug, Clone, Copy)]
pub struct UdpCounters {
    /// Datagrams delivered to a socket.
    pub delivered: u64,
    /// Datagrams dropped because the socket's receive buffer was full.
    pub buffer_full: u64,
}

/// A running console.
pub struct Console {
    child: Child,
    /// muster's process id: the child's own, or under `MUSTER_BENCH_WRAP` its descendant
    /// named `muster` (found once it listens).
    pid: std::sync::OnceLock<u32>,
    /// Where it listens (loopback of the console's namespace).
    pub addr: SocketAddr,
    _data_dir: tempfile::TempDir,
}

impl Console {
    /// Starts `muster --registry mdns` on `interface` of namespace `ns`, listening on
    /// 127.0.0.1:`port` there, and waits until it accepts connections.
    ///
    /// Probing is off: the load generator's nodes listen nowhere, so every probe would turn
    /// a node stale and the bench would measure probe churn rather than discovery.
    pub fn start(ns: &str, interface: &str, port: u16, extra: &[&str]) -> Console {
        let data_dir = tempfile::tempdir().expect("a data directory");
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        // `ip netns exec` enters the namespace and execs muster (or the wrapper, below).
        // `MUSTER_BENCH_WRAP`, say `heaptrack -o /tmp/muster`: the console runs under that
        // command (split at spaces), to profile it through the whole bench.
        let wrap = std::env::var("MUSTER_BENCH_WRAP").unwrap_or_default();
        let child = Command::new("ip")
            .args(["netns", "exec", ns])
            .args(wrap.split_whitespace())
            .arg(MUSTER)
            .args(["--registry", "mdns", "--interface", interface])
            .args(["--listen", &addr.to_string()])
            .arg("--data-dir")
            .arg(data_dir.path())
            // The bench measures the go-micro path: no standard DNS-SD stack beside it.
            .args(["--no-advertise", "--no-lan"])
            // One load generator announces every node of the bench: it is one source address,
            // and it answers no refresh query, so its hour-long TTL must be believed.
            .args(["--mdns-source-quota", "100000", "--mdns-max-ttl", "1h"])
            // 100 watching clients, above the default cap of websocket watchers.
            .args(["--max-watchers", "256"])
            .args(["--probe-interval", "0", "--site-root"])
            .arg(site_root())
            .args(extra)
            .env_remove("MUSTER_ADMIN_TOKEN")
            .env("MUSTER_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("muster starts");
        Console {
            child,
            pid: std::sync::OnceLock::new(),
            addr,
            _data_dir: data_dir,
        }
    }

    /// Waits (from a thread inside the console's namespace) until the console answers TCP.
    pub fn wait_listening(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(self.addr).is_err() {
            assert!(
                Instant::now() < deadline,
                "muster did not listen on {} within 30 s",
                self.addr
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        // Listening: muster runs, so a wrapper's child can be found now.
        self.pid();
    }

    /// `http://addr/path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// `ws://addr/path`.
    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://{}{path}", self.addr)
    }

    /// Panics with its exit status if muster is no longer running.
    pub fn assert_running(&self) {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid()));
        let zombie = stat.map_or(true, |stat| {
            let after_name = &stat[stat.rfind(')').unwrap_or(0) + 2..];
            after_name.starts_with('Z')
        });
        assert!(!zombie, "muster (pid {}) exited during the run", self.pid());
    }

    /// The process id (muster's own: `ip netns exec` execs it; a wrapper's child otherwise).
    pub fn pid(&self) -> u32 {
        *self
            .pid
            .get_or_init(|| descendant_named(self.child.id(), "muster").unwrap_or(self.child.id()))
    }

    /// Resident memory now and at its peak, in KiB (`VmRSS`, `VmHWM`).
    pub fn memory_kib(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("muster's /proc status");
        let field = |name: &str| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|kib| kib.parse().ok())
                .unwrap_or_else(|| panic!("{name} in /proc/<pid>/status"))
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    /// UDP datagrams delivered to sockets and dropped for a full receive buffer, in the
    /// console's namespace (`/proc/<pid>/net/snmp` shows the namespace of that process).
    pub fn udp_counters(&self) -> UdpCounters {
        let snmp = std::fs::read_to_string(format!("/proc/{}/net/snmp", self.pid()))
            .expect("muster's /proc net/snmp");
        let mut udp = snmp.lines().filter(|line| line.starts_with("Udp:"));
        let (names, values) = (udp.next().unwrap(), udp.next().unwrap());
        let field = |wanted: &str| {
            names
                .split_whitespace()
                .zip(values.split_whitespace())
                .find(|(name, _)| *name == wanted)
                .and_then(|(_, value)| value.parse().ok())
                .unwrap_or_else(|| panic!("Udp {wanted} in net/snmp"))
        };
        UdpCounters {
            delivered: field("InDatagrams"),
            buffer_full: field("RcvbufErrors"),
        }
    }

    /// CPU time each thread has run so far, in nanoseconds by thread id (the first field of
    /// `/proc/<pid>/task/<tid>/schedstat`: the scheduler's own account, where `/proc/<pid>/stat`
    /// counts 10 ms clock ticks, too coarse for a target of 0.2 % over seconds).
    pub fn thread_cpu_ns(&self) -> std::collections::HashMap<u32, u64> {
        let tasks =
            std::fs::read_dir(format!("/proc/{}/task", self.pid())).expect("muster's /proc tasks");
        tasks
            .filter_map(|task| {
                let task = task.ok()?;
                let tid = task.file_name().to_str()?.parse().ok()?;
                let schedstat = std::fs::read_to_string(task.path().join("schedstat")).ok()?;
                let ns = schedstat.split_whitespace().next()?.parse().ok()?;
                Some((tid, ns))
            })
            .collect()
    }

    /// CPU time used so far (user + system), from `/proc/<pid>/stat`.
    pub fn cpu_time(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid()))
            .expect("muster's /proc stat");
        // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
        let after_name = &stat[stat.rfind(')').expect("stat has a (comm)") + 2..];
        let fields: Vec<&str> = after_name.split_whitespace().collect();
        let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
        Duration::from_millis(ticks * 1000 / clock_ticks_per_second())
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The first process below `root` (itself included) whose command name is `name`.
fn descendant_named(root: u32, name: &str) -> Option<u32> {
    let mut queue = vec![root];
    while let Some(pid) = queue.pop() {
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if comm.trim_end() == name {
            return Some(pid);
        }
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
            continue;
        };
        for task in tasks.flatten() {
            let children =
                std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
            queue.extend(
                children
                    .split_whitespace()
                    .filter_map(|child| child.parse::<u32>().ok()),
            );
        }
    }
    None
}

/// The built front end (`scripts/build-site.sh`): the page the wire → DOM phase opens
/// hydrates from it, so [`crate::wire_dom::preflight`] refuses to start without it.
pub fn site_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/site")
}

/// `sysconf(_SC_CLK_TCK)`: Linux reports 100 everywhere it runs today, but ask.
fn clock_ticks_per_second() -> u64 {
    let output = Command::new("getconf").arg("CLK_TCK").output();
    output
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100)
}
