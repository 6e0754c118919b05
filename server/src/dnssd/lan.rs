//! Browsing the LAN's standard DNS-SD services for the LAN page.
//!
//! RFC 6763 §9: a PTR query for `_services._dns-sd._udp.local.` lists the service types on the
//! link; each type is then browsed, and mdns-sd resolves every instance it finds (SRV, TXT,
//! A/AAAA). Everything here arrives from the network, so it is bounded: at most [`MAX_TYPES`]
//! types and [`MAX_INSTANCES`] instances are followed, strings and lists are capped, and a
//! type name must look like one (`_name._tcp.local.`) before it is browsed. One task owns
//! the browse channels and the bookkeeping; the [`LanView`] only holds what pages read.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::sync::Arc;

use app::wire::LanService;
use futures::stream::{BoxStream, SelectAll, StreamExt};
use mdns_sd::{ResolvedService, ServiceDaemon, ServiceEvent};
use tokio::sync::watch;

use super::instance_name::truncate_at_char;
use super::lan_view::LanView;
use super::retry;
use muster_registry::clock::unix_ms_now;

/// The DNS-SD meta-query name: its PTR records name the service types on the link.
pub const META_TYPE: &str = "_services._dns-sd._udp.local.";

/// Service types followed at most; later ones are ignored (a LAN rarely has more than a few
/// dozen, and each costs queries).
pub const MAX_TYPES: usize = 64;
/// Instances held at most; later ones are ignored until some leave.
pub const MAX_INSTANCES: usize = 1024;
/// TXT entries kept per instance.
pub const MAX_TXT_ENTRIES: usize = 64;
/// Bytes kept of one TXT value (longer ones are cut at a character boundary, for display).
pub const MAX_TXT_VALUE_BYTES: usize = 255;
/// Addresses kept per instance.
pub const MAX_ADDRESSES: usize = 16;
/// A DNS name is at most 255 bytes; longer strings are not names.
const MAX_NAME_BYTES: usize = 255;
/// RFC 6763 §7.2: the service name part (`_http`) is at most 15 characters after the `_`.
const MAX_SERVICE_LABEL_BYTES: usize = 16;

/// The events of one browse, each with its type; `None` once mdns-sd ends the browse (it
/// does when the channel is full, i.e. after a burst this task could not keep up with).
type Browse = BoxStream<'static, (String, Option<ServiceEvent>)>;

/// Starts browsing `service_type`.
fn browse(daemon: &ServiceDaemon, service_type: &str) -> mdns_sd::Result<Browse> {
    let events = daemon.browse(service_type)?;
    let name = service_type.to_string();
    let ended = (name.clone(), None);
    Ok(events
        .into_stream()
        .map(move |event| (name.clone(), Some(event)))
        .chain(futures::stream::once(async move { ended }))
        .boxed())
}

/// Browses until `stop` turns true, writing what it finds into `view`.
pub async fn run(daemon: ServiceDaemon, view: Arc<LanView>, mut stop: watch::Receiver<bool>) {
    let mut browses: SelectAll<Browse> = SelectAll::new();
    match browse(&daemon, META_TYPE) {
        Ok(events) => browses.push(events),
        Err(error) => {
            tracing::warn!("dnssd: cannot browse the LAN: {error}");
            view.set_disabled(format!("cannot browse the LAN: {error}"));
            return;
        }
    }
    view.set_enabled();
    let mut browser = Browser::default();
    loop {
        let again = tokio::select! {
            () = crate::console::until_stopping(&mut stop) => break,
            event = browses.next() => match event {
                Some((_, Some(event))) => browser.apply(event, &view),
                // Browsed again at once: the instances it had stay in the view, and mdns-sd
                // reports them anew from its cache.
                Some((service_type, None)) => Some(service_type),
                None => None,
            },
        };
        if let Some(service_type) = again {
            if let Some(events) = retry(|| browse(&daemon, &service_type)).await {
                browses.push(events);
            }
        }
        if browses.is_empty() {
            // Only when mdns-sd refuses every browse: it stopped.
            view.set_disabled("the mDNS daemon stopped");
            break;
        }
    }
}

/// The browsing bookkeeping: which types are followed, which instances are held.
#[derive(Default)]
struct Browser {
    types: BTreeSet<String>,
    /// fullname → service type.
    instances: BTreeMap<String, String>,
    full_noted: bool,
}

