//! HTTPS: the certificate and key from PEM files, reloaded without a restart.
//!
//! Certificates are renewed in place (certbot, an ACME client, a secrets agent), so the
//! console re-reads the pair on SIGHUP and when either file's modification time changes
//! (checked every [`POLL`]). A pair that fails to load (unreadable, no certificate, a key that
//! does not match) is logged and the certificate in use is kept; clients see no gap.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::server::{ClientHello, ResolvesServerCert};
use tokio_rustls::rustls::sign::CertifiedKey;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;

/// How often the files' modification times are compared.
const POLL: Duration = Duration::from_secs(1);

/// The certificate the console presents, and the files it comes from.
#[derive(Debug)]
pub struct Certificate {
    cert: PathBuf,
    key: PathBuf,
    current: RwLock<Arc<CertifiedKey>>,
}

impl Certificate {
    /// Loads `cert` (the chain, leaf first) and `key`; the error names the file at fault.
    pub fn load(cert: &Path, key: &Path) -> Result<Arc<Self>, String> {
        Ok(Arc::new(Certificate {
            current: RwLock::new(Arc::new(read_pair(cert, key)?)),
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
        }))
    }

    /// A TLS acceptor presenting this certificate (whatever it is at each handshake).
    pub fn acceptor(self: &Arc<Self>) -> Result<TlsAcceptor, String> {
        let mut config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|error| format!("TLS setup: {error}"))?
            .with_no_client_auth()
            .with_cert_resolver(self.clone());
        // Only HTTP/1.1 is served (see `accept`).
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsAcceptor::from(Arc::new(config)))
    }

    /// Re-reads the files; keeps the current certificate when they do not load.
    pub fn reload(&self) {
        match read_pair(&self.cert, &self.key) {
            Ok(pair) => {
                *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(pair);
                tracing::info!("TLS certificate reloaded from {}", self.cert.display());
            }
            Err(error) => {
                tracing::warn!("TLS certificate not reloaded (keeping the current one): {error}")
            }
        }
    }

    /// Reloads on SIGHUP and when a file changes, until the process ends.
    pub fn spawn_reloader(self: &Arc<Self>) -> std::io::Result<()> {
        let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
        let certificate = self.clone();
        tokio::spawn(async move {
            let mut seen = certificate.stamps();
            let mut poll = tokio::time::interval(POLL);
            loop {
                tokio::select! {
                    _ = hangup.recv() => {
                        tracing::info!("SIGHUP: reloading the TLS certificate");
                        seen = certificate.stamps();
                        certificate.reload();
                    }
                    _ = poll.tick() => {
                        let now = certificate.stamps();
                        if now != seen {
                            seen = now;
                            certificate.reload();
                        }
                    }
                }
            }
        });
        Ok(())
    }

    fn stamps(&self) -> [Option<SystemTime>; 2] {
        [&self.cert, &self.key].map(|path| std::fs::metadata(path).and_then(|m| m.modified()).ok())
    }
}

impl ResolvesServerCert for Certificate {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(
            self.current
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        )
    }
}

/// The chain in `cert` and the private key in `key`, checked to belong together.
fn read_pair(cert: &Path, key: &Path) -> Result<CertifiedKey, String> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|error| format!("--tls-cert {}: {error}", cert.display()))?;
    if chain.is_empty() {
        return Err(format!(
            "--tls-cert {}: no PEM certificate in it",
            cert.display()
        ));
    }
    let private = PrivateKeyDer::from_pem_file(key)
        .map_err(|error| format!("--tls-key {}: {error}", key.display()))?;
    let signer = ring::sign::any_supported_type(&private)
        .map_err(|error| format!("--tls-key {}: {error}", key.display()))?;
    let pair = CertifiedKey::new(chain, signer);
    pair.keys_match().map_err(|error| {
        format!(
            "--tls-key {} does not belong to --tls-cert {}: {error}",
            key.display(),
            cert.display()
        )
    })?;
    Ok(pair)
}
