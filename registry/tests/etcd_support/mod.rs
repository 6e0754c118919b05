//! A real etcd for the tests: Debian's `etcd` on loopback, free ports, a temporary data dir,
//! killed (SIGKILL) and its directory removed on drop. [`Etcd::start_tls`] serves clients over
//! TLS with certificates of a CA made for the test ([`TestPki`]); [`Cluster`] is three members
//! on loopback.
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

use etcd_client::{Certificate, Client, ConnectOptions, Identity, TlsOptions};
use muster_registry::etcd::{EtcdOptions, EtcdRegistry};
use muster_registry::{Options, TlsConfig};

/// How long etcd may take to start answering.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running (or killed, to be restarted) etcd member.
pub struct Etcd {
    child: Option<Child>,
    /// The client port the member listens on now.
    pub client_port: u16,
    peer_port: u16,
    /// Holds `data` (the member's data dir), `etcd.log` and the TLS files.
    root: PathBuf,
    /// This member's name in its cluster.
    name: String,
    /// `--initial-cluster`: every member's `name=peer URL`.
    initial_cluster: String,
    /// `--initial-cluster-token`, shared by the members of one cluster and no other.
    token: String,
    /// Clients must speak TLS (and, when `Some(true)`, present a certificate of the CA).
    tls: Option<Tls>,
}

/// How a member serves clients over TLS.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Tls {
    /// Server certificate only.
    Server,
    /// Mutual TLS: etcd's `--client-cert-auth`, clients need a certificate of the test CA.
    Mutual,
}

/// The name in the test server certificate (and no IP address: connecting to 127.0.0.1 needs
/// the server-name override, which the tests thereby exercise).
pub const SERVER_NAME: &str = "etcd.muster.test";

impl Etcd {
    /// Starts a fresh member, or returns `None` (after a warning) when etcd is missing and
    /// `MUSTER_SKIP_ETCD=1`. Panics when etcd is missing otherwise.
    pub async fn start() -> Option<Etcd> {
        let binary = etcd_binary()?;
        let mut etcd = Etcd::new(None);
        etcd.spawn(&binary).await;
        Some(etcd)
    }

    /// Starts a fresh member serving clients over TLS with certificates of a new test CA
    /// (written under its directory: [`Etcd::pki`]).
    pub async fn start_tls(tls: Tls) -> Option<Etcd> {
        let binary = etcd_binary()?;
        let mut etcd = Etcd::new(Some(tls));
        TestPki::write(&etcd.root);
        etcd.spawn(&binary).await;
        Some(etcd)
    }

