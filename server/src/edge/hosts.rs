//! Which names the console answers to, and what a request's client, scheme and host are.
//!
//! DNS rebinding: a page on `evil.example` re-points its own name at 127.0.0.1, and the
//! browser then treats the console as `evil.example` — same origin as the attacker's page, so
//! the Origin check passes. What gives it away is the `Host` header, which still says
//! `evil.example`. The console therefore answers only to its own names: the listen address,
//! `localhost`, and `--allowed-host`. An IP literal cannot be rebound (the browser's origin
//! is the address itself), so a console listening on every address accepts any IP literal.
//!
//! Behind a reverse proxy the request's `Host` and scheme are the proxy's view of them in
//! `X-Forwarded-Host` and `X-Forwarded-Proto` (and the client in `X-Forwarded-For`), which
//! anyone can send: they count only on connections from a `--trusted-proxy` address. A proxy
//! appends to these headers, so the last value is the one it wrote.

use std::net::{IpAddr, SocketAddr};

use axum::http::{header, HeaderMap};

use super::Peer;

/// The names and proxies the console trusts.
#[derive(Debug, Clone)]
pub struct HostPolicy {
    listen: IpAddr,
    allowed: Vec<String>,
    proxies: Vec<IpAddr>,
}

/// A request as the checks see it: its client, scheme and host (a request extension).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The client's address (past a trusted proxy: the one it forwarded for).
    pub ip: IpAddr,
    /// Reached over HTTPS (directly, or at a trusted proxy).
    pub https: bool,
    /// The `Host` the client asked for (past a trusted proxy: the forwarded one).
    pub host: Option<String>,
    /// The forwarded values came from a trusted proxy.
    pub proxied: bool,
}

impl Caller {
    /// The origin a page of this console has for this client: `https://host` or `http://host`.
    pub fn origin(&self) -> Option<String> {
        let scheme = if self.https { "https" } else { "http" };
        self.host.as_ref().map(|host| format!("{scheme}://{host}"))
    }
}

impl HostPolicy {
    /// A console listening on `listen`, also known as `allowed` (names, optionally with a
    /// port, which is ignored), behind `proxies`.
    pub fn new(listen: SocketAddr, allowed: &[String], proxies: Vec<IpAddr>) -> Self {
        HostPolicy {
            listen: listen.ip(),
            allowed: allowed
                .iter()
                .map(|name| normalize(hostname(name)))
                .collect(),
            proxies,
        }
    }

    /// The client, scheme and host of a request that arrived on `peer`.
    pub fn caller(&self, peer: Peer, headers: &HeaderMap) -> Caller {
        let host = last(headers, header::HOST).map(str::to_string);
        if !self.proxies.contains(&peer.addr.ip()) {
            return Caller {
                ip: peer.addr.ip(),
                https: peer.tls,
                host,
                proxied: false,
            };
        }
        let proto = last(headers, "x-forwarded-proto");
        Caller {
            ip: last(headers, "x-forwarded-for")
                .and_then(|ip| ip.parse().ok())
                .unwrap_or(peer.addr.ip()),
            https: proto.map_or(peer.tls, |proto| proto.eq_ignore_ascii_case("https")),
            host: last(headers, "x-forwarded-host")
                .map(str::to_string)
                .or(host),
            proxied: true,
        }
    }

    /// Whether `host` (a `Host` value: name or address, optionally with a port) is one of
    /// this console's names.
    pub fn allows(&self, host: &str) -> bool {
        let name = normalize(hostname(host));
        if name == "localhost" || self.allowed.contains(&name) {
            return true;
        }
        match name.parse::<IpAddr>() {
            Ok(ip) => ip == self.listen || self.listen.is_unspecified(),
            Err(_) => false,
        }
    }
}

/// The last comma-separated value of header `name`, trimmed.
fn last(headers: &HeaderMap, name: impl header::AsHeaderName) -> Option<&str> {
    let value = headers.get_all(name).iter().next_back()?.to_str().ok()?;
    value
        .rsplit(',')
        .next()
        .map(str::trim)
        .filter(|value| !value.is_empty())
}

/// The name or address of a `Host` value: without the port, IPv6 without brackets.
fn hostname(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

/// Names compare case-insensitively, and `name.` is `name`.
fn normalize(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn peer(addr: &str, tls: bool) -> Peer {
        Peer {
            addr: addr.parse().unwrap(),
            tls,
        }
    }

    #[test]
    fn names_of_a_loopback_console() {
        let policy = HostPolicy::new(
            "127.0.0.1:3000".parse().unwrap(),
            &["Console.Example.:8443".into()],
            vec![],
        );
        for host in [
            "127.0.0.1:3000",
            "localhost:3000",
            "LOCALHOST",
            "console.example",
        ] {
            assert!(policy.allows(host), "{host}");
        }
        for host in [
            "rebind.evil.example:3000",
            "10.0.0.1:3000",
            "[::1]:3000",
            "",
            "localhost.evil",
        ] {
            assert!(!policy.allows(host), "{host}");
        }
    }

    #[test]
    fn every_address_when_listening_on_all() {
        let policy = HostPolicy::new("[::]:3000".parse().unwrap(), &[], vec![]);
        assert!(policy.allows("10.0.0.1:3000"));
        assert!(policy.allows("[fe80::1]:3000"));
        assert!(!policy.allows("evil.example"));
    }

    #[test]
    fn forwarded_headers_only_from_a_trusted_proxy() {
        let policy = HostPolicy::new(
            "127.0.0.1:3000".parse().unwrap(),
            &[],
            vec!["127.0.0.2".parse().unwrap()],
        );
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, "127.0.0.1:3000".parse().unwrap());
        headers.insert("x-forwarded-proto", "https".parse().unwrap());
        headers.insert(
            "x-forwarded-host",
            "forged, console.example".parse().unwrap(),
        );
        headers.insert("x-forwarded-for", "10.9.9.9, 192.0.2.7".parse().unwrap());
        let direct = policy.caller(peer("127.0.0.1:5000", false), &headers);
        assert_eq!(direct.origin().as_deref(), Some("http://127.0.0.1:3000"));
        assert_eq!(direct.ip, "127.0.0.1".parse::<IpAddr>().unwrap());
        let proxied = policy.caller(peer("127.0.0.2:5000", false), &headers);
        assert_eq!(proxied.origin().as_deref(), Some("https://console.example"));
        assert_eq!(proxied.ip, "192.0.2.7".parse::<IpAddr>().unwrap());
    }
}
