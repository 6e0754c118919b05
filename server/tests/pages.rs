//! Server-rendered pages carry what they show, not the registry: with 10,000 nodes the whole
//! view was 3.5 MB in every HTML page (and 170 ms to render). The browser gets the whole view
//! over the websocket after hydration instead.

mod common;

use common::{client, service, Server};

/// Registers `svc.00` .. `svc.59`, one node each (`node-00` ..), through the API.
async fn sixty_services(server: &Server) {
    for i in 0..60 {
        let body = service(
            &format!("svc.{i:02}"),
            &format!("node-{i:02}"),
            "10.0.0.1:8080",
        );
        let response = client()
            .post(server.url("/api/services"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    }
}

async fn html(server: &Server, path: &str) -> String {
    let response = client().get(server.url(path)).send().await.unwrap();
    assert_eq!(response.status(), 200, "GET {path}");
    response.text().await.unwrap()
}

#[tokio::test]
async fn the_services_page_carries_one_page_of_summaries() {
    let server = Server::start(&[]);
    sixty_services(&server).await;

    let first = html(&server, "/").await;
    assert!(first.contains("60 of 60 services"), "the counts cover all");
    assert!(first.contains("svc.00") && first.contains("svc.49"));
    assert!(
        !first.contains("svc.50"),
        "page 1 holds 50 rows and no more"
    );
    assert!(
        !first.contains("node-00"),
        "no node is shipped with the services page"
    );

    let second = html(&server, "/?page=2").await;
    assert!(second.contains("svc.50") && second.contains("svc.59"));
    assert!(!second.contains("svc.49"));

    let search = html(&server, "/?q=svc.07").await;
    assert!(search.contains("1 of 60 services"));
}

#[tokio::test]
async fn a_service_page_carries_that_service_only() {
    let server = Server::start(&[]);
    sixty_services(&server).await;

    let page = html(&server, "/services/svc.07").await;
    assert!(page.contains("node-07"), "its node is on the page");
    assert!(
        !page.contains("node-08") && !page.contains("svc.08"),
        "no other service is shipped with it"
    );
}
