//! The console over HTTPS (issue #18): certificates from a CA the test makes (openssl CLI),
//! checked by the client against that CA only; the HTTP → HTTPS redirect, HSTS and `Secure`
//! cookies; reload on SIGHUP and on file change; and `X-Forwarded-*` believed from the
//! `--trusted-proxy` only.

mod common;

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use common::raw::{exchange, request, send_from, Answer};
use common::{free_port, refused_at_start, Server};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};
use tokio_rustls::TlsConnector;

const TOKEN: &str = "https-test-9c2e7b5d1f4a0f3a";

/// `openssl req` arguments for a new P-256 key, unencrypted.
const NEW_KEY: &[&str] = &[
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
];

/// A CA and leaf certificates for `localhost` and 127.0.0.1, made with the openssl CLI.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn new() -> Pki {
        let pki = Pki {
            dir: tempfile::tempdir().unwrap(),
        };
        pki.ca("ca");
        pki
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn openssl(&self, args: &[&str]) {
        let output = Command::new("openssl")
            .current_dir(self.dir.path())
            .args(args)
            .output()
            .expect("openssl runs (scripts/setup.sh test installs it)");
        assert!(
            output.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// A self-signed CA `name.pem` / `name.key`.
    fn ca(&self, name: &str) {
        self.openssl(
            &[
                &["req", "-x509"],
                NEW_KEY,
                &[
                    "-keyout",
                    &format!("{name}.key"),
                    "-out",
                    &format!("{name}.pem"),
                    "-days",
                    "2",
                    "-subj",
                    &format!("/CN=muster test {name}"),
                    "-addext",
                    "basicConstraints=critical,CA:TRUE",
                    "-addext",
                    "keyUsage=critical,keyCertSign,cRLSign",
                ],
            ]
            .concat(),
        );
    }

    /// A server certificate `name.pem` / `name.key` signed by the CA.
    fn leaf(&self, name: &str) {
        std::fs::write(
            self.path("leaf.ext"),
            "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        self.openssl(
            &[
                &["req"],
                NEW_KEY,
                &[
                    "-keyout",
                    &format!("{name}.key"),
                    "-out",
                    &format!("{name}.csr"),
                    "-subj",
                    "/CN=localhost",
                ],
            ]
            .concat(),
        );
        self.openssl(&[
            "x509",
            "-req",
            "-in",
            &format!("{name}.csr"),
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "leaf.ext",
            "-out",
            &format!("{name}.pem"),
        ]);
    }

    /// A client that trusts only the CA in `ca_file`.
    fn connector(ca_file: &Path) -> TlsConnector {
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(ca_file).unwrap() {
            roots.add(cert.unwrap()).unwrap();
        }
        let config = ClientConfig::builder_with_provider(Arc::new(
            tokio_rustls::rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        TlsConnector::from(Arc::new(config))
    }
}

/// One request over TLS to `addr` as `name`, verified against `ca`; the answer and the
/// certificate the server presented.
async fn tls_exchange(
    ca: &Path,
    addr: SocketAddr,
    name: &str,
    text: &str,
) -> std::io::Result<(Answer, Vec<u8>)> {
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let server_name = ServerName::try_from(name.to_string()).unwrap();
    let mut stream = Pki::connector(ca).connect(server_name, tcp).await?;
    let presented = stream.get_ref().1.peer_certificates().unwrap()[0].to_vec();
    let answer = exchange(&mut stream, text.as_bytes()).await?;
    Ok((answer, presented))
}

fn der(pem: &Path) -> Vec<u8> {
    CertificateDer::from_pem_file(pem).unwrap().to_vec()
}

fn loopback(last: u8) -> IpAddr {
    IpAddr::from([127, 0, 0, last])
}

#[tokio::test]
async fn https_with_redirect_hsts_and_secure_cookies() {
    let pki = Pki::new();
    pki.leaf("a");
    let redirect_port = free_port();
    let server = Server::start(&[
        "--tls-cert",
        pki.path("a.pem").to_str().unwrap(),
        "--tls-key",
        pki.path("a.key").to_str().unwrap(),
        "--redirect-http",
        &format!("127.0.0.1:{redirect_port}"),
        "--admin-token",
        TOKEN,
    ]);
    let ca = pki.path("ca.pem");
    let host = format!("localhost:{}", server.addr.port());
    for name in ["localhost", "127.0.0.1"] {
        let (health, _) = tls_exchange(
            &ca,
            server.addr,
            name,
            &request("GET", "/healthz", &host, &[], ""),
        )
        .await
        .unwrap();
        assert_eq!(health.status, 200, "as {name}");
        assert_eq!(
            health.header("strict-transport-security"),
            "max-age=31536000"
        );
    }

    pki.ca("other-ca");
    let untrusted = tls_exchange(
        &pki.path("other-ca.pem"),
        server.addr,
        "localhost",
        &request("GET", "/healthz", &host, &[], ""),
    )
    .await;
    assert!(
        untrusted.is_err(),
        "a client checking the certificate against another CA refuses it"
    );

    let login = request(
        "POST",
        "/login",
        &host,
        &[
            "Content-Type: application/json",
            &format!("Origin: https://{host}"),
        ],
        &format!(r#"{{"token":"{TOKEN}"}}"#),
    );
    let (answer, _) = tls_exchange(&ca, server.addr, "localhost", &login)
        .await
        .unwrap();
    assert_eq!(answer.status, 200, "{answer:?}");
    let cookie = answer.header("set-cookie");
    assert!(
        cookie.contains("; Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    let logout = request(
        "POST",
        "/logout",
        &host,
        &["Content-Type: application/json"],
        "",
    );
    let (answer, _) = tls_exchange(&ca, server.addr, "localhost", &logout)
        .await
        .unwrap();
    assert!(
        answer.header("set-cookie").contains("Max-Age=0; Secure"),
        "{answer:?}"
    );

    let redirect_addr: SocketAddr = ([127, 0, 0, 1], redirect_port).into();
    let answer = send_from(
        loopback(1),
        redirect_addr,
        &request(
            "GET",
            "/services?q=greeter",
            &format!("localhost:{redirect_port}"),
            &[],
            "",
        ),
    )
    .await;
    assert_eq!(answer.status, 308);
    assert_eq!(
        answer.header("location"),
        format!(
            "https://localhost:{}/services?q=greeter",
            server.addr.port()
        )
    );
    let answer = send_from(
        loopback(1),
        redirect_addr,
        &request("GET", "/", "evil.example", &[], ""),
    )
    .await;
    assert_eq!(
        answer.status, 403,
        "no redirect to a name that is not the console's"
    );
}

/// Sets `path`'s modification time.
fn set_mtime(path: &Path, time: std::time::SystemTime) {
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(time)
        .unwrap();
}

async fn presented(ca: &Path, server: &Server) -> Vec<u8> {
    let text = request("GET", "/healthz", "localhost", &[], "");
    tls_exchange(ca, server.addr, "localhost", &text)
        .await
        .unwrap()
        .1
}

#[tokio::test]
async fn sighup_and_file_changes_reload_the_certificate() {
    let pki = Pki::new();
    pki.leaf("a");
    pki.leaf("b");
    let (cert, key) = (pki.path("cert.pem"), pki.path("key.pem"));
    std::fs::copy(pki.path("a.pem"), &cert).unwrap();
    std::fs::copy(pki.path("a.key"), &key).unwrap();
    let server = Server::start(&[
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ]);
    let ca = pki.path("ca.pem");
    assert_eq!(presented(&ca, &server).await, der(&pki.path("a.pem")));

    // B in place with A's modification times: only SIGHUP can tell.
    let stamps = [&cert, &key].map(|path| std::fs::metadata(path).unwrap().modified().unwrap());
    std::fs::copy(pki.path("b.pem"), &cert).unwrap();
    std::fs::copy(pki.path("b.key"), &key).unwrap();
    set_mtime(&cert, stamps[0]);
    set_mtime(&key, stamps[1]);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        presented(&ca, &server).await,
        der(&pki.path("a.pem")),
        "no reload without a change"
    );
    let hup = Command::new("kill")
        .args(["-HUP", &server.pid().to_string()])
        .status()
        .unwrap();
    assert!(hup.success());
    common::eventually(Duration::from_secs(5), || async {
        (presented(&ca, &server).await == der(&pki.path("b.pem"))).then_some(())
    })
    .await;

    // A broken file is not loaded: B stays.
    std::fs::write(&cert, "not a certificate").unwrap();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(presented(&ca, &server).await, der(&pki.path("b.pem")));

    // A written back (new modification times, no signal): loaded.
    std::fs::copy(pki.path("a.key"), &key).unwrap();
    std::fs::copy(pki.path("a.pem"), &cert).unwrap();
    common::eventually(Duration::from_secs(5), || async {
        (presented(&ca, &server).await == der(&pki.path("a.pem"))).then_some(())
    })
    .await;
}

#[test]
fn bad_tls_files_are_refused_at_start_naming_the_flag() {
    let pki = Pki::new();
    pki.leaf("a");
    pki.leaf("b");
    let start = |cert: &Path, key: &Path| {
        refused_at_start(&[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ])
    };
    assert!(start(&pki.path("missing.pem"), &pki.path("a.key")).contains("--tls-cert"));
    assert!(start(&pki.path("a.pem"), &pki.path("missing.key")).contains("--tls-key"));
    let mismatch = start(&pki.path("a.pem"), &pki.path("b.key"));
    assert!(mismatch.contains("does not belong"), "{mismatch}");
}

/// Behind a reverse proxy at 127.0.0.2: its `X-Forwarded-*` decide the Host and Origin checks,
/// the cookie's `Secure` and HSTS, and whose attempts are counted; the same headers from
/// anyone else change nothing.
#[tokio::test]
async fn forwarded_headers_count_only_from_the_trusted_proxy() {
    let server = Server::start(&[
        "--trusted-proxy",
        "127.0.0.2",
        "--allowed-host",
        "console.example",
        "--admin-token",
        TOKEN,
    ]);
    let direct_host = server.addr.to_string();
    let login = |forwarded_host: &str, client: &str, token: &str| {
        request(
            "POST",
            "/login",
            &direct_host,
            &[
                "Content-Type: application/json",
                "Origin: https://console.example",
                "X-Forwarded-Proto: https",
                &format!("X-Forwarded-Host: {forwarded_host}"),
                &format!("X-Forwarded-For: 203.0.113.9, {client}"),
            ],
            &format!(r#"{{"token":"{token}"}}"#),
        )
    };
    // From `peer`, forwarding for `client` as `forwarded_host`.
    let login_via =
        |peer: u8, forwarded_host: &'static str, client: &'static str, token: &'static str| {
            let text = login(forwarded_host, client, token);
            let addr = server.addr;
            async move { send_from(loopback(peer), addr, &text).await }
        };
    let proxied = login_via(2, "console.example", "192.0.2.1", TOKEN).await;
    assert_eq!(proxied.status, 200, "{proxied:?}");
    assert!(proxied.header("set-cookie").contains("; Secure"));
    assert_eq!(
        proxied.header("strict-transport-security"),
        "max-age=31536000"
    );

    let forged = login_via(1, "console.example", "192.0.2.1", TOKEN).await;
    assert_eq!(
        forged.status, 403,
        "not from the proxy: Origin https://console.example is foreign"
    );
    assert!(forged.header("strict-transport-security").is_empty());

    let rebound = login_via(2, "evil.example", "192.0.2.1", TOKEN).await;
    assert_eq!(
        rebound.status, 403,
        "the forwarded Host passes the allow-list too"
    );

    // Attempts count per forwarded client, not per proxy.
    for _ in 0..10 {
        assert_eq!(
            login_via(2, "console.example", "192.0.2.7", "wrong")
                .await
                .status,
            401
        );
    }
    assert_eq!(
        login_via(2, "console.example", "192.0.2.7", "wrong")
            .await
            .status,
        429
    );
    let other = login_via(2, "console.example", "192.0.2.8", TOKEN).await;
    assert_eq!(other.status, 200, "another client behind the same proxy");
}
