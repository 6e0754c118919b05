//! go-micro's name scheme under an mDNS domain (default `micro.`).
//!
//! Not DNS-SD: there is no `_x._tcp` level, and service names and node ids themselves contain
//! dots, so a service `go.micro.srv.greeter` lives at `go.micro.srv.greeter.micro.` and its node
//! `go.micro.srv.greeter-1` at `go.micro.srv.greeter-1.go.micro.srv.greeter.micro.`. Names are
//! handled as text (labels joined by dots, with the trailing dot) and compared case-sensitively,
//! as go-micro compares Go strings.

use crate::error::{Error, Result};
use crate::field::Field;

/// The longest name DNS can carry (RFC 1035 §3.1), counted as text with the trailing dot.
pub const MAX_NAME_CHARS: usize = 253;

/// The longest label.
pub const MAX_LABEL_CHARS: usize = 63;

/// The names of one domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    domain: String,
}

impl Names {
    /// Names under `domain` (`micro`, `micro.` or `.micro.` all mean the same).
    pub fn new(domain: &str) -> Result<Self> {
        let domain = domain.trim_matches('.');
        if domain.is_empty() {
            return Err(Error::invalid(Field::MdnsDomain, "must not be empty"));
        }
        check_labels(domain, Field::MdnsDomain)?;
        Ok(Names {
            domain: domain.to_string(),
        })
    }

    /// The domain without dots around it, e.g. `micro`.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// Whether `name` (with its trailing dot) lies under the domain: only those can be
    /// go-micro records. Standard DNS-SD (`x._http._tcp.local.`) on the same port is not.
    pub fn in_domain(&self, name: &str) -> bool {
        name.strip_suffix('.')
            .and_then(|name| name.strip_suffix(self.domain.as_str()))
            .is_some_and(|prefix| prefix.ends_with('.'))
    }

    /// `<service>.<domain>.`: owner of the PTR records listing a service's nodes.
    pub fn service(&self, service: &str) -> String {
        format!("{service}.{}.", self.domain)
    }

    /// `<node id>.<service>.<domain>.`: owner of a node's SRV and TXT records.
    pub fn instance(&self, service: &str, node_id: &str) -> String {
        format!("{node_id}.{service}.{}.", self.domain)
    }

    /// `_services.<domain>.`: what go-micro's ListServices asks for.
    pub fn services(&self) -> String {
        format!("_services.{}.", self.domain)
    }

    /// `<service>._services.<domain>.`: the list-wildcard instance go-micro keeps per service.
    pub fn services_instance(&self, service: &str) -> String {
        format!("{service}._services.{}.", self.domain)
    }

    /// `_services._dns-sd._udp.<domain>.`: the DNS-SD enumeration name go-micro also answers.
    pub fn dns_sd_enumeration(&self) -> String {
        format!("_services._dns-sd._udp.{}.", self.domain)
    }

    /// The node id in an instance name of `service`: the name minus `.<service>.<domain>.`.
    pub fn node_id<'a>(&self, instance: &'a str, service: &str) -> Option<&'a str> {
        let node_id = instance
            .strip_suffix('.')?
            .strip_suffix(self.domain.as_str())?
            .strip_suffix('.')?
            .strip_suffix(service)?
            .strip_suffix('.')?;
        (!node_id.is_empty()).then_some(node_id)
    }

    /// The service of a list-wildcard instance name `<service>._services.<domain>.`.
    pub fn service_of_services_instance<'a>(&self, instance: &'a str) -> Option<&'a str> {
        let service = instance
            .strip_suffix('.')?
            .strip_suffix(self.domain.as_str())?
            .strip_suffix("._services.")?;
        (!service.is_empty()).then_some(service)
    }

    /// The service whose PTR owner `name` is (`<service>.<domain>.`), if any.
    pub fn service_of(&self, name: &str) -> Option<String> {
        let service = name
            .strip_suffix('.')?
            .strip_suffix(self.domain.as_str())?
            .strip_suffix('.')?;
        (!service.is_empty()).then(|| service.to_string())
    }

    /// Checks that a service name and node id make names DNS can carry: go-micro's packer
    /// refuses labels over 63 bytes and names over 255, so registering one would announce
    /// nothing.
    pub fn check_node(&self, service: &str, node_id: &str) -> Result<()> {
        check_labels(service, Field::ServiceName)?;
        check_labels(node_id, Field::NodeId)?;
        // The list-wildcard name is the longer one only for very short node ids; check both.
        let longest = self
            .instance(service, node_id)
            .len()
            .max(self.services_instance(service).len());
        if longest > MAX_NAME_CHARS + 1 {
            return Err(Error::invalid(
                Field::NodeId,
                format!("instance name would be {longest} characters; DNS allows {MAX_NAME_CHARS}"),
            ));
        }
        Ok(())
    }
}

