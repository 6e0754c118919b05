//! The JSON API of the real binary: every endpoint, bad input (4xx with a message, nothing
//! changed), and access control (loopback, admin token, login cookie, Origin).

mod common;

use common::{client, get_json, get_service, service, Server};
use serde_json::{json, Value};

/// The whole state the API shows, to compare before and after a refused request.
async fn everything(server: &Server) -> Value {
    let list: Value = get_json(server.url("/api/services")).await;
    let mut full = Vec::new();
    for summary in list.as_array().unwrap() {
        full.push(get_service(server, summary["name"].as_str().unwrap()).await);
    }
    json!({"list": list, "services": full})
}

/// Sends `request` and checks it was refused with `status` and a JSON message naming `needle`.
async fn assert_error(request: reqwest::RequestBuilder, status: u16, needle: &str) -> Value {
    let response = request.send().await.expect("the server answers");
    assert_eq!(response.status().as_u16(), status, "status");
    let body: Value = response.json().await.expect("a JSON error body");
    let message = body["error"].as_str().expect("an error message");
    assert!(
        message.to_lowercase().contains(&needle.to_lowercase()),
        "{message:?} should mention {needle:?}"
    );
    body
}

#[tokio::test]
async fn healthz_and_empty_list() {
    let server = Server::start(&[]);
    let health = client().get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let list: Value = get_json(server.url("/api/services")).await;
    assert_eq!(list, json!([]));
    let session: Value = get_json(server.url("/api/session")).await;
    assert_eq!(session["can_write"], true);
    assert_eq!(session["registry"], "memory");
}

