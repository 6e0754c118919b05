//! The subcommands, on the memory registry (each invocation is its own registry, so this
//! checks parsing, output and the register lifecycle; the mDNS round trip needs a LAN).

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};

use common::{service, MUSTER};
use serde_json::Value;

fn muster(args: &[&str]) -> Output {
    Command::new(MUSTER)
        .args(["--registry", "memory"])
        .args(args)
        .env("MUSTER_LOG", "warn")
        .output()
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn help_documents_flags_and_environment() {
    let output = Command::new(MUSTER).arg("--help").output().unwrap();
    assert!(output.status.success());
    let help = stdout(&output);
    for needle in [
        "--registry",
        "--registry-address",
        "--mdns-domain",
        "--interface",
        "--listen",
        "--admin-token",
        "--data-dir",
        "--probe-interval",
        "--tombstone-ttl",
        "--allowed-host",
        "--trusted-proxy",
        "--tls-cert",
        "--tls-key",
        "--redirect-http",
        "--header-timeout",
        "--max-connections",
        "MUSTER_LISTEN",
        "MUSTER_ADMIN_TOKEN",
        "MUSTER_REGISTRY",
        "services",
        "register",
        "deregister",
        "watch",
    ] {
        assert!(
            help.contains(needle),
            "--help should mention {needle}:\n{help}"
        );
    }
}

#[test]
fn services_and_service() {
    let output = muster(&["services", "--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(
        serde_json::from_str::<Value>(&stdout(&output)).unwrap(),
        Value::Array(vec![])
    );
    let output = muster(&["services"]);
    assert_eq!(stdout(&output).trim(), "no services");

    let output = muster(&["service", "go.micro.srv.greeter"]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("not found"), "{}", stderr(&output));

    let output = muster(&["deregister", "go.micro.srv.greeter", "node-1"]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("not found"));
}

#[test]
fn environment_selects_the_registry() {
    let output = Command::new(MUSTER)
        .args(["services"])
        .env("MUSTER_REGISTRY", "bogus")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(stderr(&output).contains("bogus"));
}

#[test]
fn register_stays_until_interrupted_then_deregisters() {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        file.path(),
        service("greeter", "greeter-1", "127.0.0.1:50051").to_string(),
    )
    .unwrap();
    let mut child = Command::new(MUSTER)
        .args([
            "--registry",
            "memory",
            "register",
            "--json",
            "--ttl",
            "1s",
            "-f",
        ])
        .arg(file.path())
        .env("MUSTER_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let registered: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(registered["registered"]["name"], "greeter");
    assert_eq!(registered["ttl"], 1);
    // Let it refresh a few times, then interrupt.
    std::thread::sleep(std::time::Duration::from_millis(1200));
    assert!(child.try_wait().unwrap().is_none(), "still running");
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success());
    let deregistered: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(deregistered["deregistered"]["nodes"][0]["id"], "greeter-1");
}

#[test]
fn register_refuses_invalid_files() {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        file.path(),
        service("greeter", "greeter-1", "no-port").to_string(),
    )
    .unwrap();
    let output = muster(&["register", "-f", file.path().to_str().unwrap()]);
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("node address"),
        "{}",
        stderr(&output)
    );

    std::fs::write(file.path(), "{not json").unwrap();
    let output = muster(&["register", "-f", file.path().to_str().unwrap()]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("not a go-micro service"));
}

#[test]
fn watch_runs_until_interrupted() {
    let mut child = Command::new(MUSTER)
        .args(["--registry", "memory", "watch", "greeter"])
        .env("MUSTER_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(child.wait().unwrap().success());
}
