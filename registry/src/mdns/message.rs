//! DNS messages ↔ registry records: building go-micro's packets, and reading any packet leniently.
//!
//! Building follows what go-micro peers put on the wire (see `docs/gomicro-mdns.md`):
//! class IN without the cache-flush bit, SRV priority 10 weight 1, announcements with ID 0,
//! AA=0 and SRV, A, TXT in the Answer section; answers with AA=1, the Question echoed and SRV
//! before the A record of its target. Reading is lenient the way go-micro's client is (AA may be
//! 0, the Question section empty, TXT RDLENGTH 0) but strict about what becomes a node: SRV,
//! TXT and an address from the same packet, a decodable TXT, names in the domain's scheme.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use simple_dns::rdata::{RData, A, AAAA, PTR, SRV, TXT};
use simple_dns::{
    CharacterString, Name, Packet, PacketFlag, Question, ResourceRecord, CLASS, QCLASS, QTYPE, TYPE,
};

use super::names::Names;
use super::stats::DropReason;
use super::txt::{self, TxtError, TxtPayload};
use crate::model::{Node, Service};

/// go-micro's SRV priority.
const SRV_PRIORITY: u16 = 10;
/// go-micro's SRV weight.
const SRV_WEIGHT: u16 = 1;
/// The port go-micro puts on its list-wildcard SRV record (nothing listens there).
pub const SERVICES_WILDCARD_PORT: u16 = 9999;

/// Fewest bytes a question can take (root name + type + class).
const MIN_QUESTION_BYTES: usize = 5;
/// Fewest bytes a resource record can take (root name + type, class, TTL, RDLENGTH).
const MIN_RECORD_BYTES: usize = 11;
/// The fixed DNS header.
const HEADER_BYTES: usize = 12;

/// Everything needed to put one owned node on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRecords {
    /// `<service>.<domain>.`
    pub service_owner: String,
    /// `<node id>.<service>.<domain>.`
    pub instance: String,
    /// SRV target and A/AAAA owner: the host name with a trailing dot.
    pub host: String,
    /// The node's address IP (A or AAAA).
    pub ip: IpAddr,
    /// The node's port (SRV).
    pub port: u16,
    /// The encoded TXT strings.
    pub txt: Vec<String>,
}

/// A question as received, kept to echo it: go-micro ≥ v2.9.1 clients drop answers whose first
/// question is not the name they asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AskedQuestion {
    /// The name asked, as text with the trailing dot.
    pub name: String,
    /// The type asked.
    pub qtype: QTYPE,
    /// The class asked (without the QU bit).
    pub qclass: QCLASS,
    /// The QU bit ("unicast response preferred").
    pub unicast_response: bool,
}

/// The SRV record of an instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SrvData {
    /// Target host name.
    pub target: String,
    /// Port.
    pub port: u16,
    /// TTL in seconds.
    pub ttl: u32,
}

/// What one packet says about one instance name (the owner of SRV and/or TXT records).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceRecords {
    /// The instance name.
    pub name: String,
    /// Its SRV record, if the packet carried one.
    pub srv: Option<SrvData>,
    /// Its TXT strings joined (go-micro joins them before decoding), and the TTL.
    pub txt: Option<(Vec<u8>, u32)>,
    /// The SRV target's address from the same packet: IPv4 first, as go-micro's `AddrV4`.
    pub ip: Option<IpAddr>,
}

impl InstanceRecords {
    /// The record's TTL: a goodbye is TTL 0 on the SRV or the TXT.
    pub fn ttl(&self) -> u32 {
        match (&self.srv, &self.txt) {
            (Some(srv), Some((_, txt_ttl))) => srv.ttl.min(*txt_ttl),
            (Some(srv), None) => srv.ttl,
            (None, Some((_, ttl))) => *ttl,
            (None, None) => 0,
        }
    }

    /// `ip:port` (`[ip]:port` for IPv6), the address go-micro builds from A and SRV.
    pub fn address(&self) -> Option<String> {
        let port = self.srv.as_ref()?.port;
        Some(SocketAddr::new(self.ip?, port).to_string())
    }
}