impl Browser {
    /// Applies one event; returns a type to start browsing.
    fn apply(&mut self, event: ServiceEvent, view: &LanView) -> Option<String> {
        match event {
            ServiceEvent::ServiceFound(ty, name) if ty == META_TYPE => {
                let name = name.to_ascii_lowercase();
                if !is_service_type(&name) || self.types.contains(&name) {
                    return None;
                }
                if self.types.len() >= MAX_TYPES {
                    self.note_full("service types");
                    return None;
                }
                self.types.insert(name.clone());
                Some(name)
            }
            ServiceEvent::ServiceResolved(resolved) => {
                let Some(service) = lan_service(&resolved, unix_ms_now()) else {
                    tracing::debug!("dnssd: ignored a malformed instance from the LAN");
                    return None;
                };
                if !self.instances.contains_key(&service.fullname)
                    && self.instances.len() >= MAX_INSTANCES
                {
                    self.note_full("instances");
                    return None;
                }
                self.instances
                    .insert(service.fullname.clone(), service.service_type.clone());
                view.upsert(service);
                None
            }
            // A type's PTR leaving (META_TYPE removals) is not followed: its instances say
            // goodbye or expire by themselves, and a type once seen stays browsed (bounded).
            ServiceEvent::ServiceRemoved(ty, fullname) if ty != META_TYPE => {
                if self.instances.remove(&fullname).is_some() {
                    view.remove(&fullname);
                }
                None
            }
            _ => None,
        }
    }

    /// Logs once that a bound was reached (a LAN that big, or someone flooding it).
    fn note_full(&mut self, what: &str) {
        if !self.full_noted {
            self.full_noted = true;
            tracing::warn!("dnssd: LAN view full ({what}); ignoring more until some leave");
        }
    }
}

/// `_name._tcp.local.` or `_name._udp.local.` with a sane service label (RFC 6763 §7).
pub fn is_service_type(name: &str) -> bool {
    let Some(service) = name
        .strip_suffix("._tcp.local.")
        .or_else(|| name.strip_suffix("._udp.local."))
    else {
        return false;
    };
    let Some(label) = service.strip_prefix('_') else {
        return false;
    };
    !label.is_empty()
        && service.len() <= MAX_SERVICE_LABEL_BYTES
        && label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && label.bytes().any(|b| b.is_ascii_alphabetic())
        && name != META_TYPE
}

/// The page's row for a resolved instance, bounded; `None` when the names are not sane.
pub fn lan_service(resolved: &ResolvedService, now: u64) -> Option<LanService> {
    let fullname = resolved.fullname.as_str();
    let service_type = resolved.ty_domain.as_str();
    if fullname.len() > MAX_NAME_BYTES
        || resolved.host.len() > MAX_NAME_BYTES
        || !is_service_type(&service_type.to_ascii_lowercase())
    {
        return None;
    }
    let instance = instance_label(fullname, service_type)?;
    // Sorted by address (IPv4 first); shown with the scope of a link-local IPv6 (`fe80::1%eth0`).
    let addresses = resolved
        .addresses
        .iter()
        .map(|scoped| (scoped.to_ip_addr(), scoped.to_string()))
        .collect::<BTreeMap<IpAddr, String>>()
        .into_values()
        .take(MAX_ADDRESSES)
        .collect();
    let txt = resolved
        .txt_properties
        .iter()
        .take(MAX_TXT_ENTRIES)
        .map(|property| {
            let value = property
                .val()
                .map(|bytes| String::from_utf8_lossy(bytes).into_owned())
                .unwrap_or_default();
            (
                property.key().to_string(),
                truncate_at_char(&value, MAX_TXT_VALUE_BYTES).to_string(),
            )
        })
        .collect();
    Some(LanService {
        fullname: fullname.to_string(),
        service_type: service_type.to_string(),
        instance,
        host: resolved.host.clone(),
        port: resolved.port,
        addresses,
        txt,
        last_seen: now,
    })
}

