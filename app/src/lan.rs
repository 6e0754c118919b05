//! The LAN view: standard DNS-SD services (what avahi-browse or a Bonjour browser would list),
//! as the browser knows them, kept current by `/api/lan/watch`.
//!
//! Separate from [`crate::live`]: these are not go-micro services, the feed is opened only
//! while the LAN page is shown, and the view is small enough that every reconnect simply
//! starts from a fresh snapshot.

use std::collections::BTreeMap;

use leptos::prelude::*;

use crate::pages::url::urlencode;
use crate::wire::{LanMessage, LanService, LanSnapshot};

/// Instances keyed by full name.
pub type LanMap = BTreeMap<String, LanService>;

/// What the console browses on the LAN, as a server function (the page renders it on the
/// server first).
#[server(prefix = "/rpc", output = crate::codec::JsonOut)]
pub async fn load_lan() -> Result<LanSnapshot, ServerFnError> {
    let console = expect_context::<crate::console::SharedConsole>();
    Ok(console.lan())
}

/// The LAN view as the page holds it: the server-rendered snapshot, then what the feed said.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LanView {
    /// The console browses at all.
    pub enabled: bool,
    /// Why not, when it does not.
    pub reason: Option<String>,
    /// Every instance, by full name.
    pub services: LanMap,
}

impl From<LanSnapshot> for LanView {
    fn from(snapshot: LanSnapshot) -> Self {
        LanView {
            enabled: snapshot.enabled,
            reason: snapshot.reason,
            services: snapshot
                .services
                .into_iter()
                .map(|service| (service.fullname.clone(), service))
                .collect(),
        }
    }
}

impl LanView {
    /// Applies one message of the feed.
    pub fn apply(&mut self, message: LanMessage) {
        match message {
            LanMessage::Snapshot(snapshot) => *self = snapshot.into(),
            LanMessage::Upsert(service) => {
                self.services.insert(service.fullname.clone(), service);
            }
            LanMessage::Remove { fullname } => {
                self.services.remove(&fullname);
            }
            LanMessage::Heartbeat => {}
        }
    }

    /// The instances matching `text` (a part of the type, instance, host, an address or a TXT
    /// pair, case-insensitively), sorted by type then instance.
    pub fn matching<'a>(&'a self, text: &str) -> Vec<&'a LanService> {
        let text = text.trim().to_lowercase();
        let mut found: Vec<&LanService> = self
            .services
            .values()
            .filter(|service| text.is_empty() || haystack(service).contains(&text))
            .collect();
        found.sort_by(|a, b| {
            (&a.service_type, &a.instance, &a.fullname).cmp(&(
                &b.service_type,
                &b.instance,
                &b.fullname,
            ))
        });
        found
    }

    /// How many distinct service types are known.
    pub fn type_count(&self) -> usize {
        let mut types: Vec<&str> = self
            .services
            .values()
            .map(|service| service.service_type.as_str())
            .collect();
        types.sort_unstable();
        types.dedup();
        types.len()
    }
}

/// Everything a search can match in one instance, lowercased.
fn haystack(service: &LanService) -> String {
    let mut text = format!(
        "{} {} {} {}",
        service.service_type,
        service.instance,
        service.host,
        service.addresses.join(" ")
    );
    for (key, value) in &service.txt {
        text.push(' ');
        text.push_str(key);
        text.push('=');
        text.push_str(value);
    }
    text.to_lowercase()
}

/// The DNS-SD type as people say it: `_http._tcp.local.` → `_http._tcp`.
pub fn short_type(service_type: &str) -> &str {
    service_type
        .trim_end_matches('.')
        .strip_suffix(".local")
        .unwrap_or(service_type)
}

/// Where a browser opens an `_http._tcp` / `_https._tcp` instance: its first address (IPv4
/// first: a `.local` host name needs an mDNS resolver the browser may not have), its port, and
/// the TXT `path` (RFC 6763 § 7.1 for `_http`) when it is a plain absolute path. Everything
/// here came from the LAN: a path that is not `/`-rooted or holds anything but visible ASCII
/// is replaced by `/`, so the link never leaves the instance's own origin.
pub fn open_link(service: &LanService) -> Option<String> {
    let scheme = match short_type(&service.service_type) {
        "_http._tcp" => "http",
        "_https._tcp" => "https",
        _ => return None,
    };
    let address = service
        .addresses
        .iter()
        .find(|address| address.parse::<std::net::Ipv4Addr>().is_ok())
        .or_else(|| service.addresses.first())?;
    let ip: std::net::IpAddr = address.parse().ok()?;
    let host = match ip {
        std::net::IpAddr::V4(ip) => ip.to_string(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
    };
    let path = service
        .txt
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case("path"))
        .map(|(_, path)| path.as_str())
        .filter(|path| {
            path.starts_with('/')
                && !path.starts_with("//")
                && path
                    .bytes()
                    .all(|byte| byte.is_ascii_graphic() && byte != b'\\')
        })
        .unwrap_or("/");
    Some(format!("{scheme}://{host}:{}{path}", service.port))
}

