//! The TXT record of a mirrored node: `service=`, `version=`, `node=`, then its metadata.
//!
//! RFC 6763 §6: a TXT record is a sequence of strings, each prefixed by one length byte, so one
//! `key=value` is at most 255 bytes; keys are printable US-ASCII (0x20–0x7E) without `=`, and a
//! key should appear once (compared case-insensitively). §6.2 asks to keep the whole record
//! small; we bound it at [`MAX_TXT_BYTES`] so the mirror's announcement (PTR, SRV, TXT, A) fits
//! one Ethernet frame. What does not fit is left out whole: a truncated value would be a wrong
//! value, which is worse than a missing one.

use muster_registry::Metadata;

/// One TXT string holds at most 255 bytes (its length prefix is one byte).
pub const MAX_ENTRY_BYTES: usize = 255;

/// Bound on the whole record, length bytes included: with the other records of an
/// announcement the packet stays under a 1500-byte MTU.
pub const MAX_TXT_BYTES: usize = 1300;

/// The keys the bridge writes itself; metadata with the same key (any case) is left out.
const RESERVED_KEYS: [&str; 3] = ["service", "version", "node"];

/// A key DNS-SD accepts: non-empty printable US-ASCII without `=`.
pub fn valid_key(key: &str) -> bool {
    !key.is_empty() && key.bytes().all(|b| (0x20..=0x7e).contains(&b) && b != b'=')
}

/// The TXT entries, in order, for node `node_id` of `service` at `version`: the three
/// identifying keys first, then metadata sorted by key. Entries that are invalid or would break
/// a limit are omitted whole; later (smaller) ones may still fit.
pub fn node_txt(
    service: &str,
    version: &str,
    node_id: &str,
    metadata: &Metadata,
) -> Vec<(String, String)> {
    let mut txt = Txt::default();
    txt.push("service", service);
    txt.push("version", version);
    txt.push("node", node_id);
    // `Metadata` is a BTreeMap: sorted by key already, so the result is deterministic.
    for (key, value) in metadata {
        let reserved = RESERVED_KEYS.iter().any(|r| r.eq_ignore_ascii_case(key));
        if !reserved {
            txt.push(key, value);
        }
    }
    txt.entries
}

#[derive(Default)]
struct Txt {
    entries: Vec<(String, String)>,
    bytes: usize,
}

impl Txt {
    fn push(&mut self, key: &str, value: &str) {
        let entry_bytes = key.len() + 1 + value.len();
        let duplicate = self
            .entries
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case(key));
        if !valid_key(key)
            || duplicate
            || entry_bytes > MAX_ENTRY_BYTES
            || self.bytes + 1 + entry_bytes > MAX_TXT_BYTES
        {
            return;
        }
        self.bytes += 1 + entry_bytes;
        self.entries.push((key.to_string(), value.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire_bytes(txt: &[(String, String)]) -> usize {
        txt.iter().map(|(k, v)| 1 + k.len() + 1 + v.len()).sum()
    }

    #[test]
    fn identity_first_then_sorted_metadata() {
        let metadata: Metadata = [
            ("zone".to_string(), "eu".to_string()),
            ("protocol".to_string(), "grpc".to_string()),
            ("a".to_string(), String::new()),
        ]
        .into();
        let txt = node_txt("go.micro.srv.greeter", "1.0.0", "greeter-1", &metadata);
        let keys: Vec<&str> = txt.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            ["service", "version", "node", "a", "protocol", "zone"]
        );
        assert_eq!(txt[0].1, "go.micro.srv.greeter");
        assert_eq!(txt[3].1, "");
    }

    #[test]
    fn reserved_and_invalid_keys_are_left_out() {
        let metadata: Metadata = [
            ("Node".to_string(), "spoofed".to_string()),
            ("VERSION".to_string(), "spoofed".to_string()),
            ("a=b".to_string(), "x".to_string()),
            (String::new(), "x".to_string()),
            ("ключ".to_string(), "x".to_string()),
            ("tab\tkey".to_string(), "x".to_string()),
            ("ok key".to_string(), "värde".to_string()),
        ]
        .into();
        let txt = node_txt("s", "v", "n", &metadata);
        assert_eq!(
            txt,
            [
                ("service".to_string(), "s".to_string()),
                ("version".to_string(), "v".to_string()),
                ("node".to_string(), "n".to_string()),
                ("ok key".to_string(), "värde".to_string()),
            ]
        );
    }

    #[test]
    fn case_insensitive_duplicates_keep_the_first_in_order() {
        let metadata: Metadata = [
            ("Team".to_string(), "upper".to_string()),
            ("team".to_string(), "lower".to_string()),
        ]
        .into();
        let txt = node_txt("s", "v", "n", &metadata);
        assert_eq!(txt.len(), 4);
        assert_eq!(txt[3], ("Team".to_string(), "upper".to_string()));
    }

    #[test]
    fn an_entry_over_255_bytes_is_omitted_never_cut() {
        let exactly = "x".repeat(MAX_ENTRY_BYTES - "big=".len());
        let over = "y".repeat(MAX_ENTRY_BYTES);
        let metadata: Metadata = [
            ("big".to_string(), exactly.clone()),
            ("huge".to_string(), over),
            ("small".to_string(), "1".to_string()),
        ]
        .into();
        let txt = node_txt("s", "v", "n", &metadata);
        assert!(txt.contains(&("big".to_string(), exactly)));
        assert!(txt.iter().all(|(k, _)| k != "huge"));
        assert!(txt.contains(&("small".to_string(), "1".to_string())));
    }

    #[test]
    fn a_huge_node_id_is_omitted_and_the_rest_kept() {
        let txt = node_txt("s", "v", &"n".repeat(10_000), &Metadata::new());
        let keys: Vec<&str> = txt.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["service", "version"]);
    }

    #[test]
    fn the_whole_record_stays_bounded_and_deterministic() {
        let metadata: Metadata = (0..100)
            .map(|i| (format!("k{i:03}"), "v".repeat(100 + i)))
            .collect();
        let txt = node_txt("s", "v", "n", &metadata);
        assert!(wire_bytes(&txt) <= MAX_TXT_BYTES, "{}", wire_bytes(&txt));
        assert!(txt.len() > 5);
        // Once full, nothing else fits, whatever its size: the order decides, not the size.
        assert_eq!(txt, node_txt("s", "v", "n", &metadata));
        // Smaller entries after a too-big one still go in while there is room.
        let mut mixed = Metadata::new();
        mixed.insert("a".into(), "x".repeat(250));
        mixed.insert("b".into(), "x".repeat(250));
        mixed.insert("c".into(), "x".repeat(250));
        mixed.insert("d".into(), "x".repeat(250));
        mixed.insert("e".into(), "x".repeat(250));
        mixed.insert("f".into(), "x".repeat(250));
        mixed.insert("g".into(), "tiny".into());
        let txt = node_txt("s", "v", "n", &mixed);
        assert!(wire_bytes(&txt) <= MAX_TXT_BYTES);
        assert!(txt.iter().any(|(k, _)| k == "e"));
        assert!(txt.iter().all(|(k, _)| k != "f"));
        assert!(txt.contains(&("g".to_string(), "tiny".to_string())));
    }
}
