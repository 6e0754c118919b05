//! `muster` against a secured etcd (real etcd servers; certificates of a CA the test makes):
//! TLS and mutual TLS with the `--registry-*` flags, authentication with a password file, and
//! for every wrong setting a start-up error that names its flag in one plain line, not a
//! stack of gRPC text.

#[path = "../../registry/tests/etcd_support/mod.rs"]
mod etcd_support;

mod common;

use std::process::{Command, Output};

use common::MUSTER;
use etcd_support::{Etcd, Tls, SERVER_NAME};

/// `muster services --json` with `args` (registry flags), and its output.
fn muster_services(args: &[&str]) -> Output {
    Command::new(MUSTER)
        .args(["--registry", "etcd"])
        .args(args)
        .args(["services", "--json"])
        .env("MUSTER_LOG", "error")
        .output()
        .expect("muster runs")
}

/// The TLS flags that reach `etcd` correctly.
fn tls_flags(etcd: &Etcd) -> Vec<String> {
    let pki = etcd.pki();
    let mut flags = vec![
        "--registry-address".to_string(),
        etcd.endpoint(),
        "--registry-ca-file".into(),
        pki.ca_cert.display().to_string(),
        "--registry-server-name".into(),
        SERVER_NAME.into(),
    ];
    if etcd
        .options()
        .tls
        .is_some_and(|tls| tls.cert_file.is_some())
    {
        flags.extend([
            "--registry-cert-file".into(),
            pki.client_cert.display().to_string(),
            "--registry-key-file".into(),
            pki.client_key.display().to_string(),
        ]);
    }
    flags
}

/// `flags` with the value after `flag` replaced (or `flag` removed with its value: `None`).
fn with(flags: &[String], flag: &str, value: Option<&str>) -> Vec<String> {
    let mut out = Vec::new();
    let mut iter = flags.iter();
    while let Some(current) = iter.next() {
        if current == flag {
            iter.next();
            if let Some(value) = value {
                out.extend([flag.to_string(), value.to_string()]);
            }
        } else {
            out.push(current.clone());
        }
    }
    out
}

fn run(flags: &[String]) -> Output {
    muster_services(&flags.iter().map(String::as_str).collect::<Vec<_>>())
}

/// Asserts the command failed with one plain line naming `flag` (and saying `also`).
#[track_caller]
fn refused(output: &Output, flag: &str, also: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "should have failed; stderr: {stderr}"
    );
    assert!(stderr.contains(flag), "does not name {flag}: {stderr}");
    assert!(stderr.contains(also), "does not say {also:?}: {stderr}");
    for layer in ["grpc", "transport error", "tonic", "Status {"] {
        assert!(
            !stderr.contains(layer),
            "client internals ({layer}) in: {stderr}"
        );
    }
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
}

/// Starts etcd serving `tls`, and checks that [`tls_flags`] reach it: `muster services`
/// lists its (empty) registry.
async fn reached_over(tls: Tls) -> Option<(Etcd, Vec<String>)> {
    let etcd = Etcd::start_tls(tls).await?;
    let flags = tls_flags(&etcd);
    let ok = run(&flags);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&ok.stdout).trim(), "[]");
    Some((etcd, flags))
}

#[tokio::test]
async fn tls_flags_verify_etcd_and_name_what_is_wrong() {
    let Some((etcd, flags)) = reached_over(Tls::Server).await else {
        return;
    };

    let other_ca = etcd.pki().other_ca_cert.display().to_string();
    refused(
        &run(&with(&flags, "--registry-ca-file", Some(&other_ca))),
        "--registry-ca-file",
        "not trusted",
    );
    refused(
        &run(&with(
            &flags,
            "--registry-ca-file",
            Some("/nonexistent/ca.pem"),
        )),
        "--registry-ca-file",
        "No such file",
    );
    // --registry-secure alone: the system's roots, which do not hold the test CA.
    let mut secure = with(&flags, "--registry-ca-file", None);
    secure.push("--registry-secure".into());
    refused(&run(&secure), "--registry-ca-file", "not trusted");
    // The certificate is for etcd.muster.test, not the address's 127.0.0.1.
    refused(
        &run(&with(&flags, "--registry-server-name", None)),
        "--registry-server-name",
        "not valid for the name",
    );
}

#[tokio::test]
async fn mutual_tls_refuses_a_console_without_its_certificate() {
    let Some((etcd, flags)) = reached_over(Tls::Mutual).await else {
        return;
    };

    let without = with(
        &with(&flags, "--registry-cert-file", None),
        "--registry-key-file",
        None,
    );
    refused(
        &run(&without),
        "--registry-cert-file",
        "refused the client certificate",
    );
    // The key given as a certificate, and the other way round.
    let pki = etcd.pki();
    let swapped = with(
        &flags,
        "--registry-key-file",
        Some(&pki.client_cert.display().to_string()),
    );
    refused(&run(&swapped), "--registry-key-file", "no PEM private key");
}

#[tokio::test]
async fn authentication_takes_a_password_file_and_names_a_wrong_password() {
    let Some(etcd) = Etcd::start().await else {
        return;
    };
    let mut raw = etcd.client().await;
    raw.user_add("root", "s3cret", None).await.unwrap();
    raw.user_grant_role("root", "root").await.unwrap();
    raw.auth_enable().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let right = dir.path().join("right");
    let wrong = dir.path().join("wrong");
    std::fs::write(&right, "s3cret\n").unwrap();
    std::fs::write(&wrong, "guess\n").unwrap();
    let endpoint = etcd.endpoint();
    let flags = |file: &std::path::Path| {
        vec![
            "--registry-address".to_string(),
            endpoint.clone(),
            "--registry-user".into(),
            "root".into(),
            "--registry-password-file".into(),
            file.display().to_string(),
        ]
    };
    let ok = run(&flags(&right));
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );

    refused(
        &run(&flags(&wrong)),
        "--registry-user / --registry-password",
        "refused",
    );
    refused(
        &run(&flags(&dir.path().join("missing"))),
        "--registry-password-file",
        "No such file",
    );
    // No credentials at all: etcd wants some, and the message says which flags give them.
    refused(
        &muster_services(&["--registry-address", &endpoint]),
        "--registry-user / --registry-password",
        "requires a user",
    );
}

#[test]
fn etcd_flags_are_refused_for_other_registries_and_documented() {
    let output = Command::new(MUSTER)
        .args([
            "--registry",
            "memory",
            "--registry-ca-file",
            "/tmp/ca.pem",
            "services",
        ])
        .output()
        .unwrap();
    refused(&output, "--registry-ca-file", "--registry etcd only");

    let help = Command::new(MUSTER).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for flag in [
        "--registry-secure",
        "--registry-ca-file",
        "--registry-cert-file",
        "--registry-key-file",
        "--registry-server-name",
        "--registry-user",
        "--registry-password",
        "--registry-password-file",
        "MUSTER_REGISTRY_PASSWORD_FILE",
    ] {
        assert!(help.contains(flag), "--help lacks {flag}");
    }
    assert!(
        help.contains("always verified"),
        "--help must say certificates are verified"
    );
}