/// One packet, read into what the registry cares about.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedPacket {
    /// The message ID.
    pub id: u16,
    /// QR: a response (or announcement) rather than a query.
    pub is_response: bool,
    /// The Question section.
    pub questions: Vec<AskedQuestion>,
    /// Per instance name: its SRV, TXT and address, from the Answer and Additional sections
    /// (go-micro reads those two; the Authority section only carries probes' proposals).
    pub instances: Vec<InstanceRecords>,
    /// Names that failed to convert to text (counted, then ignored).
    pub bad_names: usize,
}

/// Parses one datagram. Only a packet that is not DNS at all is an error; odd records inside a
/// DNS message are skipped.
pub fn parse_packet(packet: &[u8]) -> Result<ParsedPacket, DropReason> {
    if packet.len() < HEADER_BYTES {
        return Err(DropReason::Malformed);
    }
    // A header that claims more entries than the bytes could hold is refused before the parser
    // reserves room for them (up to 4 × 65535 records per 12-byte packet otherwise).
    let count = |at: usize| u16::from_be_bytes([packet[at], packet[at + 1]]) as usize;
    let needed = HEADER_BYTES
        + count(4) * MIN_QUESTION_BYTES
        + (count(6) + count(8) + count(10)) * MIN_RECORD_BYTES;
    if needed > packet.len() {
        return Err(DropReason::Malformed);
    }
    // The reserved Z bit is ignored by go-micro's parser (miekg/dns) but refused by simple-dns.
    let cleared;
    let packet = if packet[3] & 0x40 != 0 {
        let mut copy = packet.to_vec();
        copy[3] &= !0x40;
        cleared = copy;
        &cleared[..]
    } else {
        packet
    };
    let message = Packet::parse(packet).map_err(|_| DropReason::Malformed)?;

    let mut parsed = ParsedPacket {
        id: message.id(),
        is_response: message.has_flags(PacketFlag::RESPONSE),
        ..Default::default()
    };
    for question in &message.questions {
        match name_text(&question.qname) {
            Some(name) => parsed.questions.push(AskedQuestion {
                name,
                qtype: question.qtype,
                qclass: question.qclass,
                unicast_response: question.unicast_response,
            }),
            None => parsed.bad_names += 1,
        }
    }

    let mut index: HashMap<String, usize> = HashMap::new();
    let mut hosts_v4: HashMap<String, Ipv4Addr> = HashMap::new();
    let mut hosts_v6: HashMap<String, Ipv6Addr> = HashMap::new();
    for record in message.answers.iter().chain(&message.additional_records) {
        if record.class != CLASS::IN {
            continue;
        }
        let Some(owner) = name_text(&record.name) else {
            parsed.bad_names += 1;
            continue;
        };
        let mut entry = |name: String, parsed: &mut ParsedPacket| -> usize {
            *index.entry(name.clone()).or_insert_with(|| {
                parsed.instances.push(InstanceRecords {
                    name,
                    srv: None,
                    txt: None,
                    ip: None,
                });
                parsed.instances.len() - 1
            })
        };
        match &record.rdata {
            RData::SRV(srv) => {
                let Some(target) = name_text(&srv.target) else {
                    parsed.bad_names += 1;
                    continue;
                };
                let at = entry(owner, &mut parsed);
                parsed.instances[at].srv = Some(SrvData {
                    target,
                    port: srv.port,
                    ttl: record.ttl,
                });
            }
            RData::TXT(txt) => {
                // Hex is ASCII; anything else cannot be go-micro's TXT.
                let joined = String::try_from(txt.clone())
                    .map(String::into_bytes)
                    .unwrap_or_else(|_| vec![0xff]);
                let at = entry(owner, &mut parsed);
                parsed.instances[at].txt = Some((joined, record.ttl));
            }
            // go-micro's list-wildcard TXT has RDLENGTH 0, which simple-dns reads as `Empty`.
            RData::Empty(TYPE::TXT) => {
                let at = entry(owner, &mut parsed);
                parsed.instances[at].txt = Some((Vec::new(), record.ttl));
            }
            RData::A(a) => {
                hosts_v4.entry(owner).or_insert(Ipv4Addr::from(a.address));
            }
            RData::AAAA(aaaa) => {
                hosts_v6
                    .entry(owner)
                    .or_insert(Ipv6Addr::from(aaaa.address));
            }
            _ => {}
        }
    }
    // Addresses only from the same packet, IPv4 first (go-micro builds the address from AddrV4).
    for instance in &mut parsed.instances {
        if let Some(srv) = &instance.srv {
            instance.ip = hosts_v4
                .get(&srv.target)
                .map(|ip| IpAddr::V4(*ip))
                .or_else(|| hosts_v6.get(&srv.target).map(|ip| IpAddr::V6(*ip)));
        }
    }
    Ok(parsed)
}

