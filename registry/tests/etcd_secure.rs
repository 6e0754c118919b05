//! The etcd registry over TLS, against a real etcd serving certificates of a CA the test makes:
//! the certificate is verified (against the CA given, for the name given), mutual TLS works
//! with a client certificate and is refused without one, and each wrong setting fails
//! `check()` with an [`Error::Invalid`] naming it.
#![cfg(feature = "etcd")]

mod etcd_support;

use etcd_support::{Etcd, Tls};
use muster_registry::etcd::EtcdRegistry;
use muster_registry::{
    Error, Field, Node, Options, QueryOptions, RegisterOptions, Registry, Service,
};

fn service(id: &str) -> Service {
    Service {
        name: "go.micro.srv.secure".into(),
        version: "1.0.0".into(),
        nodes: vec![Node {
            id: id.into(),
            address: "127.0.0.1:50100".into(),
            ..Node::default()
        }],
        ..Service::default()
    }
}

/// Connects with `options` and checks; the field of the [`Error::Invalid`] it fails with.
async fn refusal(options: Options) -> Field {
    let checked = match EtcdRegistry::connect(options).await {
        Ok(registry) => registry.check().await,
        Err(error) => Err(error),
    };
    match checked {
        Err(Error::Invalid { field, reason }) => {
            assert!(
                !reason.contains("grpc") && !reason.contains("transport error"),
                "a plain reason, not the client's layers: {reason}"
            );
            field
        }
        other => panic!("expected a refusal naming the setting, got {other:?}"),
    }
}

async fn start(tls: Tls) -> Option<Etcd> {
    Etcd::start_tls(tls).await
}

#[tokio::test]
async fn tls_verifies_etcd_against_the_ca_and_name_given() {
    let Some(etcd) = start(Tls::Server).await else {
        return;
    };
    let registry = EtcdRegistry::connect(etcd.options()).await.unwrap();
    registry.check().await.unwrap();
    registry
        .register(&service("tls-1"), RegisterOptions::default())
        .await
        .unwrap();
    let listed = registry
        .list_services(QueryOptions::default())
        .await
        .unwrap();
    assert_eq!(listed, [service("tls-1").listing()]);

    // The system's roots do not hold the test CA.
    let mut system_roots = etcd.options();
    system_roots.tls.as_mut().unwrap().ca_file = None;
    assert_eq!(refusal(system_roots).await, Field::TlsCaFile);

    // A CA that did not sign etcd's certificate.
    let mut wrong_ca = etcd.options();
    wrong_ca.tls.as_mut().unwrap().ca_file = Some(etcd.pki().other_ca_cert);
    assert_eq!(refusal(wrong_ca).await, Field::TlsCaFile);

    // The certificate names etcd.muster.test, not 127.0.0.1: without the override, refused.
    let mut no_name = etcd.options();
    no_name.tls.as_mut().unwrap().domain_name = None;
    assert_eq!(refusal(no_name).await, Field::TlsServerName);
    let mut wrong_name = etcd.options();
    wrong_name.tls.as_mut().unwrap().domain_name = Some("other.muster.test".into());
    assert_eq!(refusal(wrong_name).await, Field::TlsServerName);

    // Files that are missing or hold no PEM are named at connect, before any network.
    let mut missing = etcd.options();
    missing.tls.as_mut().unwrap().ca_file = Some("/nonexistent/ca.pem".into());
    assert_eq!(refusal(missing).await, Field::TlsCaFile);
    let mut not_pem = etcd.options();
    not_pem.tls.as_mut().unwrap().ca_file = Some(etcd.pki().server_key);
    assert_eq!(refusal(not_pem).await, Field::TlsCaFile);
}

#[tokio::test]
async fn mutual_tls_needs_a_client_certificate_of_the_ca() {
    let Some(etcd) = start(Tls::Mutual).await else {
        return;
    };
    let registry = EtcdRegistry::connect(etcd.options()).await.unwrap();
    registry
        .register(&service("mtls-1"), RegisterOptions::default())
        .await
        .unwrap();
    assert_eq!(
        registry
            .list_services(QueryOptions::default())
            .await
            .unwrap(),
        [service("mtls-1").listing()]
    );

    // No client certificate: etcd ends the handshake, and nothing is read or written.
    let mut anonymous = etcd.options();
    let tls = anonymous.tls.as_mut().unwrap();
    (tls.cert_file, tls.key_file) = (None, None);
    assert_eq!(refusal(anonymous).await, Field::TlsCertFile);

    // A key that is not a key.
    let mut bad_key = etcd.options();
    bad_key.tls.as_mut().unwrap().key_file = Some(etcd.pki().ca_cert);
    assert_eq!(refusal(bad_key).await, Field::TlsKeyFile);
}