    /// A stopped member with fresh ports and directory, alone in its cluster.
    fn new(tls: Option<Tls>) -> Etcd {
        static RUNS: AtomicU32 = AtomicU32::new(0);
        let root = std::env::temp_dir().join(format!(
            "muster-etcd-{}-{}",
            std::process::id(),
            RUNS.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(&root).expect("create the etcd temp dir");
        let peer_port = free_port();
        let token = root.display().to_string();
        Etcd {
            child: None,
            client_port: free_port(),
            peer_port,
            root,
            name: "muster-test".into(),
            initial_cluster: format!("muster-test=http://127.0.0.1:{peer_port}"),
            token,
            tls,
        }
    }

    /// `127.0.0.1:<client port>`, or the `https://` URL of a TLS member.
    pub fn endpoint(&self) -> String {
        match self.tls {
            None => format!("127.0.0.1:{}", self.client_port),
            Some(_) => format!("https://127.0.0.1:{}", self.client_port),
        }
    }

    /// The test CA's files of a TLS member.
    pub fn pki(&self) -> TestPki {
        TestPki::at(&self.root)
    }

    /// Registry options for this member: for a TLS member, its CA, the server name, and for
    /// mutual TLS the client certificate.
    pub fn options(&self) -> Options {
        let tls = self.tls.map(|tls| {
            let pki = self.pki();
            let mutual = tls == Tls::Mutual;
            TlsConfig {
                ca_file: Some(pki.ca_cert),
                cert_file: mutual.then_some(pki.client_cert),
                key_file: mutual.then_some(pki.client_key),
                domain_name: Some(SERVER_NAME.into()),
            }
        });
        Options {
            addrs: vec![self.endpoint()],
            timeout: Some(Duration::from_secs(5)),
            tls,
            ..Options::default()
        }
    }

    /// The raw client's options: TLS as [`Etcd::options`].
    fn connect_options(&self) -> Option<ConnectOptions> {
        let tls = self.tls?;
        let pki = self.pki();
        let read = |path: &Path| fs::read(path).expect("read a test TLS file");
        let mut options = TlsOptions::new()
            .ca_certificate(Certificate::from_pem(read(&pki.ca_cert)))
            .domain_name(SERVER_NAME);
        if tls == Tls::Mutual {
            options = options.identity(Identity::from_pem(
                read(&pki.client_cert),
                read(&pki.client_key),
            ));
        }
        Some(ConnectOptions::new().with_tls(options))
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
        Client::connect([self.endpoint()], self.connect_options())
            .await
            .expect("connect a raw client")
    }

    /// Whether the process runs (started and not killed).
    pub fn is_running(&self) -> bool {
        self.child.is_some()
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
        self.launch(binary);
        self.wait_ready().await;
    }

    /// Starts the process, without waiting for it to answer (a cluster member cannot before
    /// a quorum of its peers runs).
    fn launch(&mut self, binary: &Path) {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        let client_url = format!("{scheme}://127.0.0.1:{}", self.client_port);
        let peer_url = format!("http://127.0.0.1:{}", self.peer_port);
        let log = File::options()
            .create(true)
            .append(true)
            .open(self.root.join("etcd.log"))
            .expect("open the etcd log");
        let mut command = Command::new(binary);
        command
            .arg(format!("--name={}", self.name))
            .arg(format!("--data-dir={}", self.root.join("data").display()))
            .arg(format!("--listen-client-urls={client_url}"))
            .arg(format!("--advertise-client-urls={client_url}"))
            .arg(format!("--listen-peer-urls={peer_url}"))
            .arg(format!("--initial-advertise-peer-urls={peer_url}"))
            .arg(format!("--initial-cluster={}", self.initial_cluster))
            .arg(format!("--initial-cluster-token={}", self.token))
            .arg("--logger=zap")
            .arg("--log-level=warn");
        if let Some(tls) = self.tls {
            let pki = self.pki();
            command
                .arg(format!("--cert-file={}", pki.server_cert.display()))
                .arg(format!("--key-file={}", pki.server_key.display()));
            // etcd requires client certificates as soon as it has a CA to check them with.
            if tls == Tls::Mutual {
                command
                    .arg(format!("--trusted-ca-file={}", pki.ca_cert.display()))
                    .arg("--client-cert-auth");
            }
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone the log handle"))
            .stderr(log)
            .spawn()
            .expect("start etcd");
        self.child = Some(child);
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
            if let Ok(mut client) = Client::connect([self.endpoint()], self.connect_options()).await
            {
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

/// Three etcd members on loopback, one cluster (plain HTTP).
pub struct Cluster {
    /// The members, in start order.
    pub members: Vec<Etcd>,
}

impl Cluster {
    /// Starts three members and waits until each answers a read (so a leader is elected), or
    /// returns `None` when etcd is missing and the tests may skip.
    pub async fn start() -> Option<Cluster> {
        let binary = etcd_binary()?;
        let mut members: Vec<Etcd> = (0..3).map(|_| Etcd::new(None)).collect();
        let initial_cluster = members
            .iter()
            .enumerate()
            .map(|(index, member)| format!("m{index}=http://127.0.0.1:{}", member.peer_port))
            .collect::<Vec<_>>()
            .join(",");
        // One token for the three (each member's own is its directory).
        let token = members[0].token.clone();
        for (index, member) in members.iter_mut().enumerate() {
            member.name = format!("m{index}");
            member.initial_cluster = initial_cluster.clone();
            member.token = token.clone();
            member.launch(&binary);
        }
        for member in &mut members {
            member.wait_ready().await;
        }
        Some(Cluster { members })
    }

    /// Every member's client endpoint.
    pub fn endpoints(&self) -> Vec<String> {
        self.members.iter().map(Etcd::endpoint).collect()
    }

    /// Registry options naming every member.
    pub fn options(&self) -> Options {
        Options {
            addrs: self.endpoints(),
            ..self.members[0].options()
        }
    }

    /// The index of the leader, once a running member reports one (etcd's own election:
    /// about a second after a leader is lost, with the default election timeout).
    pub async fn leader(&self) -> usize {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(leader) = self.reported_leader().await {
                return leader;
            }
            assert!(
                Instant::now() < deadline,
                "no leader within {START_TIMEOUT:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The leader a running member reports now, if any.
    async fn reported_leader(&self) -> Option<usize> {
        for member in self.members.iter().filter(|m| m.is_running()) {
            let Ok(mut client) = Client::connect([member.endpoint()], None).await else {
                continue;
            };
            let Ok(Ok(status)) =
                tokio::time::timeout(Duration::from_secs(1), client.status()).await
            else {
                continue;
            };
            let leader = status.leader();
            if leader == 0 {
                continue;
            }
            let Ok(list) = client.member_list().await else {
                continue;
            };
            let name = list
                .members()
                .iter()
                .find(|m| m.id() == leader)
                .map(|m| m.name().to_string());
            let index = self
                .members
                .iter()
                .position(|m| Some(&m.name) == name.as_ref());
            if index.is_some_and(|index| self.members[index].is_running()) {
                return index;
            }
        }
        None
    }

    /// Restarts a killed member and waits until it answers (which needs a quorum).
    pub async fn restart(&mut self, index: usize) {
        self.members[index].restart().await;
    }
}

/// The files of a test CA: a CA, a server certificate for [`SERVER_NAME`] and a client
/// certificate signed by it, and a second, unrelated CA (a "wrong" CA).
pub struct TestPki {
    /// The CA's certificate (PEM).
    pub ca_cert: PathBuf,
    /// etcd's certificate, valid for [`SERVER_NAME`] only.
    pub server_cert: PathBuf,
    /// Its key.
    pub server_key: PathBuf,
    /// A client certificate (for mutual TLS).
    pub client_cert: PathBuf,
    /// Its key.
    pub client_key: PathBuf,
    /// Another CA's certificate, which signed none of these.
    pub other_ca_cert: PathBuf,
}

impl TestPki {
    fn at(dir: &Path) -> TestPki {
        TestPki {
            ca_cert: dir.join("ca.pem"),
            server_cert: dir.join("server.pem"),
            server_key: dir.join("server-key.pem"),
            client_cert: dir.join("client.pem"),
            client_key: dir.join("client-key.pem"),
            other_ca_cert: dir.join("other-ca.pem"),
        }
    }

    /// Makes the CA, the certificates and the other CA, and writes them under `dir`.
    fn write(dir: &Path) -> TestPki {
        use rcgen::{
            BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
            KeyUsagePurpose,
        };
        let files = TestPki::at(dir);
        let ca = |name: &str| {
            let key = KeyPair::generate().expect("CA key");
            let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            params.distinguished_name.push(DnType::CommonName, name);
            params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
            let cert = params.self_signed(&key).expect("self-sign the CA");
            (cert, key)
        };
        let (ca_cert, ca_key) = ca("Muster test CA");
        let leaf = |names: Vec<String>, usages: Vec<ExtendedKeyUsagePurpose>| {
            let key = KeyPair::generate().expect("leaf key");
            let mut params = CertificateParams::new(names).expect("leaf params");
            params.extended_key_usages = usages;
            let cert = params
                .signed_by(&key, &ca_cert, &ca_key)
                .expect("sign a leaf");
            (cert.pem(), key.serialize_pem())
        };
        // etcd's gRPC gateway connects to etcd itself with the server's certificate: it
        // needs client authentication too.
        let (server, server_key) = leaf(
            vec![SERVER_NAME.into()],
            vec![
                ExtendedKeyUsagePurpose::ServerAuth,
                ExtendedKeyUsagePurpose::ClientAuth,
            ],
        );
        let (client, client_key) = leaf(
            vec!["muster-client".into()],
            vec![ExtendedKeyUsagePurpose::ClientAuth],
        );
        let (other_ca, _) = ca("Some other CA");
        for (path, pem) in [
            (&files.ca_cert, ca_cert.pem()),
            (&files.server_cert, server),
            (&files.server_key, server_key),
            (&files.client_cert, client),
            (&files.client_key, client_key),
            (&files.other_ca_cert, other_ca.pem()),
        ] {
            fs::write(path, pem).expect("write a test TLS file");
        }
        files
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