/// A node as one packet described it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeObservation {
    /// The instance name.
    pub instance: String,
    /// The SRV target.
    pub host: String,
    /// The service, carrying exactly this one node.
    pub service: Service,
    /// The TTL the records carried (0: goodbye).
    pub ttl: u32,
    /// The TXT as received (joined), to recognise an unchanged refresh without decoding.
    pub raw_txt: Vec<u8>,
}

/// Turns complete instance records into a node: decodes the TXT, checks the name scheme and the
/// registry's bounds. `None` when the records are not a node at all (no TXT or no SRV, or a name
/// outside the domain: standard DNS-SD from Avahi, Bonjour or mdns-sd on the same port, which
/// is not a damaged go-micro node and must not count as a drop).
pub fn observe(
    records: &InstanceRecords,
    names: &Names,
) -> Option<Result<NodeObservation, DropReason>> {
    if !names.in_domain(&records.name) {
        return None;
    }
    let (raw_txt, _) = records.txt.as_ref()?;
    let srv = records.srv.as_ref()?;
    let payload = match txt::decode_joined(raw_txt) {
        Ok(payload) => payload,
        Err(error) => return Some(Err(txt_drop_reason(error))),
    };
    Some(node_from_payload(records, srv, payload, raw_txt, names))
}

fn node_from_payload(
    records: &InstanceRecords,
    srv: &SrvData,
    payload: TxtPayload,
    raw_txt: &[u8],
    names: &Names,
) -> Result<NodeObservation, DropReason> {
    if payload.service.is_empty() {
        return Err(DropReason::Invalid);
    }
    let node_id = names
        .node_id(&records.name, &payload.service)
        .ok_or(DropReason::BadName)?;
    let address = records.address().ok_or(DropReason::Malformed)?;
    let service = Service {
        name: payload.service,
        version: payload.version,
        metadata: Default::default(),
        endpoints: payload.endpoints,
        nodes: vec![Node {
            id: node_id.to_string(),
            address,
            metadata: payload.metadata,
        }],
    };
    crate::validate::service(&service).map_err(|_| DropReason::Invalid)?;
    Ok(NodeObservation {
        instance: records.name.clone(),
        host: srv.target.clone(),
        service,
        ttl: records.ttl(),
        raw_txt: raw_txt.to_vec(),
    })
}

/// The counter for a TXT that failed to decode.
pub fn txt_drop_reason(error: TxtError) -> DropReason {
    match error {
        TxtError::TooLong | TxtError::TooLarge => DropReason::TxtTooLarge,
        TxtError::Hex => DropReason::TxtHex,
        TxtError::Zlib => DropReason::TxtZlib,
        TxtError::Json => DropReason::TxtJson,
    }
}

/// A name as text with the trailing dot; `None` for labels that are not UTF-8 or contain a dot
/// (their text form would be ambiguous, and go-micro never writes them).
pub fn name_text(name: &Name<'_>) -> Option<String> {
    let mut text = String::new();
    for label in name.get_labels() {
        let label = std::str::from_utf8(label.as_ref()).ok()?;
        if label.is_empty() || label.contains('.') {
            return None;
        }
        text.push_str(label);
        text.push('.');
    }
    if text.is_empty() {
        text.push('.');
    }
    Some(text)
}

/// An unsolicited announcement of `node` (TTL 0: its goodbye): QR=1, AA=0, ID 0, Answer SRV, A
/// (or AAAA), TXT, no PTR, names written in full — byte for byte the shape of go-micro's.
pub fn announcement(node: &NodeRecords, ttl: u32) -> Vec<u8> {
    let mut packet = Packet::new_reply(0);
    push_srv(&mut packet, node, ttl);
    push_address(&mut packet, &node.host, node.ip, ttl);
    push_txt(&mut packet, &node.instance, &node.txt, ttl);
    packet
        .build_bytes_vec()
        .expect("announcement of a checked node builds")
}

