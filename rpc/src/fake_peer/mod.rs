//! A go-micro rpc server for tests and benchmarks, on a real TCP socket.
//!
//! The v1.18 flavour answers with the captured replies of registry/tests/vectors/gomicro-v1.18/rpc
//! byte for byte, written in small pieces (Go writes each header line in several TCP segments),
//! keeping every connection open after each reply (even after `Connection: close`) and serving
//! requests in sequence on it; it closes at once when the client half-closes (case 20). The v5
//! flavour ([`v5`]) writes its own replies and honours `Connection: close`. Either can be slow
//! (`Greeter.Slow`), mute (reads requests, never answers) or without the Debug handler.

pub mod captures;
pub mod v5;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use self::captures::Capture;

/// Which go-micro the peer plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    /// go-micro v1.18 with the debug handler: the captured replies.
    V1_18,
    /// go-micro v1.18 started with `-no-debug` (case 17).
    V1_18NoDebug,
    /// go-micro v5/v6.
    V5,
    /// Accepts connections and reads requests, never answers.
    Mute,
}

/// Size of the pieces a reply is written in.
const PIECE: usize = 8;

/// Largest request the peer reads (the console's requests are far smaller).
const MAX_REQUEST: usize = 1024 * 1024;

/// What the peer has seen, for the tests' assertions.
#[derive(Debug, Default)]
pub struct Seen {
    /// Requests read.
    pub requests: AtomicUsize,
    /// Connections accepted.
    pub connections: AtomicUsize,
    /// The headers of the last request, names lowercase, in order.
    pub last_headers: Mutex<Vec<(String, String)>>,
    /// The body of the last request.
    pub last_body: Mutex<Vec<u8>>,
}

/// A running peer; stops (listener and every connection) when dropped or [`Peer::kill`]ed.
pub struct Peer {
    address: SocketAddr,
    seen: Arc<Seen>,
    tasks: JoinSet<()>,
}

/// How long `Greeter.Slow` takes (the captured handler sleeps 5 s).
pub const SLOW: Duration = Duration::from_secs(5);

/// A body `Greeter.Big` answers with, in bytes: over the client's 4 MiB cap.
pub const BIG: usize = 5 * 1024 * 1024;

impl Peer {
    /// A peer of `flavour` on a free loopback port.
    pub async fn start(flavour: Flavour) -> Peer {
        Peer::start_on("127.0.0.1:0".parse().expect("an address"), flavour).await
    }

    /// A peer of `flavour` listening on `address` (port 0: any free port).
    pub async fn start_on(address: SocketAddr, flavour: Flavour) -> Peer {
        let listener = TcpListener::bind(address)
            .await
            .expect("bind the fake peer");
        let address = listener.local_addr().expect("a bound address");
        let seen = Arc::new(Seen::default());
        let mut tasks = JoinSet::new();
        let shared = seen.clone();
        tasks.spawn(async move {
            let mut connections = JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                shared.connections.fetch_add(1, Ordering::SeqCst);
                connections.spawn(serve(stream, flavour, shared.clone()));
            }
        });
        Peer {
            address,
            seen,
            tasks,
        }
    }

    /// `host:port`, as the node registers it.
    pub fn address(&self) -> String {
        self.address.to_string()
    }

    /// What it has seen.
    pub fn seen(&self) -> &Seen {
        &self.seen
    }

    /// Requests read so far.
    pub fn requests(&self) -> usize {
        self.seen.requests.load(Ordering::SeqCst)
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.seen.connections.load(Ordering::SeqCst)
    }

    /// Stops listening and drops every connection, as a killed process would.
    pub async fn kill(mut self) {
        self.tasks.shutdown().await;
    }
}

/// An address where nothing listens (a port bound, then released).
pub async fn closed_address() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let address = listener.local_addr().expect("an address").to_string();
    drop(listener);
    address
}