/// The console page of the go-micro node an `_micro._tcp` mirror stands for (TXT `service=`
/// and `node=`, as a bridging Muster publishes them): `/services/NAME#node-ID`.
pub fn mirror_link(service: &LanService) -> Option<String> {
    if short_type(&service.service_type) != "_micro._tcp" {
        return None;
    }
    let txt = |name: &str| {
        service
            .txt
            .iter()
            .find(|(key, value)| key == name && !value.is_empty())
            .map(|(_, value)| value.as_str())
    };
    let name = txt("service")?;
    let mut link = format!("/services/{}", urlencode(name));
    if let Some(node) = txt("node") {
        link.push_str(&format!("#node-{}", urlencode(node)));
    }
    Some(link)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(fullname: &str, service_type: &str, instance: &str) -> LanService {
        LanService {
            fullname: fullname.into(),
            service_type: service_type.into(),
            instance: instance.into(),
            host: "printer.local.".into(),
            port: 631,
            addresses: vec!["10.0.0.7".into()],
            txt: vec![("rp".into(), "ipp/print".into())],
            last_seen: 1,
        }
    }

    fn snapshot(services: Vec<LanService>) -> LanSnapshot {
        LanSnapshot {
            enabled: true,
            reason: None,
            services,
        }
    }

    #[test]
    fn upserts_replace_by_fullname_and_removes_drop() {
        let mut view = LanView::from(snapshot(vec![service(
            "A._ipp._tcp.local.",
            "_ipp._tcp.local.",
            "A",
        )]));
        let mut changed = service("A._ipp._tcp.local.", "_ipp._tcp.local.", "A");
        changed.port = 632;
        view.apply(LanMessage::Upsert(changed));
        view.apply(LanMessage::Upsert(service(
            "B._http._tcp.local.",
            "_http._tcp.local.",
            "B",
        )));
        assert_eq!(view.services.len(), 2);
        assert_eq!(view.services["A._ipp._tcp.local."].port, 632);

        view.apply(LanMessage::Remove {
            fullname: "A._ipp._tcp.local.".into(),
        });
        view.apply(LanMessage::Heartbeat);
        assert_eq!(
            view.services.keys().collect::<Vec<_>>(),
            ["B._http._tcp.local."]
        );
    }

    #[test]
    fn a_snapshot_replaces_everything() {
        let mut view = LanView::from(snapshot(vec![service("A.x", "x", "A")]));
        view.apply(LanMessage::Snapshot(LanSnapshot {
            enabled: false,
            reason: Some("off".into()),
            services: vec![],
        }));
        assert_eq!(
            view,
            LanView {
                enabled: false,
                reason: Some("off".into()),
                services: LanMap::new()
            }
        );
    }

    #[test]
    fn search_matches_any_field_and_sorts_by_type_then_instance() {
        let view = LanView::from(snapshot(vec![
            service("Z._http._tcp.local.", "_http._tcp.local.", "Z"),
            service("B._ipp._tcp.local.", "_ipp._tcp.local.", "B"),
            service("A._http._tcp.local.", "_http._tcp.local.", "A"),
        ]));
        let all: Vec<&str> = view
            .matching("")
            .iter()
            .map(|s| s.instance.as_str())
            .collect();
        assert_eq!(all, ["A", "Z", "B"]);
        assert_eq!(view.matching("IPP/PRINT").len(), 3, "TXT values match");
        assert_eq!(view.matching("_ipp").len(), 1);
        assert_eq!(view.matching("10.0.0.7").len(), 3);
        assert!(view.matching("nothing-like-this").is_empty());
        assert_eq!(view.type_count(), 2);
    }

    #[test]
    fn short_types_drop_the_domain() {
        assert_eq!(short_type("_http._tcp.local."), "_http._tcp");
        assert_eq!(short_type("_http._tcp.local"), "_http._tcp");
        assert_eq!(short_type("odd"), "odd");
    }

    #[test]
    fn http_instances_open_at_their_address_and_path() {
        let mut web = service(
            "Muster on vm._http._tcp.local.",
            "_http._tcp.local.",
            "Muster on vm",
        );
        web.addresses = vec!["fe80::1".into(), "10.0.0.5".into()];
        web.port = 3000;
        web.txt = vec![("path".into(), "/ui/".into())];
        assert_eq!(open_link(&web).as_deref(), Some("http://10.0.0.5:3000/ui/"));
        web.addresses = vec!["fe80::1".into()];
        assert_eq!(
            open_link(&web).as_deref(),
            Some("http://[fe80::1]:3000/ui/")
        );
        for hostile in [
            "//evil.example/",
            "javascript:alert(1)",
            "/a b",
            "/\\evil",
            "/\u{7}",
        ] {
            web.txt = vec![("path".into(), hostile.into())];
            assert_eq!(
                open_link(&web).as_deref(),
                Some("http://[fe80::1]:3000/"),
                "{hostile:?}"
            );
        }
        web.addresses.clear();
        assert_eq!(open_link(&web), None, "no address, no link");
        let printer = service("P._ipp._tcp.local.", "_ipp._tcp.local.", "P");
        assert_eq!(open_link(&printer), None);
    }

    #[test]
    fn mirrors_link_to_their_service_and_node() {
        let mut mirror = service("n1._micro._tcp.local.", "_micro._tcp.local.", "n1");
        mirror.txt = vec![
            ("service".into(), "go.micro.srv.a b".into()),
            ("node".into(), "n/1".into()),
        ];
        assert_eq!(
            mirror_link(&mirror).as_deref(),
            Some("/services/go.micro.srv.a%20b#node-n%2F1")
        );
        mirror.txt.truncate(1);
        assert_eq!(
            mirror_link(&mirror).as_deref(),
            Some("/services/go.micro.srv.a%20b")
        );
        mirror.txt.clear();
        assert_eq!(mirror_link(&mirror), None);
    }
}