/// Which of a node's records an answer carries, in go-micro's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnswerParts {
    /// PTR `<service>.<domain>.` → instance first.
    pub ptr: bool,
    /// SRV, then the A/AAAA of its target.
    pub srv: bool,
    /// TXT.
    pub txt: bool,
    /// Only the A/AAAA of the host (a host-name query).
    pub address_only: bool,
}

/// An answer about one node (go-micro clients keep only the last entry a packet touches, so
/// never more than one node per packet): QR=1, AA=1, the query's questions echoed, names
/// compressed as go-micro's server does.
pub fn node_answer(
    questions: &[AskedQuestion],
    query_id: u16,
    node: &NodeRecords,
    parts: AnswerParts,
    ttl: u32,
) -> Vec<u8> {
    let mut packet = answer_packet(questions, query_id);
    if parts.ptr {
        push_ptr(&mut packet, &node.service_owner, &node.instance, ttl);
    }
    if parts.srv {
        push_srv(&mut packet, node, ttl);
    }
    if parts.srv || parts.address_only {
        push_address(&mut packet, &node.host, node.ip, ttl);
    }
    if parts.txt {
        push_txt(&mut packet, &node.instance, &node.txt, ttl);
    }
    packet
        .build_bytes_vec_compressed()
        .expect("answer of a checked node builds")
}

/// The answer to `_services.<domain>. PTR` for one service, exactly go-micro's list-wildcard:
/// PTR → `<service>._services.<domain>.`, SRV port 9999, A `0.0.0.0`, TXT with RDLENGTH 0.
pub fn services_answer(
    questions: &[AskedQuestion],
    query_id: u16,
    names: &Names,
    service: &str,
    host: &str,
    ttl: u32,
) -> Vec<u8> {
    let owner = names.services();
    let instance = names.services_instance(service);
    let mut packet = answer_packet(questions, query_id);
    push_ptr(&mut packet, &owner, &instance, ttl);
    packet.answers.push(record(
        &instance,
        ttl,
        RData::SRV(SRV {
            priority: SRV_PRIORITY,
            weight: SRV_WEIGHT,
            port: SERVICES_WILDCARD_PORT,
            target: Name::new_unchecked(host),
        }),
    ));
    push_address(&mut packet, host, IpAddr::V4(Ipv4Addr::UNSPECIFIED), ttl);
    packet
        .answers
        .push(record(&instance, ttl, RData::Empty(TYPE::TXT)));
    packet
        .build_bytes_vec_compressed()
        .expect("list answer of a checked service builds")
}

/// The answer to the DNS-SD enumeration `_services._dns-sd._udp.<domain>. PTR`: one PTR to
/// `<service>.<domain>.`.
pub fn enumeration_answer(
    questions: &[AskedQuestion],
    query_id: u16,
    owner: &str,
    service_owner: &str,
    ttl: u32,
) -> Vec<u8> {
    let mut packet = answer_packet(questions, query_id);
    push_ptr(&mut packet, owner, service_owner, ttl);
    packet
        .build_bytes_vec_compressed()
        .expect("enumeration answer builds")
}

/// One PTR query for `name`, as go-micro's querier sends it: RD=0, QU clear.
pub fn query(name: &str, id: u16) -> Vec<u8> {
    let mut packet = Packet::new_query(id);
    packet.questions.push(Question::new(
        Name::new_unchecked(name),
        QTYPE::TYPE(TYPE::PTR),
        QCLASS::CLASS(CLASS::IN),
        false,
    ));
    packet
        .build_bytes_vec()
        .expect("query of a checked name builds")
}

fn answer_packet<'a>(questions: &'a [AskedQuestion], query_id: u16) -> Packet<'a> {
    // RFC 6762 §18.1: ID 0 in multicast-style answers; the query's ID when it asked (QU) for a
    // unicast reply, as go-micro's server does.
    let id = if questions.iter().any(|q| q.unicast_response) {
        query_id
    } else {
        0
    };
    let mut packet = Packet::new_reply(id);
    packet.set_flags(PacketFlag::AUTHORITATIVE_ANSWER);
    for question in questions {
        packet.questions.push(Question::new(
            Name::new_unchecked(&question.name),
            question.qtype,
            question.qclass,
            question.unicast_response,
        ));
    }
    packet
}

