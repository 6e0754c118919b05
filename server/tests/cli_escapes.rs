//! Issue 13, item 9: a peer that stores control characters in its registration (ESC, BEL,
//! NUL, C1 in metadata values, which are free text; bidi overrides anywhere names allow
//! them) cannot drive the terminal of whoever runs `muster service`,
//! `muster services` or `muster watch`. The peer here writes its value straight into a real
//! etcd, as any go-micro process with access to the cluster can.

#[path = "../../registry/tests/etcd_support/mod.rs"]
mod etcd_support;

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};

use common::MUSTER;
use etcd_support::Etcd;
use serde_json::{json, Value};

/// Every kind of hazard: a window-title OSC ended by BEL, NUL, the 8-bit CSI (U+009B)
/// clearing the screen, DEL, a right-to-left override and an isolate, and a line break
/// that would fake a line of output.
const HOSTILE: &str = "ok\u{1b}]0;pwned\u{7}\0\u{9b}2J\u{7f}\u{202e}txt.exe\u{2066}\nFAKE LINE";

/// Whether `text` holds a character that must not reach a terminal (line breaks apart).
fn raw_hazard(text: &str) -> Option<char> {
    text.chars()
        .find(|&c| c != '\n' && app::escape::is_hazard(c))
}

fn hostile_value(id: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "name": "go.micro.srv.hostile",
        "version": "1.0\u{202e}",
        "metadata": {"note": HOSTILE},
        "endpoints": [{
            "name": "Say.\u{202e}olleH",
            "request": {"name": "Req\u{2066}", "type": "string", "values": null},
            "response": null,
            "metadata": null
        }],
        "nodes": [{"id": id, "address": "127.0.0.1:50400", "metadata": {"k\u{202d}": HOSTILE}}]
    }))
    .unwrap()
}

fn cli(etcd: &Etcd, args: &[&str]) -> Output {
    let output = Command::new(MUSTER)
        .args(["--registry", "etcd", "--registry-address", &etcd.endpoint()])
        .args(args)
        .env("MUSTER_LOG", "error")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

#[tokio::test]
async fn cli_output_escapes_what_peers_registered() {
    let Some(etcd) = Etcd::start().await else {
        return;
    };
    let mut raw = etcd.client().await;
    raw.put(
        "/micro/registry/go.micro.srv.hostile/hostile-1",
        hostile_value("hostile-1"),
        None,
    )
    .await
    .unwrap();

    for args in [&["service", "go.micro.srv.hostile"][..], &["services"]] {
        let text = String::from_utf8(cli(&etcd, args).stdout).unwrap();
        assert_eq!(
            raw_hazard(&text),
            None,
            "{args:?} printed a raw control: {text:?}"
        );
        assert!(text.contains("1.0\\u{202e}"), "{args:?}: {text}");
    }
    let text = String::from_utf8(cli(&etcd, &["service", "go.micro.srv.hostile"]).stdout).unwrap();
    assert!(
        text.contains("ok\\u{1b}]0;pwned\\u{7}\\u{0}\\u{9b}2J"),
        "{text}"
    );
    assert!(
        text.contains("\\u{a}FAKE LINE"),
        "a line break in a value fakes no line: {text}"
    );
    assert!(text.contains("Say.\\u{202e}olleH"), "{text}");

    // JSON keeps the data exactly (escapes are JSON's own), with nothing raw in it.
    let json = String::from_utf8(cli(&etcd, &["service", "go.micro.srv.hostile", "--json"]).stdout)
        .unwrap();
    assert_eq!(raw_hazard(&json), None, "raw control in JSON: {json:?}");
    let parsed: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(parsed[0]["metadata"]["note"], HOSTILE);

    // `muster watch` prints each change as it happens: escaped too.
    let mut watch = Command::new(MUSTER)
        .args(["--registry", "etcd", "--registry-address", &etcd.endpoint()])
        .args(["watch", "go.micro.srv.hostile"])
        .env("MUSTER_LOG", "error")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(watch.stdout.take().unwrap()).lines();
    // The watcher is running once it answers; a put after that is an event.
    std::thread::sleep(std::time::Duration::from_millis(500));
    raw.put(
        "/micro/registry/go.micro.srv.hostile/hostile-2",
        hostile_value("hostile-2"),
        None,
    )
    .await
    .unwrap();
    let line = lines.next().unwrap().unwrap();
    let _ = watch.kill();
    let _ = watch.wait();
    assert_eq!(
        raw_hazard(&line),
        None,
        "watch printed a raw control: {line:?}"
    );
    assert!(line.contains("1.0\\u{202e} hostile-2"), "{line}");
}
