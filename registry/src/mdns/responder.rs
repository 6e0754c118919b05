//! Answers to queries about the nodes this process owns.
//!
//! What go-micro's own server answers, and how its clients need it:
//! - `<service>.<domain>.` PTR/ANY: PTR, SRV, A/AAAA, TXT of a node — ONE node per packet,
//!   because go-micro clients keep only the last entry a packet touched (two nodes in one
//!   packet gave zero results);
//! - `_services.<domain>.` PTR/ANY: the list-wildcard of one service per packet;
//! - `_services._dns-sd._udp.<domain>.` PTR/ANY: a PTR to each `<service>.<domain>.`;
//! - an instance name: SRV (with the host's address), TXT, or both for ANY; A/AAAA too;
//! - the host name: its A or AAAA records.
//!
//! Every answer echoes the query's Question section (go-micro ≥ v2.9.1 clients drop answers
//! without it; v1.x ignores it) and goes unicast to the querier — the engine sends it.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use simple_dns::{CLASS, QCLASS, QTYPE, TYPE};

use super::announcer::OwnedNode;
use super::message::{self, AnswerParts, AskedQuestion, ParsedPacket};
use super::names::Names;

/// Everything the responder needs to know about this process.
pub struct Zone<'a> {
    /// The domain's names.
    pub names: &'a Names,
    /// This host's name (SRV target, A/AAAA owner).
    pub host: &'a str,
    /// The owned nodes, by instance name.
    pub owned: &'a BTreeMap<String, OwnedNode>,
    /// The TTL records carry.
    pub ttl: u32,
}

/// The answer packets for a query (empty when it asks about nothing we own).
pub fn answers(query: &ParsedPacket, zone: &Zone<'_>) -> Vec<Vec<u8>> {
    let mut packets = Vec::new();
    // Two questions about the same thing still get one packet each thing.
    let mut sent: BTreeSet<(u8, String)> = BTreeSet::new();
    let questions = query.questions.as_slice();
    let mut push = |kind: u8, key: &str, build: &dyn Fn() -> Vec<u8>| {
        if sent.insert((kind, key.to_string())) {
            packets.push(build());
        }
    };
    for question in questions {
        if !class_in(question) {
            continue;
        }
        let ptr_or_any = matches!(question.qtype, QTYPE::ANY | QTYPE::TYPE(TYPE::PTR));
        let names = zone.names;

        if ptr_or_any && question.name == names.services() {
            for service in owned_services(zone) {
                push(0, &service, &|| {
                    message::services_answer(
                        questions, query.id, names, &service, zone.host, zone.ttl,
                    )
                });
            }
            continue;
        }
        if ptr_or_any && question.name == names.dns_sd_enumeration() {
            let services = owned_services(zone);
            if !services.is_empty() {
                // go-micro's list-wildcard makes `_services.<domain>.` enumerable as well.
                let wildcard = names.services();
                push(1, &wildcard, &|| {
                    message::enumeration_answer(
                        questions,
                        query.id,
                        &question.name,
                        &wildcard,
                        zone.ttl,
                    )
                });
            }
            for service in services {
                let owner = names.service(&service);
                push(1, &owner, &|| {
                    message::enumeration_answer(
                        questions,
                        query.id,
                        &question.name,
                        &owner,
                        zone.ttl,
                    )
                });
            }
            continue;
        }
        if ptr_or_any {
            for node in zone.owned.values() {
                if node.records.service_owner == question.name {
                    let parts = AnswerParts {
                        ptr: true,
                        srv: true,
                        txt: true,
                        address_only: false,
                    };
                    push(2, &node.records.instance, &|| {
                        message::node_answer(questions, query.id, &node.records, parts, zone.ttl)
                    });
                }
            }
        }
        if let Some(node) = zone.owned.get(&question.name) {
            let parts = match question.qtype {
                QTYPE::ANY => Some((true, true, false)),
                QTYPE::TYPE(TYPE::SRV) => Some((true, false, false)),
                QTYPE::TYPE(TYPE::TXT) => Some((false, true, false)),
                QTYPE::TYPE(TYPE::A) if node.records.ip.is_ipv4() => Some((false, false, true)),
                QTYPE::TYPE(TYPE::AAAA) if node.records.ip.is_ipv6() => Some((false, false, true)),
                _ => None,
            };
            if let Some((srv, txt, address_only)) = parts {
                let parts = AnswerParts {
                    ptr: false,
                    srv,
                    txt,
                    address_only,
                };
                let key = format!("{}/{srv}{txt}{address_only}", node.records.instance);
                push(3, &key, &|| {
                    message::node_answer(questions, query.id, &node.records, parts, zone.ttl)
                });
            }
            continue;
        }
        if matches!(
            question.qtype,
            QTYPE::ANY | QTYPE::TYPE(TYPE::SRV) | QTYPE::TYPE(TYPE::TXT)
        ) {
            if let Some(service) = names.service_of_services_instance(&question.name) {
                if owned_services(zone).iter().any(|owned| owned == service) {
                    push(0, service, &|| {
                        message::services_answer(
                            questions, query.id, names, service, zone.host, zone.ttl,
                        )
                    });
                }
                continue;
            }
        }
        if question.name == zone.host {
            let want_v4 = matches!(question.qtype, QTYPE::TYPE(TYPE::A));
            let want_v6 = matches!(question.qtype, QTYPE::TYPE(TYPE::AAAA));
            let mut seen: BTreeSet<IpAddr> = BTreeSet::new();
            for node in zone.owned.values() {
                let ip = node.records.ip;
                let wanted = (ip.is_ipv4() && want_v4) || (ip.is_ipv6() && want_v6);
                if wanted && seen.insert(ip) {
                    let parts = AnswerParts {
                        ptr: false,
                        srv: false,
                        txt: false,
                        address_only: true,
                    };
                    push(4, &ip.to_string(), &|| {
                        message::node_answer(questions, query.id, &node.records, parts, zone.ttl)
                    });
                }
            }
        }
    }
    packets
}