/// Dot-separated text whose labels DNS can carry and whose text form is unambiguous.
fn check_labels(text: &str, field: Field) -> Result<()> {
    if text.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    for label in text.split('.') {
        if label.is_empty() {
            return Err(Error::invalid(
                field,
                "has an empty label (leading, trailing or double dot)",
            ));
        }
        if label.len() > MAX_LABEL_CHARS {
            return Err(Error::invalid(
                field,
                format!("label `{label}` is longer than {MAX_LABEL_CHARS} bytes"),
            ));
        }
        if label
            .bytes()
            .any(|b| b == b'\\' || b.is_ascii_control() || b == b' ')
        {
            return Err(Error::invalid(
                field,
                "contains a space, backslash or control character",
            ));
        }
    }
    Ok(())
}

/// The machine's host name as go-micro writes it: `<hostname>.` (not `.local.`).
pub fn local_host_name() -> String {
    let name = nix::unistd::gethostname()
        .ok()
        .and_then(|name| name.into_string().ok())
        .map(|name| name.trim_matches('.').to_string())
        .filter(|name| !name.is_empty() && check_labels(name, Field::HostName).is_ok())
        .unwrap_or_else(|| "localhost".to_string());
    format!("{name}.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme() {
        let names = Names::new("micro").unwrap();
        let svc = "go.micro.srv.greeter";
        let id = "go.micro.srv.greeter-1";
        assert_eq!(names.service(svc), "go.micro.srv.greeter.micro.");
        let instance = names.instance(svc, id);
        assert_eq!(
            instance,
            "go.micro.srv.greeter-1.go.micro.srv.greeter.micro."
        );
        assert_eq!(names.node_id(&instance, svc), Some(id));
        assert_eq!(names.node_id(&instance, "srv.other"), None);
        assert_eq!(names.node_id("go.micro.srv.greeter.micro.", svc), None);
        assert_eq!(
            names.service_of_services_instance("go.micro.srv.greeter._services.micro."),
            Some(svc)
        );
        assert_eq!(
            names.service_of("go.micro.srv.greeter.micro."),
            Some(svc.to_string())
        );
        assert_eq!(names.services(), "_services.micro.");
        assert_eq!(names.dns_sd_enumeration(), "_services._dns-sd._udp.micro.");
    }

    #[test]
    fn case_sensitive() {
        let names = Names::new("micro.").unwrap();
        assert_eq!(names.node_id("a.SVC.micro.", "svc"), None);
        assert_eq!(names.node_id("a.svc.MICRO.", "svc"), None);
    }

    #[test]
    fn refuses_unpackable_names() {
        let names = Names::new("micro").unwrap();
        assert!(names.check_node("svc", &"x".repeat(64)).is_err());
        assert!(names.check_node("svc", "a..b").is_err());
        assert!(names.check_node(&"a.".repeat(130), "n").is_err());
        assert!(names.check_node("svc", "svc-1").is_ok());
    }
}