#[tokio::test]
async fn register_list_get_deregister() {
    let server = Server::start(&["--probe-interval", "0"]);
    let http = client();
    let response = http
        .post(server.url("/api/services"))
        .json(&{
            let mut body = service("greeter", "greeter-1", "127.0.0.1:50051");
            body["ttl"] = json!(30);
            body
        })
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    assert_eq!(created[0]["name"], "greeter");

    let list: Value = http
        .get(server.url("/api/services"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list[0]["name"], "greeter");
    assert_eq!(list[0]["versions"], json!(["1.0.0"]));
    assert_eq!(list[0]["nodes"]["alive"], 1);
    assert_eq!(list[0]["endpoints"], 1);

    let versions = get_service(&server, "greeter").await.unwrap();
    let version = &versions[0];
    assert_eq!(version["version"], "1.0.0");
    assert_eq!(version["metadata"]["team"], "core");
    assert_eq!(version["endpoints"][0]["name"], "Greeter.Hello");
    let node = &version["nodes"][0];
    assert_eq!(node["id"], "greeter-1");
    assert_eq!(node["address"], "127.0.0.1:50051");
    assert_eq!(node["metadata"]["protocol"], "grpc");
    assert_eq!(node["state"], "alive");
    assert_eq!(node["owned"], true);
    let first_seen = node["first_seen"].as_u64().unwrap();
    let expires_at = node["expires_at"].as_u64().unwrap();
    assert!(node["last_seen"].as_u64().unwrap() >= first_seen);
    assert!(expires_at >= first_seen + 29_000 && expires_at <= first_seen + 31_000);

    let response = http
        .delete(server.url("/api/services/greeter/nodes/greeter-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let versions = get_service(&server, "greeter").await.unwrap();
    assert_eq!(versions[0]["nodes"][0]["state"], "deregistered");
    let list: Value = http
        .get(server.url("/api/services"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list[0]["nodes"]["deregistered"], 1);
    assert_eq!(list[0]["nodes"]["alive"], 0);
}

#[tokio::test]
async fn bad_registrations_are_refused_and_change_nothing() {
    let server = Server::start(&["--probe-interval", "0"]);
    let http = client();
    let ok = http
        .post(server.url("/api/services"))
        .json(&service("greeter", "greeter-1", "127.0.0.1:50051"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 201);
    let before = everything(&server).await;
    let post = |body: reqwest::Body| {
        http.post(server.url("/api/services"))
            .header("content-type", "application/json")
            .body(body)
    };

    assert_error(post("{not json".into()), 400, "invalid JSON").await;
    assert_error(post("".into()), 400, "empty").await;
    assert_error(post("[1,2]".into()), 400, "invalid JSON").await;

    let mut missing_name = service("", "x-1", "127.0.0.1:1");
    missing_name["name"] = Value::Null;
    let body = assert_error(post(missing_name.to_string().into()), 400, "service name").await;
    assert_eq!(body["field"], "service name");

    let bad_address = service("other", "other-1", "not an address");
    let body = assert_error(post(bad_address.to_string().into()), 400, "address").await;
    assert_eq!(body["field"], "node address");

    let mut no_nodes = service("other", "other-1", "127.0.0.1:1");
    no_nodes["nodes"] = json!([]);
    assert_error(post(no_nodes.to_string().into()), 400, "nodes").await;

    let mut zero_ttl = service("other", "other-1", "127.0.0.1:1");
    zero_ttl["ttl"] = json!(0);
    let body = assert_error(post(zero_ttl.to_string().into()), 400, "ttl").await;
    assert_eq!(body["field"], "ttl");

    let mut negative_ttl = service("other", "other-1", "127.0.0.1:1");
    negative_ttl["ttl"] = json!(-5);
    assert_error(post(negative_ttl.to_string().into()), 400, "invalid JSON").await;

    let mut twice = service("other", "other-1", "127.0.0.1:1");
    twice["nodes"] = json!([
        {"id": "same", "address": "127.0.0.1:1"},
        {"id": "same", "address": "127.0.0.1:2"}
    ]);
    assert_error(post(twice.to_string().into()), 400, "twice").await;

    let mut huge = service("other", "other-1", "127.0.0.1:1");
    huge["metadata"]["blob"] = json!("x".repeat(300 * 1024));
    assert_error(post(huge.to_string().into()), 413, "too large").await;

    assert_eq!(everything(&server).await, before, "nothing changed");
}

#[tokio::test]
async fn unknown_things_are_404() {
    let server = Server::start(&[]);
    let http = client();
    assert_error(http.get(server.url("/api/services/nope")), 404, "nope").await;
    assert_error(
        http.delete(server.url("/api/services/nope/nodes/n1")),
        404,
        "no service",
    )
    .await;
    assert_error(
        http.post(server.url("/api/services/nope/nodes/n1/evict")),
        404,
        "no service",
    )
    .await;
    http.post(server.url("/api/services"))
        .json(&service("greeter", "greeter-1", "127.0.0.1:50051"))
        .send()
        .await
        .unwrap();
    assert_error(
        http.delete(server.url("/api/services/greeter/nodes/ghost")),
        404,
        "ghost",
    )
    .await;
    assert_error(http.get(server.url("/api/nothing-here")), 404, "no such").await;
}

#[tokio::test]
async fn owned_and_foreign_nodes_conflict() {
    let seed = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        seed.path(),
        json!([service("legacy", "legacy-1", "127.0.0.1:40000")]).to_string(),
    )
    .unwrap();
    let server = Server::start(&[
        "--probe-interval",
        "0",
        "--memory-seed",
        seed.path().to_str().unwrap(),
    ]);
    let http = client();
    http.post(server.url("/api/services"))
        .json(&service("greeter", "greeter-1", "127.0.0.1:50051"))
        .send()
        .await
        .unwrap();
    let versions = get_service(&server, "legacy").await.unwrap();
    assert_eq!(versions[0]["nodes"][0]["owned"], false);
    let before = everything(&server).await;

    assert_error(
        http.delete(server.url("/api/services/legacy/nodes/legacy-1")),
        409,
        "evict",
    )
    .await;
    assert_error(
        http.post(server.url("/api/services/greeter/nodes/greeter-1/evict")),
        409,
        "deregister",
    )
    .await;
    assert_error(
        http.post(server.url("/api/services")).json(&service(
            "legacy",
            "legacy-1",
            "127.0.0.1:40001",
        )),
        409,
        "another process",
    )
    .await;
    assert_eq!(everything(&server).await, before, "nothing changed");

    let response = http
        .post(server.url("/api/services/legacy/nodes/legacy-1/evict"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let evicted: Value = response.json().await.unwrap();
    assert_eq!(evicted["reappeared"], false);
    assert!(evicted["message"].as_str().unwrap().contains("legacy-1"));
    let versions = get_service(&server, "legacy").await.unwrap();
    assert_eq!(versions[0]["nodes"][0]["state"], "evicted");
}

#[tokio::test]
async fn beyond_loopback_without_token_is_read_only() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(([0, 0, 0, 0], 0).into(), dir.path(), &[]);
    let http = client();
    let session: Value = http
        .get(server.url("/api/session"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(session["can_write"], false);
    assert!(session["reason"].as_str().unwrap().contains("read-only"));
    assert_error(
        http.post(server.url("/api/services")).json(&service(
            "greeter",
            "greeter-1",
            "127.0.0.1:50051",
        )),
        403,
        "read-only",
    )
    .await;
    assert_error(
        http.delete(server.url("/api/services/greeter/nodes/greeter-1")),
        403,
        "read-only",
    )
    .await;
    assert_error(
        http.post(server.url("/api/services/greeter/nodes/greeter-1/evict")),
        403,
        "read-only",
    )
    .await;
    assert_eq!(
        http.get(server.url("/api/services"))
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap(),
        json!([]),
        "reading works, nothing was registered"
    );
}

#[tokio::test]
async fn admin_token_bearer_and_login_cookie() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(
        ([0, 0, 0, 0], 0).into(),
        dir.path(),
        &[
            "--admin-token",
            "s3cret-admin-token-0042",
            "--probe-interval",
            "0",
        ],
    );
    let http = client();
    let register = || {
        http.post(server.url("/api/services")).json(&service(
            "greeter",
            "greeter-1",
            "127.0.0.1:50051",
        ))
    };
    assert_error(register(), 401, "bearer").await;
    assert_error(register().bearer_auth("wrong"), 401, "invalid admin token").await;
    assert!(
        get_service(&server, "greeter").await.is_none(),
        "nothing registered"
    );
    let ok = register()
        .bearer_auth("s3cret-admin-token-0042")
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 201);

    // The login form: a wrong token goes back to the form with a message.
    let response = http
        .post(server.url("/login"))
        .form(&[("token", "wrong"), ("next", "/services")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"].to_str().unwrap();
    assert!(location.starts_with("/login?error="), "{location}");
    assert!(response.headers().get("set-cookie").is_none());

    let response = http
        .post(server.url("/login"))
        .form(&[("token", "s3cret-admin-token-0042"), ("next", "/services")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/services");
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    let session_cookie = cookie.split(';').next().unwrap().to_string();

    let session: Value = http
        .get(server.url("/api/session"))
        .header("cookie", &session_cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(session["can_write"], true);
    assert_eq!(session["signed_in"], true, "the top bar offers Sign out");
    assert_eq!(session["can_sign_in"], false);
    let response = http
        .delete(server.url("/api/services/greeter/nodes/greeter-1"))
        .header("cookie", &session_cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);

    // Signing out goes back to the page it was on.
    let response = http
        .post(server.url("/logout"))
        .header("cookie", &session_cookie)
        .form(&[("next", "/services/greeter?version=1.0.0")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(
        response.headers()["location"],
        "/services/greeter?version=1.0.0"
    );
    let session: Value = http
        .get(server.url("/api/session"))
        .header("cookie", &session_cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(session["can_write"], false);
    assert_eq!(session["signed_in"], false);
    assert_eq!(session["can_sign_in"], true, "the top bar offers Sign in");

    // An open redirect is not possible through `next`, signing in or out.
    for next in [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "/\t/evil.example",
    ] {
        for (path, form) in [
            (
                "/login",
                vec![("token", "s3cret-admin-token-0042"), ("next", next)],
            ),
            ("/logout", vec![("next", next)]),
        ] {
            let response = http
                .post(server.url(path))
                .form(&form)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 303, "{path} {next:?}");
            assert_eq!(response.headers()["location"], "/", "{path} {next:?}");
        }
    }
}

#[tokio::test]
async fn foreign_origin_is_refused() {
    let server = Server::start(&[]);
    let http = client();
    let host = server.connect_addr().to_string();
    assert_error(
        http.post(server.url("/api/services"))
            .header("origin", "http://evil.example")
            .json(&service("greeter", "greeter-1", "127.0.0.1:50051")),
        403,
        "cross-origin",
    )
    .await;
    assert!(get_service(&server, "greeter").await.is_none());
    assert_error(
        http.post(server.url("/login"))
            .header("origin", "http://evil.example")
            .form(&[("token", "x")]),
        403,
        "cross-origin",
    )
    .await;
    let same = http
        .post(server.url("/api/services"))
        .header("origin", format!("http://{host}"))
        .json(&service("greeter", "greeter-1", "127.0.0.1:50051"))
        .send()
        .await
        .unwrap();
    assert_eq!(same.status(), 201);
    assert_error(
        http.delete(server.url("/api/services/greeter/nodes/greeter-1"))
            .header("origin", "http://evil.example"),
        403,
        "cross-origin",
    )
    .await;
}

#[tokio::test]
async fn a_second_registration_at_the_same_address_refreshes_the_node() {
    let server = Server::start(&["--probe-interval", "0"]);
    // What pressing Register twice sends: the form makes up a new id for an address alone.
    for id in ["orders-first", "orders-second"] {
        let response = client()
            .post(server.url("/api/services"))
            .json(&service("orders", id, "127.0.0.1:18300"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
    }
    let versions = get_service(&server, "orders").await.expect("registered");
    let ids: Vec<&str> = versions[0]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|node| node["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["orders-first"],
        "one node per service version and address"
    );
}