/// The instance label of `fullname` (the part before `.<type>`), with DNS escapes (`\.`,
/// `\\`) undone so a person reads `Muster on vm`, not `Muster\ on\ vm`.
pub fn instance_label(fullname: &str, service_type: &str) -> Option<String> {
    let suffix_at = fullname.len().checked_sub(service_type.len() + 1)?;
    if !fullname.is_char_boundary(suffix_at) {
        return None;
    }
    let (escaped, suffix) = fullname.split_at(suffix_at);
    if !suffix[1..].eq_ignore_ascii_case(service_type) || !suffix.starts_with('.') {
        return None;
    }
    let mut label = String::with_capacity(escaped.len());
    let mut chars = escaped.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            label.push(chars.next().unwrap_or('\\'));
        } else {
            label.push(c);
        }
    }
    (!label.is_empty()).then_some(label)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_types() {
        assert!(is_service_type("_http._tcp.local."));
        assert!(is_service_type("_micro._tcp.local."));
        assert!(is_service_type("_sleep-proxy._udp.local."));
        assert!(!is_service_type(META_TYPE));
        assert!(!is_service_type("_http._tcp.local"));
        assert!(!is_service_type("http._tcp.local."));
        assert!(!is_service_type("_._tcp.local."));
        assert!(!is_service_type("_123._tcp.local."));
        assert!(!is_service_type("_a.b._tcp.local."));
        assert!(!is_service_type("_waytoolongservicename._tcp.local."));
        assert!(!is_service_type(&format!(
            "_{}._tcp.local.",
            "x".repeat(5000)
        )));
        assert!(!is_service_type("_h\u{0}ttp._tcp.local."));
        assert!(!is_service_type("_ĥttp._tcp.local."));
    }

    #[test]
    fn instance_labels() {
        assert_eq!(
            instance_label("Muster on vm._http._tcp.local.", "_http._tcp.local."),
            Some("Muster on vm".into())
        );
        assert_eq!(
            instance_label(
                r"go\.micro\.srv\.greeter-1._micro._tcp.local.",
                "_micro._tcp.local."
            ),
            Some("go.micro.srv.greeter-1".into())
        );
        assert_eq!(
            instance_label(r"back\\slash._http._tcp.local.", "_http._tcp.local."),
            Some(r"back\slash".into())
        );
        assert_eq!(
            instance_label(r"trailing\.._http._tcp.local.", "_http._tcp.local."),
            Some("trailing.".into())
        );
        assert_eq!(
            instance_label("_http._tcp.local.", "_http._tcp.local."),
            None
        );
        assert_eq!(
            instance_label("x._ipp._tcp.local.", "_http._tcp.local."),
            None
        );
        assert_eq!(
            instance_label("é._http._tcp.local.", "_http._tcp.local."),
            Some("é".into())
        );
        assert_eq!(instance_label("", "_http._tcp.local."), None);
    }

    fn resolved(txt: &[u8]) -> ResolvedService {
        let info = mdns_sd::ServiceInfo::new(
            "_http._tcp.local.",
            "peer",
            "peer.local.",
            "10.78.0.2,10.78.0.9,10.78.0.2",
            8080,
            None,
        )
        .unwrap();
        let mut resolved = info.as_resolved_service();
        resolved.txt_properties = mdns_sd::TxtProperties::from(txt);
        resolved
    }

    /// A TXT record in wire form: length-prefixed strings.
    fn wire(entries: &[&[u8]]) -> Vec<u8> {
        entries
            .iter()
            .flat_map(|entry| std::iter::once(entry.len() as u8).chain(entry.iter().copied()))
            .collect()
    }

    #[test]
    fn resolved_instances_become_rows() {
        let row = lan_service(&resolved(&wire(&[b"path=/", b"flag", b"v=1=2"])), 7).unwrap();
        assert_eq!(row.fullname, "peer._http._tcp.local.");
        assert_eq!(row.instance, "peer");
        assert_eq!(row.service_type, "_http._tcp.local.");
        assert_eq!(row.host, "peer.local.");
        assert_eq!(row.port, 8080);
        assert_eq!(row.addresses, ["10.78.0.2", "10.78.0.9"]);
        assert_eq!(
            row.txt,
            [
                ("path".to_string(), "/".to_string()),
                ("flag".to_string(), String::new()),
                ("v".to_string(), "1=2".to_string()),
            ]
        );
        assert_eq!(row.last_seen, 7);
    }

    #[test]
    fn hostile_txt_is_bounded_and_lossy() {
        let mut entries: Vec<Vec<u8>> = vec![b"bin=\xff\xfe\x00ok".to_vec()];
        entries.extend((0..200).map(|i| format!("k{i}={}", "v".repeat(240)).into_bytes()));
        let entry_refs: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
        let row = lan_service(&resolved(&wire(&entry_refs)), 0).unwrap();
        assert_eq!(row.txt.len(), MAX_TXT_ENTRIES);
        assert_eq!(row.txt[0].0, "bin");
        assert_eq!(row.txt[0].1, "\u{fffd}\u{fffd}\u{0}ok");
        assert!(row.txt.iter().all(|(_, v)| v.len() <= MAX_TXT_VALUE_BYTES));
    }

    #[test]
    fn browser_bounds_types_and_instances() {
        let view = LanView::new("test");
        let mut browser = Browser::default();
        let found = |name: &str| ServiceEvent::ServiceFound(META_TYPE.into(), name.into());
        assert_eq!(
            browser.apply(found("_HTTP._tcp.local."), &view),
            Some("_http._tcp.local.".into())
        );
        assert_eq!(browser.apply(found("_http._tcp.local."), &view), None);
        assert_eq!(browser.apply(found("garbage"), &view), None);
        for i in 0..200 {
            browser.apply(found(&format!("_t{i}._tcp.local.")), &view);
        }
        assert_eq!(browser.types.len(), MAX_TYPES);
        for i in 0..(MAX_INSTANCES + 50) {
            let mut service = resolved(b"");
            service.fullname = format!("i{i}._http._tcp.local.");
            browser.apply(ServiceEvent::ServiceResolved(Box::new(service)), &view);
        }
        assert_eq!(view.snapshot().services.len(), MAX_INSTANCES);
        browser.apply(
            ServiceEvent::ServiceRemoved("_http._tcp.local.".into(), "i0._http._tcp.local.".into()),
            &view,
        );
        assert_eq!(view.snapshot().services.len(), MAX_INSTANCES - 1);
    }
}
