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

/// GET `path`: its status and body.
async fn get(server: &Server, path: &str) -> (u16, String) {
    let response = client().get(server.url(path)).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

#[tokio::test]
async fn an_unknown_service_is_a_framed_404_naming_services_like_it() {
    let server = Server::start(&[]);
    sixty_services(&server).await;

    let (status, page) = get(&server, "/services/svc.7").await;
    assert_eq!(status, 404, "an unknown service is not found");
    assert!(
        page.contains("data-testid=\"not-found\""),
        "the framed page"
    );
    assert!(page.contains("class=\"topbar\""), "inside the app's frame");
    assert!(page.contains("Did you mean") && page.contains("svc.07"));
    assert!(page.contains("<title>svc.7 · Muster</title>"), "{page}");

    let (status, page) = get(&server, "/services/svc.07").await;
    assert_eq!(status, 200);
    assert!(page.contains("<title>svc.07 · Muster</title>"));
}

#[tokio::test]
async fn an_unknown_path_is_the_framed_404_and_services_slash_is_the_list() {
    let server = Server::start(&[]);
    sixty_services(&server).await;

    let (status, page) = get(&server, "/no/such/svc.12x").await;
    assert_eq!(status, 404);
    assert!(
        page.contains("class=\"topbar\"") && page.contains("There is no page at this address.")
    );
    assert!(
        page.contains("svc.12"),
        "suggestions from the path's last part"
    );
    assert!(page.contains("<title>Not found · Muster</title>"));
    // The framed page's inline script carries the nonce its CSP names.
    let response = client().get(server.url("/nope")).send().await.unwrap();
    let policy = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap();
    assert!(response
        .text()
        .await
        .unwrap()
        .contains(&format!("nonce=\"{nonce}\"")));

    let (status, _) = get(&server, "/pkg/no-such-file.js").await;
    assert_eq!(status, 404);

    for path in ["/services/", "/services"] {
        let response = client().get(server.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 308, "{path}");
        assert_eq!(response.headers()["location"], "/");
    }
    let response = client()
        .get(server.url("/services/?q=svc&sort=nodes"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["location"], "/?q=svc&sort=nodes");

    assert!(html(&server, "/")
        .await
        .contains("<title>Services · Muster</title>"));
}

#[tokio::test]
async fn the_services_page_sorts_by_a_column_and_pages_keep_the_sort() {
    let server = Server::start(&[]);
    sixty_services(&server).await;

    let page = html(&server, "/?sort=name&dir=desc").await;
    assert!(
        page.contains("svc.59") && !page.contains("svc.09\""),
        "Z to A: page 1 ends at svc.10"
    );
    assert!(page.contains("aria-sort=\"descending\""));
    assert!(
        page.contains("href=\"/?sort=name&amp;dir=desc&amp;page=2\""),
        "the next page keeps the sort"
    );
    assert!(page.contains("Page 1 of 2"));
}

#[tokio::test]
async fn only_the_top_bar_says_which_page_is_current() {
    let server = Server::start(&[]);
    sixty_services(&server).await;

    // Rows, chips, column headers and the pager link to `/` with another query: none of them
    // is the page the user is on (the router's `<A>` marked every one of them so).
    let page = html(&server, "/?sort=name").await;
    let current: Vec<&str> = page
        .split("<a ")
        .skip(1)
        .filter(|link| link[..link.find('>').unwrap()].contains("aria-current=\"page\""))
        .map(|link| &link[..link.find('>').unwrap()])
        .collect();
    assert_eq!(
        current,
        vec!["href=\"/\" aria-current=\"page\""],
        "{current:?}"
    );
    assert!(
        page.contains("data-facet=\"state=healthy\""),
        "the chips are there"
    );
    assert!(page.contains("href=\"/services/svc.00\""), "and the rows");
}
