//! The mDNS codec against packets captured from real go-micro v1.18 and v5 peers
//! (`tests/vectors`): a codec that disagrees with them is wrong.
#![cfg(feature = "mdns")]

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};

use muster_registry::go_json::to_go_json;
use muster_registry::mdns::message::{self, AnswerParts, NodeRecords};
use muster_registry::mdns::names::Names;
use muster_registry::mdns::stats::DropReason;
use muster_registry::mdns::txt::{self, TxtPayload};
use simple_dns::rdata::RData;
use simple_dns::{Packet, PacketFlag};

const NODE_ID: &str = "go.micro.srv.greeter-18015368-48e9-4cb2-9b69-6791349bfdda";
const INSTANCE: &str =
    "go.micro.srv.greeter-18015368-48e9-4cb2-9b69-6791349bfdda.go.micro.srv.greeter.micro.";

#[path = "vectors/mod.rs"]
mod vectors;

use vectors::read;

fn names() -> Names {
    Names::new("micro").unwrap()
}

fn greeter_strings() -> Vec<String> {
    String::from_utf8(read("gomicro-v1.18/txt/txt-greeter.strings"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn greeter_payload() -> TxtPayload {
    serde_json::from_slice(&read("gomicro-v1.18/txt/txt-greeter.json")).unwrap()
}

#[test]
fn every_vector_file_parses() {
    for dir in ["gomicro-v1.18", "gomicro-v5"] {
        let mut count = 0;
        for entry in std::fs::read_dir(vectors::dir().join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|ext| ext == "bin") {
                let bytes = std::fs::read(&path).unwrap();
                message::parse_packet(&bytes)
                    .unwrap_or_else(|e| panic!("{}: {e:?}", path.display()));
                count += 1;
            }
        }
        assert!(count >= 4, "{dir}: only {count} packets");
    }
}

#[test]
fn txt_vectors_decode_exactly() {
    for case in ["minimal", "greeter", "large-nested"] {
        let strings =
            String::from_utf8(read(&format!("gomicro-v1.18/txt/txt-{case}.strings"))).unwrap();
        let strings: Vec<&str> = strings.lines().collect();
        let expected = read(&format!("gomicro-v1.18/txt/txt-{case}.json"));
        let expected = String::from_utf8(expected).unwrap();
        let payload = txt::decode(&strings).unwrap_or_else(|e| panic!("{case}: {e}"));
        // Re-marshalled the way Go does, it is byte for byte what go-micro's decoder returned.
        assert_eq!(
            String::from_utf8(to_go_json(&payload)).unwrap(),
            expected.trim_end(),
            "{case}"
        );
        // Our encoding carries the same JSON (same keys, same escapes) in strings go-micro's
        // decoder joins back.
        let encoded = txt::encode(&payload);
        assert!(encoded.iter().all(|s| s.len() <= 255 && !s.is_empty()));
        assert!(encoded[..encoded.len() - 1].iter().all(|s| s.len() == 255));
        assert!(encoded[0].starts_with("789c"), "zlib default level header");
        let again = txt::decode(&encoded).unwrap();
        assert_eq!(again, payload);
        assert_eq!(to_go_json(&again), to_go_json(&payload));
    }
}

#[test]
fn txt_encoding_uses_go_keys() {
    let json = String::from_utf8(to_go_json(&TxtPayload {
        service: "svc".into(),
        version: "1.0.0".into(),
        ..Default::default()
    }))
    .unwrap();
    assert_eq!(
        json,
        r#"{"Service":"svc","Version":"1.0.0","Endpoints":null,"Metadata":null}"#
    );
    assert_eq!(
        json,
        String::from_utf8(read("gomicro-v1.18/txt/txt-minimal.json"))
            .unwrap()
            .trim_end()
    );
}

fn assert_greeter_node(packet: &str, ttl: u32) {
    let parsed = message::parse_packet(&read(packet)).unwrap();
    assert_eq!(parsed.instances.len(), 1, "{packet}");
    let observed = message::observe(&parsed.instances[0], &names())
        .unwrap()
        .unwrap();
    assert_eq!(observed.instance, INSTANCE);
    assert_eq!(observed.host, "vm.");
    assert_eq!(observed.ttl, ttl);
    let service = observed.service;
    let payload = greeter_payload();
    assert_eq!(service.name, "go.micro.srv.greeter");
    assert_eq!(service.version, "latest");
    assert_eq!(service.endpoints, payload.endpoints);
    assert_eq!(service.endpoints[0].name, "Greeter.Hello");
    assert_eq!(service.nodes.len(), 1);
    let node = &service.nodes[0];
    assert_eq!(node.id, NODE_ID);
    assert_eq!(node.address, "10.77.0.1:50051");
    assert_eq!(node.metadata, payload.metadata);
    assert_eq!(node.metadata["registry"], "mdns");
    assert_eq!(node.metadata["protocol"], "mucp");
}

#[test]
fn v1_announcement_get_response_and_goodbye() {
    assert_greeter_node("gomicro-v1.18/02-announce.bin", 120);
    assert_greeter_node("gomicro-v1.18/06-get-response.bin", 120);
    assert_greeter_node("gomicro-v1.18/07-goodbye.bin", 0);
    let answer = message::parse_packet(&read("gomicro-v1.18/06-get-response.bin")).unwrap();
    assert!(answer.is_response);
    assert!(answer.questions.is_empty(), "v1 answers carry no question");
}

#[test]
fn v1_probe_and_queries() {
    // The probe's SRV and TXT sit in the Authority section: proposals, not a node.
    let probe = message::parse_packet(&read("gomicro-v1.18/01-probe.bin")).unwrap();
    assert!(!probe.is_response);
    assert_eq!(probe.questions.len(), 1);
    assert_eq!(probe.questions[0].name, INSTANCE);
    assert!(probe.instances.is_empty());

    let list = message::parse_packet(&read("gomicro-v1.18/03-list-query.bin")).unwrap();
    assert_eq!(list.questions[0].name, "_services.micro.");
    assert!(!list.questions[0].unicast_response);
    let get = message::parse_packet(&read("gomicro-v1.18/05-get-query.bin")).unwrap();
    assert_eq!(get.questions[0].name, "go.micro.srv.greeter.micro.");
}

#[test]
fn v1_list_response_wildcard() {
    let parsed = message::parse_packet(&read("gomicro-v1.18/04-list-response.bin")).unwrap();
    assert_eq!(parsed.instances.len(), 1);
    let wildcard = &parsed.instances[0];
    assert_eq!(wildcard.name, "go.micro.srv.greeter._services.micro.");
    assert_eq!(wildcard.srv.as_ref().unwrap().port, 9999);
    assert_eq!(wildcard.ip, Some(IpAddr::V4(Ipv4Addr::UNSPECIFIED)));
    // Zero-length TXT RDATA (simple-dns reads it as an empty record).
    assert_eq!(wildcard.txt, Some((Vec::new(), 120)));
    assert_eq!(
        names().service_of_services_instance(&wildcard.name),
        Some("go.micro.srv.greeter")
    );
}

#[test]
fn v5_vectors() {
    let query = message::parse_packet(&read("gomicro-v5/03-get-query.bin")).unwrap();
    assert_eq!(query.questions[0].name, "go.micro.srv.v5greeter.micro.");
    let answer = message::parse_packet(&read("gomicro-v5/04-get-response.bin")).unwrap();
    assert_eq!(
        answer.questions, query.questions,
        "v2.9.1+ echoes the question"
    );
    let node = &answer.instances[0];
    assert_eq!(
        node.name,
        "go.micro.srv.v5greeter-node1.go.micro.srv.v5greeter.micro."
    );
    assert_eq!(node.address().as_deref(), Some("10.77.0.1:50052"));
    // The TXT there is a placeholder (`789c`), not a registry payload: refused, not a panic.
    assert_eq!(
        message::observe(node, &names()).unwrap(),
        Err(DropReason::TxtZlib)
    );
    let announce = message::parse_packet(&read("gomicro-v5/02-announce.bin")).unwrap();
    assert_eq!(
        announce.instances[0].address().as_deref(),
        Some("10.77.0.1:50052")
    );
}

fn greeter_records() -> NodeRecords {
    NodeRecords {
        service_owner: "go.micro.srv.greeter.micro.".into(),
        instance: INSTANCE.into(),
        host: "vm.".into(),
        ip: "10.77.0.1".parse().unwrap(),
        port: 50051,
        txt: greeter_strings(),
    }
}

#[test]
fn our_announcement_and_goodbye_are_go_micros_bytes() {
    assert_eq!(
        message::announcement(&greeter_records(), 120),
        read("gomicro-v1.18/02-announce.bin")
    );
    assert_eq!(
        message::announcement(&greeter_records(), 0),
        read("gomicro-v1.18/07-goodbye.bin")
    );
}

#[test]
fn our_answer_is_go_micro_v5s_answer() {
    let query = message::parse_packet(&read("gomicro-v5/03-get-query.bin")).unwrap();
    let names = names();
    let records = NodeRecords {
        service_owner: names.service("go.micro.srv.v5greeter"),
        instance: names.instance("go.micro.srv.v5greeter", "go.micro.srv.v5greeter-node1"),
        host: "vm.".into(),
        ip: "10.77.0.1".parse().unwrap(),
        port: 50052,
        txt: vec!["789c".into()],
    };
    let parts = AnswerParts {
        ptr: true,
        srv: true,
        txt: true,
        address_only: false,
    };
    let ours = message::node_answer(&query.questions, query.id, &records, parts, 120);
    let theirs = read("gomicro-v5/04-get-response.bin");
    // Same header (ID 0, QR+AA, 1 question, 4 answers) and, record by record, the same
    // message; the bytes differ only where go-micro also compresses the A owner `vm.` into
    // the SRV target (simple-dns writes it out: 2 bytes more).
    assert_eq!(ours[..12], theirs[..12]);
    let (ours_packet, theirs_packet) = (
        Packet::parse(&ours).unwrap(),
        Packet::parse(&theirs).unwrap(),
    );
    assert_eq!(ours_packet.answers, theirs_packet.answers);
    assert_eq!(
        format!("{:?}", ours_packet.questions),
        format!("{:?}", theirs_packet.questions)
    );
    assert_eq!(ours.len(), theirs.len() + 2);
    let asked = "go.micro.srv.v5greeter.micro.";
    assert_eq!(
        go_micro_client_entry(&ours, Some(asked)),
        go_micro_client_entry(&theirs, Some(asked))
    );
}

#[test]
fn our_answer_matches_v1_get_response_with_question_echoed() {
    let query = message::parse_packet(&read("gomicro-v1.18/05-get-query.bin")).unwrap();
    let parts = AnswerParts {
        ptr: true,
        srv: true,
        txt: true,
        address_only: false,
    };
    let ours = message::node_answer(&query.questions, query.id, &greeter_records(), parts, 120);
    let theirs = read("gomicro-v1.18/06-get-response.bin");
    let (ours_packet, theirs_packet) = (
        Packet::parse(&ours).unwrap(),
        Packet::parse(&theirs).unwrap(),
    );
    assert!(ours_packet.has_flags(PacketFlag::RESPONSE | PacketFlag::AUTHORITATIVE_ANSWER));
    assert_eq!(ours_packet.id(), 0);
    assert_eq!(ours_packet.questions.len(), 1, "question echoed");
    assert_eq!(
        ours_packet.answers, theirs_packet.answers,
        "same records, same order"
    );
    // Both feed go-micro's client logic to the same complete entry.
    let asked = "go.micro.srv.greeter.micro.";
    let entry = go_micro_client_entry(&ours, Some(asked)).expect("v2.9.1+ client accepts ours");
    assert_eq!(entry, go_micro_client_entry(&theirs, None).unwrap());
    assert_eq!(entry.name, INSTANCE);
    assert_eq!(entry.port, 50051);
    assert_eq!(entry.addr_v4, Some(Ipv4Addr::new(10, 77, 0, 1)));
    assert_eq!(txt::decode(&entry.txt).unwrap(), greeter_payload());
}

#[test]
fn our_list_answer_matches_v1_list_response() {
    let query = message::parse_packet(&read("gomicro-v1.18/03-list-query.bin")).unwrap();
    let ours = message::services_answer(
        &query.questions,
        query.id,
        &names(),
        "go.micro.srv.greeter",
        "vm.",
        120,
    );
    let theirs = read("gomicro-v1.18/04-list-response.bin");
    let ours_packet = Packet::parse(&ours).unwrap();
    let theirs_packet = Packet::parse(&theirs).unwrap();
    assert_eq!(ours_packet.answers, theirs_packet.answers);
    assert_eq!(ours_packet.questions.len(), 1);
    // The same bytes but for the echoed question and the header count of it.
    let entry = go_micro_client_entry(&ours, Some("_services.micro.")).unwrap();
    assert_eq!(entry.name, "go.micro.srv.greeter._services.micro.");
    assert_eq!(entry.port, 9999);
}

/// What go-micro's client (util/mdns `messageToEntry` + `complete`) makes of one answer
/// packet, re-stated from its documented behaviour: entries by name, SRV aliasing its target
/// to the instance, the LAST touched entry is the packet's result, complete when it has an
/// address, a port and a TXT. With `asked`, also the v2.9.1+ rule: the first question must be
/// the name asked.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct ClientEntry {
    name: String,
    port: u16,
    addr_v4: Option<Ipv4Addr>,
    txt: Vec<String>,
    has_txt: bool,
    ttl: u32,
}

fn go_micro_client_entry(packet: &[u8], asked: Option<&str>) -> Option<ClientEntry> {
    let packet = Packet::parse(packet).ok()?;
    if let Some(asked) = asked {
        let first = packet.questions.first()?;
        if first.qname.to_string() + "." != asked {
            return None;
        }
    }
    fn ensure(
        name: String,
        entries: &mut Vec<ClientEntry>,
        by_name: &mut HashMap<String, usize>,
    ) -> usize {
        *by_name.entry(name.clone()).or_insert_with(|| {
            entries.push(ClientEntry {
                name,
                ..Default::default()
            });
            entries.len() - 1
        })
    }
    let mut entries: Vec<ClientEntry> = Vec::new();
    let mut by_name: HashMap<String, usize> = HashMap::new();
    let mut last = None;
    for record in packet.answers.iter().chain(&packet.additional_records) {
        let owner = record.name.to_string() + ".";
        let at = match &record.rdata {
            RData::PTR(ptr) => ensure(ptr.0.to_string() + ".", &mut entries, &mut by_name),
            RData::SRV(srv) => {
                let at = ensure(owner, &mut entries, &mut by_name);
                let target = srv.target.to_string() + ".";
                by_name.insert(target, at);
                entries[at].port = srv.port;
                at
            }
            RData::TXT(txt) => {
                let at = ensure(owner, &mut entries, &mut by_name);
                let joined = String::try_from(txt.clone()).unwrap();
                entries[at].txt = vec![joined];
                entries[at].has_txt = true;
                at
            }
            RData::Empty(_) => {
                let at = ensure(owner, &mut entries, &mut by_name);
                entries[at].has_txt = true;
                at
            }
            RData::A(a) => {
                let at = ensure(owner, &mut entries, &mut by_name);
                entries[at].addr_v4 = Some(Ipv4Addr::from(a.address));
                at
            }
            _ => continue,
        };
        entries[at].ttl = record.ttl;
        last = Some(at);
    }
    let entry = entries.get(last?)?.clone();
    (entry.addr_v4.is_some() && entry.port != 0 && entry.has_txt).then_some(entry)
}