fn record<'a>(owner: &'a str, ttl: u32, rdata: RData<'a>) -> ResourceRecord<'a> {
    ResourceRecord::new(Name::new_unchecked(owner), CLASS::IN, ttl, rdata)
}

fn push_ptr<'a>(packet: &mut Packet<'a>, owner: &'a str, target: &'a str, ttl: u32) {
    packet.answers.push(record(
        owner,
        ttl,
        RData::PTR(PTR(Name::new_unchecked(target))),
    ));
}

fn push_srv<'a>(packet: &mut Packet<'a>, node: &'a NodeRecords, ttl: u32) {
    packet.answers.push(record(
        &node.instance,
        ttl,
        RData::SRV(SRV {
            priority: SRV_PRIORITY,
            weight: SRV_WEIGHT,
            port: node.port,
            target: Name::new_unchecked(&node.host),
        }),
    ));
}

fn push_address<'a>(packet: &mut Packet<'a>, host: &'a str, ip: IpAddr, ttl: u32) {
    let rdata = match ip {
        IpAddr::V4(ip) => RData::A(A {
            address: u32::from(ip),
        }),
        IpAddr::V6(ip) => RData::AAAA(AAAA {
            address: u128::from(ip),
        }),
    };
    packet.answers.push(record(host, ttl, rdata));
}

fn push_txt<'a>(packet: &mut Packet<'a>, owner: &'a str, strings: &'a [String], ttl: u32) {
    let mut txt = TXT::new();
    for string in strings {
        // Strings come from `txt::encode`: at most 255 bytes each.
        txt.add_char_string(CharacterString::new(string.as_bytes()).expect("TXT string ≤ 255"));
    }
    packet.answers.push(record(owner, ttl, RData::TXT(txt)));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node() -> NodeRecords {
        let names = Names::new("micro").unwrap();
        NodeRecords {
            service_owner: names.service("svc"),
            instance: names.instance("svc", "svc-1"),
            host: "vm.".into(),
            ip: "10.77.0.1".parse().unwrap(),
            port: 8080,
            txt: txt::encode(&TxtPayload {
                service: "svc".into(),
                version: "1".into(),
                ..Default::default()
            }),
        }
    }

    #[test]
    fn announcement_round_trip() {
        let names = Names::new("micro").unwrap();
        let parsed = parse_packet(&announcement(&node(), 120)).unwrap();
        assert!(parsed.is_response);
        assert_eq!(parsed.instances.len(), 1);
        let observed = observe(&parsed.instances[0], &names).unwrap().unwrap();
        assert_eq!(observed.service.nodes[0].id, "svc-1");
        assert_eq!(observed.service.nodes[0].address, "10.77.0.1:8080");
        assert_eq!(observed.ttl, 120);
    }

    #[test]
    fn standard_dns_sd_records_are_not_nodes() {
        let names = Names::new("micro").unwrap();
        let dns_sd = NodeRecords {
            service_owner: "_http._tcp.local.".into(),
            instance: "Muster on vm._http._tcp.local.".into(),
            txt: vec!["path=/".into(), "version=0.1.0".into()],
            ..node()
        };
        let parsed = parse_packet(&announcement(&dns_sd, 120)).unwrap();
        assert_eq!(parsed.instances.len(), 1);
        assert!(observe(&parsed.instances[0], &names).is_none());
        assert!(names.in_domain("svc-1.svc.micro."));
        assert!(!names.in_domain("svc-1.svc.notmicro."));
        assert!(!names.in_domain("micro."));
    }

    #[test]
    fn absurd_counts_are_refused_early() {
        let mut packet = vec![0u8; 12];
        packet[6] = 0xff;
        packet[7] = 0xff;
        assert_eq!(parse_packet(&packet), Err(DropReason::Malformed));
    }

    #[test]
    fn self_pointer_is_malformed() {
        // One question whose name is a pointer to itself.
        let packet = [0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 12, 0, 1];
        assert_eq!(parse_packet(&packet), Err(DropReason::Malformed));
    }
}
