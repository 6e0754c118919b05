//! A bare HTTP/1.1 client over any stream (TCP, TLS): the edge tests write requests byte by
//! byte (forged `Host`, unfinished headers, CR/LF in a form) that ordinary clients refuse to
//! send, and read the answer as it came.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// An answer: status, headers (lowercase names; repeated ones joined by "\n"), body.
#[derive(Debug)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// The headers.
    pub headers: HashMap<String, String>,
    /// The body, as text.
    pub body: String,
}

impl Answer {
    /// Header `name` (lowercase), or "".
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", String::as_str)
    }
}

/// A TCP connection to `to` from the loopback address `from` (127.0.0.0/8 is all local, so
/// tests can be several clients).
pub async fn connect_from(from: IpAddr, to: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(from, 0))?;
    socket.connect(to).await
}

/// Sends `request` (the whole request, head and body) and reads the answer to the end (the
/// request should say `Connection: close`).
pub async fn exchange(
    stream: &mut (impl AsyncRead + AsyncWrite + Unpin),
    request: &[u8],
) -> std::io::Result<Answer> {
    stream.write_all(request).await?;
    let mut bytes = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut bytes))
        .await
        .map_err(|_| std::io::Error::other("no complete answer within 10 s"))?;
    match read {
        // A TLS peer that closes without close_notify: the answer is complete all the same.
        Err(error) if error.kind() == std::io::ErrorKind::UnexpectedEof && !bytes.is_empty() => {}
        other => {
            other?;
        }
    }
    parse(&bytes)
}

/// `exchange` on a new connection from `from` to `to`.
pub async fn send_from(from: IpAddr, to: SocketAddr, request: &str) -> Answer {
    let mut stream = connect_from(from, to).await.expect("connects");
    exchange(&mut stream, request.as_bytes())
        .await
        .expect("an answer")
}

/// A request with `Connection: close`, `Host: host`, the extra header lines, and a body (with
/// its length).
pub fn request(method: &str, path: &str, host: &str, headers: &[&str], body: &str) -> String {
    let mut text = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for line in headers {
        text.push_str(line);
        text.push_str("\r\n");
    }
    if !body.is_empty() || method == "POST" {
        text.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    text.push_str("\r\n");
    text.push_str(body);
    text
}

fn parse(bytes: &[u8]) -> std::io::Result<Answer> {
    let text = String::from_utf8_lossy(bytes);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| std::io::Error::other(format!("no HTTP answer: {text:?}")))?;
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no status line: {head:?}")))?;
    let mut headers: HashMap<String, String> = HashMap::new();
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            headers
                .entry(name.trim().to_ascii_lowercase())
                .and_modify(|joined| {
                    joined.push('\n');
                    joined.push_str(value.trim());
                })
                .or_insert_with(|| value.trim().to_string());
        }
    }
    Ok(Answer {
        status,
        headers,
        body: body.to_string(),
    })
}
