//! The accept loop: caps, TLS, HTTP/1 with a header read timeout, graceful shutdown.
//!
//! hyper's `header_read_timeout` runs whenever a connection waits for a request head: on a new
//! connection and between keep-alive requests alike, so it bounds unfinished headers
//! (slowloris) and idle keep-alive connections with one number. The TLS handshake gets the same
//! bound. Only HTTP/1.1 is spoken: the websockets are HTTP/1.1 upgrades, and the timeout is an
//! HTTP/1 setting.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tower::Service;

use super::body_deadline::Deadline;
use super::limits::{Busy, Limits, Refusal, Slot};
use super::Peer;

/// How long connections may take to finish once shutdown has begun.
const DRAIN: Duration = Duration::from_secs(5);

/// Refused connections answered at a time; past this, refusals are closed without a word, so
/// a flood of refusals holds no more than this many sockets.
const ANSWERED_REFUSALS: usize = 64;

/// How long a refused connection is read (and discarded) after its 503: closing a socket with
/// unread data resets it, and the client would see the reset instead of the answer.
const REFUSAL_LINGER: Duration = Duration::from_millis(500);

/// How one listener serves its connections.
#[derive(Clone)]
pub struct Serving {
    /// The application.
    pub app: Router,
    /// The caps every connection counts against.
    pub limits: Arc<Limits>,
    /// How long a client may take to send a request head (and a TLS handshake).
    pub header_timeout: Duration,
    /// TLS, when the listener is HTTPS.
    pub tls: Option<TlsAcceptor>,
}

/// Serves `listener` until `shutdown` resolves, then lets open requests finish (at most
/// [`DRAIN`]).
pub async fn serve(listener: TcpListener, serving: Serving, shutdown: impl Future<Output = ()>) {
    let graceful = GracefulShutdown::new();
    let mut http = auto::Builder::new(TokioExecutor::new());
    http.http1()
        .timer(TokioTimer::new())
        .header_read_timeout(serving.header_timeout)
        .keep_alive(true);
    let http = Arc::new(http.http1_only());
    let refusals = Arc::new(Semaphore::new(ANSWERED_REFUSALS));
    tokio::pin!(shutdown);
    loop {
        let (stream, addr) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, or a connection reset before accept: wait a
                    // little rather than spin, and go on.
                    tracing::warn!("accept failed: {error}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let slot = match serving.limits.admit(addr.ip()) {
            Ok(slot) => slot,
            Err(refusal) => {
                refuse(stream, refusal, &refusals);
                continue;
            }
        };
        // A rendered page goes out in several writes: with Nagle's algorithm on, the last
        // one waited for the client's delayed ACK, 40 ms on Linux (the queries bench: a
        // service page's p50 was 41 ms with 1,000 nodes, its p90 44 ms with any number).
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!("TCP_NODELAY on {addr}: {error}");
        }
        let serving = serving.clone();
        let http = http.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let slot = Arc::new(slot);
            let connection = async {
                let Some(tls) = serving.tls.clone() else {
                    let peer = Peer { addr, tls: false };
                    return serve_io(&http, stream, &serving, peer, &slot, watcher).await;
                };
                match tokio::time::timeout(serving.header_timeout, tls.accept(stream)).await {
                    Ok(Ok(stream)) => {
                        let peer = Peer { addr, tls: true };
                        serve_io(&http, stream, &serving, peer, &slot, watcher).await;
                    }
                    Ok(Err(error)) => {
                        tracing::debug!("TLS handshake with {addr} failed: {error}")
                    }
                    Err(_) => tracing::debug!("TLS handshake with {addr} timed out"),
                }
            };
            // Dropping the connection closes its socket.
            tokio::select! {
                () = connection => {},
                () = slot.evicted() => tracing::debug!("closed idle connection from {addr} to make way"),
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::info!("connections still open after {DRAIN:?}: closing them");
    }
}

/// Serves one connection (plain or TLS) until it closes or shutdown ends it.
async fn serve_io(
    http: &auto::Builder<TokioExecutor>,
    io: impl AsyncRead + AsyncWrite + Unpin + Send + 'static,
    serving: &Serving,
    peer: Peer,
    slot: &Arc<Slot>,
    watcher: Watcher,
) {
    let connection = http.serve_connection_with_upgrades(
        TokioIo::new(io),
        service(
            serving.app.clone(),
            peer,
            slot.clone(),
            serving.header_timeout,
        ),
    );
    if let Err(error) = watcher.watch(connection.into_owned()).await {
        tracing::debug!("connection from {} ended: {error}", peer.addr);
    }
}

/// The router as a hyper service, with the connection's [`Peer`] on every request; the
/// connection counts as busy from a request's head to the end of its answer's body.
fn service(
    app: Router,
    peer: Peer,
    slot: Arc<Slot>,
    body_timeout: Duration,
) -> impl hyper::service::Service<
    Request<Incoming>,
    Response = axum::response::Response,
    Error = Infallible,
    Future = impl Future<Output = Result<axum::response::Response, Infallible>> + Send,
> {
    hyper::service::service_fn(move |request: Request<Incoming>| {
        let mut request = request.map(|body| Body::new(Deadline::new(body, body_timeout)));
        request.extensions_mut().insert(peer);
        let busy = slot.busy();
        let answer = app.clone().call(request);
        async move {
            let response = answer.await?;
            Ok(response.map(|body| Body::new(Held { body, _busy: busy })))
        }
    })
}

/// An answer's body that keeps its connection busy until it is sent (or dropped).
struct Held {
    body: Body,
    _busy: Busy,
}

impl http_body::Body for Held {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}

/// Answers a connection over a cap with a plain 503 and closes it, if fewer than
/// [`ANSWERED_REFUSALS`] are being answered; otherwise just closes it.
fn refuse(mut stream: TcpStream, refusal: Refusal, refusals: &Arc<Semaphore>) {
    let reason = match refusal {
        Refusal::Total => "the console has too many open connections",
        Refusal::Client => "too many open connections from this address",
    };
    tracing::debug!("refused a connection: {reason}");
    let Ok(permit) = refusals.clone().try_acquire_owned() else {
        return;
    };
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Type: text/plain\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{reason}\n",
        reason.len() + 1
    );
    tokio::spawn(async move {
        let _permit = permit;
        let _ = tokio::time::timeout(REFUSAL_LINGER, async {
            stream.write_all(response.as_bytes()).await?;
            stream.shutdown().await?;
            let mut sink = [0u8; 1024];
            while stream.read(&mut sink).await? > 0 {}
            Ok::<(), std::io::Error>(())
        })
        .await;
    });
}
