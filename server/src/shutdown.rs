//! Graceful shutdown: SIGINT (Ctrl-C) or SIGTERM starts it.
//!
//! What follows is owed to the network: the console closes its websockets, stops serving, and
//! has the backend say goodbye for the nodes it registered (mDNS), so go-micro watchers drop
//! them at once instead of two minutes later. The registrations stay in the state file and are
//! announced again at the next start. `muster register` likewise deregisters on the way out.

/// Resolves on the first SIGINT or SIGTERM.
pub async fn signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
}