/// Serves one connection: requests in sequence until the client closes.
async fn serve(mut stream: TcpStream, flavour: Flavour, seen: Arc<Seen>) {
    let mut buffer = Vec::new();
    loop {
        let Some(request) = read_request(&mut stream, &mut buffer).await else {
            return;
        };
        seen.requests.fetch_add(1, Ordering::SeqCst);
        *seen.last_headers.lock().expect("not poisoned") = request.headers.clone();
        *seen.last_body.lock().expect("not poisoned") = request.body.clone();
        let header = |name: &str| {
            request
                .headers
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.as_str())
        };
        let endpoint = header("micro-endpoint")
            .or_else(|| header("micro-method"))
            .unwrap_or("")
            .to_string();
        let close = header("connection").is_some_and(|value| value.eq_ignore_ascii_case("close"));
        let json = header("content-type") == Some("application/json");
        let reply: Vec<u8> = match flavour {
            Flavour::Mute => {
                std::future::pending::<()>().await;
                return;
            }
            Flavour::V5 => v5::reply(&endpoint, header("micro-id").unwrap_or(""), close),
            Flavour::V1_18 | Flavour::V1_18NoDebug => {
                if endpoint == "Greeter.Slow" {
                    tokio::time::sleep(SLOW).await;
                }
                match v1_18(
                    &endpoint,
                    &request.body,
                    json,
                    flavour == Flavour::V1_18NoDebug,
                ) {
                    Some(capture) => capture.bytes.to_vec(),
                    None => big(),
                }
            }
        };
        for piece in reply.chunks(PIECE) {
            if stream.write_all(piece).await.is_err() {
                return;
            }
        }
        if close && flavour == Flavour::V5 {
            return;
        }
    }
}

/// Which captured reply a v1.18 server sent for this request; `None` for `Greeter.Big`.
fn v1_18(endpoint: &str, body: &[u8], json: bool, no_debug: bool) -> Option<Capture> {
    use captures::*;
    if !json {
        return Some(WRONG_CONTENT_TYPE);
    }
    let Some((service, method)) = endpoint.split_once('.') else {
        return Some(ILL_FORMED);
    };
    Some(match (service, method) {
        ("Debug", _) if no_debug => NO_DEBUG,
        ("Debug", "Health") if body.is_empty() || body == b"{}" => HEALTH,
        ("Debug", "Health") => HEALTH_UNKNOWN_FIELD,
        ("Greeter", "Hello") => HELLO,
        ("Greeter", "Fail") => FAIL,
        ("Greeter", "Slow") => SLOW,
        ("Greeter", "Big") => return None,
        ("Greeter", _) => UNKNOWN_METHOD,
        _ => UNKNOWN_SERVICE,
    })
}

/// A success reply of [`BIG`] bytes, framed like the captured ones.
fn big() -> Vec<u8> {
    let mut body = vec![b'"'; 1];
    body.resize(BIG - 2, b'x');
    body.extend_from_slice(b"\"\n");
    let mut reply = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nContent-Type: application/json\r\n\r\n",
        body.len()
    )
    .into_bytes();
    reply.extend_from_slice(&body);
    reply
}

/// One parsed request.
struct Request {
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// Reads the next request from `stream` (bytes left over from the last one in `buffer`).
/// `None` when the client closed or half-closed, or sent something that is not HTTP.
async fn read_request(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<Request> {
    loop {
        let mut slots = [httparse::EMPTY_HEADER; 64];
        let mut parsed = httparse::Request::new(&mut slots);
        if let httparse::Status::Complete(head) = parsed.parse(buffer).ok()? {
            let headers: Vec<(String, String)> = parsed
                .headers
                .iter()
                .map(|header| {
                    (
                        header.name.to_ascii_lowercase(),
                        String::from_utf8_lossy(header.value).trim().to_string(),
                    )
                })
                .collect();
            let length: usize = headers
                .iter()
                .find(|(name, _)| name == "content-length")
                .and_then(|(_, value)| value.parse().ok())
                .unwrap_or(0);
            if head + length > MAX_REQUEST {
                return None;
            }
            while buffer.len() < head + length {
                fill(stream, buffer).await?;
            }
            let body = buffer[head..head + length].to_vec();
            buffer.drain(..head + length);
            return Some(Request { headers, body });
        }
        if buffer.len() > MAX_REQUEST {
            return None;
        }
        fill(stream, buffer).await?;
    }
}

/// Reads more bytes; `None` at EOF (go-micro's `ServeConn` closes at once then: case 20).
async fn fill(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<()> {
    let mut chunk = [0u8; 4096];
    match stream.read(&mut chunk).await {
        Ok(0) | Err(_) => None,
        Ok(read) => {
            buffer.extend_from_slice(&chunk[..read]);
            Some(())
        }
    }
}