fn class_in(question: &AskedQuestion) -> bool {
    matches!(question.qclass, QCLASS::ANY | QCLASS::CLASS(CLASS::IN))
}

fn owned_services(zone: &Zone<'_>) -> Vec<String> {
    let services: BTreeSet<&str> = zone
        .owned
        .values()
        .map(|node| node.service.name.as_str())
        .collect();
    services.into_iter().map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mdns::announcer::{self, OwnedNode};
    use crate::model::{Node, Service};
    use simple_dns::{Name, Packet, Question};

    fn zone_nodes(names: &Names) -> BTreeMap<String, OwnedNode> {
        let service = Service {
            name: "svc".into(),
            version: "1".into(),
            nodes: vec![
                Node {
                    id: "svc-1".into(),
                    address: "10.0.0.1:1001".into(),
                    metadata: Default::default(),
                },
                Node {
                    id: "svc-2".into(),
                    address: "[fe80::2]:1002".into(),
                    metadata: Default::default(),
                },
            ],
            ..Default::default()
        };
        service
            .nodes
            .iter()
            .map(|node| {
                let records = announcer::node_records(names, "host.", &service, node).unwrap();
                let owned = OwnedNode {
                    records,
                    service: announcer::single_node(&service, node),
                    generation: 1,
                    expires_at: None,
                };
                (owned.records.instance.clone(), owned)
            })
            .collect()
    }

    /// Record types of each answer packet, for a query of `name` with `qtype`.
    fn ask(name: &str, qtype: TYPE) -> Vec<Vec<TYPE>> {
        let names = Names::new("micro").unwrap();
        let owned = zone_nodes(&names);
        let zone = Zone {
            names: &names,
            host: "host.",
            owned: &owned,
            ttl: 120,
        };
        let mut query = Packet::new_query(7);
        query.questions.push(Question::new(
            Name::new_unchecked(name),
            qtype.into(),
            CLASS::IN.into(),
            false,
        ));
        let parsed = message::parse_packet(&query.build_bytes_vec().unwrap()).unwrap();
        answers(&parsed, &zone)
            .iter()
            .map(|bytes| {
                let packet = Packet::parse(bytes).unwrap();
                assert_eq!(packet.questions.len(), 1, "question echoed");
                packet
                    .answers
                    .iter()
                    .map(|rr| rr.rdata.type_code())
                    .collect()
            })
            .collect()
    }

    #[test]
    fn answers_every_name_go_micro_answers() {
        use TYPE::{A, AAAA, PTR, SRV, TXT};
        let mut per_node = ask("svc.micro.", PTR);
        per_node.sort_by_key(|types| format!("{types:?}"));
        assert_eq!(
            per_node,
            vec![vec![PTR, SRV, A, TXT], vec![PTR, SRV, AAAA, TXT]]
        );
        assert_eq!(
            ask("svc.micro.", TYPE::Unknown(255)).len(),
            2,
            "ANY (255) answers as PTR"
        );
        assert!(
            ask("svc.micro.", TYPE::MX).is_empty(),
            "other types: nothing"
        );
        assert_eq!(ask("_services.micro.", PTR), vec![vec![PTR, SRV, A, TXT]]);
        assert_eq!(
            ask("_services._dns-sd._udp.micro.", PTR),
            vec![vec![PTR], vec![PTR]]
        );
        assert_eq!(ask("svc-1.svc.micro.", SRV), vec![vec![SRV, A]]);
        assert_eq!(ask("svc-1.svc.micro.", TXT), vec![vec![TXT]]);
        assert_eq!(ask("svc-2.svc.micro.", AAAA), vec![vec![AAAA]]);
        assert!(
            ask("svc-1.svc.micro.", PTR).is_empty(),
            "go-micro answers no PTR there"
        );
        assert_eq!(
            ask("svc._services.micro.", SRV),
            vec![vec![PTR, SRV, A, TXT]]
        );
        assert_eq!(ask("host.", A), vec![vec![A]]);
        assert_eq!(ask("host.", AAAA), vec![vec![AAAA]]);
        assert!(
            ask("SVC.micro.", PTR).is_empty(),
            "names are case-sensitive"
        );
        assert!(ask("other.micro.", PTR).is_empty());
    }
}
