//! Connecting to etcd: the endpoints to dial, as go-micro reads its addresses, and the
//! client's options: timeouts, keep-alive pings, TLS (files checked here, so a wrong one is
//! named at once) and credentials.

use std::time::Duration;

use etcd_client::{Certificate, ConnectOptions, Identity, TlsOptions};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::{EtcdOptions, DEFAULT_ENDPOINT, DEFAULT_PORT};
use crate::error::{Error, Result};
use crate::field::Field;
use crate::options::{Options, TlsConfig};

/// Interval of HTTP/2 pings on the connection, so that a silently dead peer (a cable pulled,
/// a VM frozen) breaks the watch streams and they resume elsewhere or later.
const PING_INTERVAL: Duration = Duration::from_secs(10);

/// How to reach the cluster.
pub(super) struct Dial {
    /// The endpoints to dial.
    pub endpoints: Vec<String>,
    /// Options for a short-lived client that only reads (health checks): timeout and TLS.
    pub probe: ConnectOptions,
    /// Options for the registry's own client: the probe's, keep-alive pings, a leader
    /// required, and the credentials with their token refreshed.
    pub connect: ConnectOptions,
}

impl Dial {
    /// How to reach the cluster `options` and `etcd` name, each call within `timeout`.
    pub fn new(options: &Options, etcd: &EtcdOptions, timeout: Duration) -> Result<Dial> {
        let mut probe = ConnectOptions::new().with_connect_timeout(timeout);
        if options.secure || options.tls.is_some() {
            probe = probe.with_tls(tls_options(options.tls.as_ref())?);
        }
        let mut connect = probe
            .clone()
            .with_keep_alive(PING_INTERVAL, timeout)
            .with_require_leader(true);
        if let Some(username) = &etcd.username {
            let password = etcd.password.clone().unwrap_or_default();
            // etcd's auth tokens expire (5 min for simple tokens); a console runs for days.
            connect = connect
                .with_user(username.clone(), password)
                .with_auto_token_refresh(true);
        }
        Ok(Dial {
            endpoints: endpoints(&options.addrs),
            probe,
            connect,
        })
    }
}

/// The endpoints to dial for `addrs`, as go-micro reads them: empty entries skipped, a bare
/// host given port 2379, [`DEFAULT_ENDPOINT`] when none is left.
fn endpoints(addrs: &[String]) -> Vec<String> {
    let endpoints: Vec<String> = addrs
        .iter()
        .map(|address| address.trim())
        .filter(|address| !address.is_empty())
        .map(endpoint)
        .collect();
    if endpoints.is_empty() {
        vec![DEFAULT_ENDPOINT.to_owned()]
    } else {
        endpoints
    }
}

/// One endpoint: a URL as it is, `host:port` as it is, a bare host with the default port.
fn endpoint(address: &str) -> String {
    if address.starts_with("http://") || address.starts_with("https://") {
        return address.to_owned();
    }
    if let Some(rest) = address.strip_prefix('[') {
        // `[v6]` or `[v6]:port`.
        return match rest.split_once(']') {
            Some((_, "")) => format!("{address}:{DEFAULT_PORT}"),
            _ => address.to_owned(),
        };
    }
    match address.matches(':').count() {
        0 => format!("{address}:{DEFAULT_PORT}"),
        1 => address.to_owned(),
        // An IPv6 literal without brackets cannot carry a port: it is a bare host.
        _ => format!("[{address}]:{DEFAULT_PORT}"),
    }
}

/// The client's TLS settings for `tls` (system roots when it names no CA).
fn tls_options(tls: Option<&TlsConfig>) -> Result<TlsOptions> {
    let Some(tls) = tls else {
        return Ok(TlsOptions::new().with_native_roots());
    };
    let read = |what: Field, path: &std::path::Path| {
        std::fs::read(path).map_err(|error| {
            Error::invalid(what, format!("cannot read {}: {error}", path.display()))
        })
    };
    // The TLS stack reads these only when it first connects, and then says "invalid
    // certificate": checked here so that a wrong file is named at once.
    let pem_error = |what: Field, path: &std::path::Path, holds: &str| {
        Error::invalid(what, format!("{} holds no PEM {holds}", path.display()))
    };
    let certificates = |what: Field, path: &std::path::Path| {
        let pem = read(what.clone(), path)?;
        let parsed: Vec<_> = CertificateDer::pem_slice_iter(&pem).collect();
        if parsed.is_empty() || parsed.iter().any(|one| one.is_err()) {
            return Err(pem_error(what, path, "certificate"));
        }
        Ok(pem)
    };
    let key = |path: &std::path::Path| {
        let pem = read(Field::TlsKeyFile, path)?;
        PrivateKeyDer::from_pem_slice(&pem)
            .map_err(|_| pem_error(Field::TlsKeyFile, path, "private key"))?;
        Ok::<_, Error>(pem)
    };
    let mut options = TlsOptions::new();
    options = match &tls.ca_file {
        Some(path) => {
            options.ca_certificate(Certificate::from_pem(certificates(Field::TlsCaFile, path)?))
        }
        None => options.with_native_roots(),
    };
    match (&tls.cert_file, &tls.key_file) {
        (Some(cert), Some(key_path)) => {
            options = options.identity(Identity::from_pem(
                certificates(Field::TlsCertFile, cert)?,
                key(key_path)?,
            ));
        }
        (None, None) => {}
        _ => {
            return Err(Error::invalid(
                Field::Tls,
                "a client certificate needs both cert_file and key_file",
            ))
        }
    }
    if let Some(domain) = &tls.domain_name {
        options = options.domain_name(domain.clone());
    }
    Ok(options)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_follow_go_micro() {
        let addrs = |list: &[&str]| list.iter().map(|a| a.to_string()).collect::<Vec<_>>();
        assert_eq!(endpoints(&[]), ["127.0.0.1:2379"]);
        assert_eq!(endpoints(&addrs(&["", "  "])), ["127.0.0.1:2379"]);
        assert_eq!(
            endpoints(&addrs(&[
                "etcd-1",
                "10.0.0.2:12379",
                "[::1]",
                "[::1]:2380",
                "fe80::1",
                "https://etcd.example:2379",
            ])),
            [
                "etcd-1:2379",
                "10.0.0.2:12379",
                "[::1]:2379",
                "[::1]:2380",
                "[fe80::1]:2379",
                "https://etcd.example:2379",
            ]
        );
    }
}
