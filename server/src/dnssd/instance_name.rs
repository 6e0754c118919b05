//! DNS-SD instance labels for mirrored registry nodes: sanitised, length-limited, unique.
//!
//! RFC 6763 §4.1.1: the instance part of a service instance name is one DNS label of UTF-8 text,
//! at most 63 bytes, without ASCII control characters. go-micro node ids are usually
//! `<service>-<uuid>` (often 50+ bytes, with dots) but nothing stops a registry from holding
//! longer or stranger ones, so the label is cut at a character boundary, and two nodes whose
//! labels end up equal get Bonjour-style suffixes ` (2)`, ` (3)`, ... DNS compares names
//! case-insensitively (ASCII only), so uniqueness is checked on the ASCII-lowercased label.

use std::collections::BTreeMap;

/// A DNS label holds at most 63 bytes (RFC 1035 §2.3.4).
pub const MAX_LABEL_BYTES: usize = 63;

/// Used when nothing printable is left of a node id.
const FALLBACK_LABEL: &str = "node";

/// The longest prefix of `text` of at most `max_bytes` bytes that ends at a character boundary.
pub fn truncate_at_char(text: &str, max_bytes: usize) -> &str {
    if text.len() <= max_bytes {
        return text;
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// `wanted` made into a valid instance label: control characters dropped (RFC 6763 forbids
/// them; they would also corrupt logs and pages), surrounding spaces trimmed, cut to 63 bytes.
pub fn sanitize(wanted: &str) -> String {
    let printable: String = wanted.chars().filter(|c| !c.is_control()).collect();
    let cut = truncate_at_char(printable.trim(), MAX_LABEL_BYTES).trim_end();
    if cut.is_empty() {
        FALLBACK_LABEL.to_string()
    } else {
        cut.to_string()
    }
}

/// The labels in use, and which key (a mirrored node) holds each.
///
/// Deterministic: the same sequence of claims and releases gives the same labels. A key keeps
/// its label for as long as it holds it, so a mirror's name never changes under a peer's feet.
#[derive(Debug)]
pub struct InstanceNames<K> {
    /// Lowercased label → key holding it.
    taken: BTreeMap<String, K>,
    /// Key → its label (original case).
    by_key: BTreeMap<K, String>,
}

impl<K: Ord + Clone> Default for InstanceNames<K> {
    fn default() -> Self {
        InstanceNames {
            taken: BTreeMap::new(),
            by_key: BTreeMap::new(),
        }
    }
}

impl<K: Ord + Clone> InstanceNames<K> {
    /// The label of `key`: the one it already holds, else `wanted` sanitised, suffixed with
    /// ` (n)` (the smallest n ≥ 2 that is free) when another key holds that label.
    pub fn claim(&mut self, key: &K, wanted: &str) -> String {
        if let Some(label) = self.by_key.get(key) {
            return label.clone();
        }
        let base = sanitize(wanted);
        let mut label = base.clone();
        let mut n: u64 = 2;
        while self.taken.contains_key(&label.to_ascii_lowercase()) {
            let suffix = format!(" ({n})");
            // The suffix always fits: the base gives way, at a character boundary.
            let room = MAX_LABEL_BYTES - suffix.len();
            label = format!("{}{suffix}", truncate_at_char(&base, room).trim_end());
            n += 1;
        }
        self.taken.insert(label.to_ascii_lowercase(), key.clone());
        self.by_key.insert(key.clone(), label.clone());
        label
    }

    /// Frees the label `key` holds, if any.
    pub fn release(&mut self, key: &K) {
        if let Some(label) = self.by_key.remove(key) {
            self.taken.remove(&label.to_ascii_lowercase());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_ids_pass_through() {
        assert_eq!(sanitize("go.micro.srv.greeter-1"), "go.micro.srv.greeter-1");
        assert_eq!(sanitize("  spaced  "), "spaced");
    }

    #[test]
    fn control_characters_and_empty_ids() {
        assert_eq!(sanitize("a\u{0}b\nc\u{7f}d\u{1b}[31m"), "abcd[31m");
        assert_eq!(sanitize(""), "node");
        assert_eq!(sanitize("\n\t\r"), "node");
        assert_eq!(sanitize("   "), "node");
    }

    #[test]
    fn long_ids_are_cut_at_a_character_boundary() {
        let ascii = "x".repeat(500);
        assert_eq!(sanitize(&ascii).len(), 63);
        // 'é' is 2 bytes: 63 bytes would split the 32nd one.
        let accented = "é".repeat(40);
        let cut = sanitize(&accented);
        assert_eq!(cut.len(), 62);
        assert!(cut.chars().all(|c| c == 'é'));
        // 4-byte characters: 15 fit (60 bytes).
        let emoji = "🦀".repeat(30);
        assert_eq!(sanitize(&emoji), "🦀".repeat(15));
    }

    #[test]
    fn collisions_get_numbered_suffixes() {
        let mut names = InstanceNames::default();
        assert_eq!(names.claim(&1, "node"), "node");
        assert_eq!(names.claim(&2, "node"), "node (2)");
        // Case-insensitive, like DNS.
        assert_eq!(names.claim(&3, "NODE"), "NODE (3)");
        // A key keeps its label.
        assert_eq!(names.claim(&2, "other"), "node (2)");
        names.release(&1);
        assert_eq!(names.claim(&4, "node"), "node");
        assert_eq!(names.claim(&5, "node"), "node (4)");
    }

    #[test]
    fn suffixes_fit_in_63_bytes_after_truncation() {
        let mut names = InstanceNames::default();
        let long = "é".repeat(100);
        let first = names.claim(&0, &long);
        assert!(first.len() <= MAX_LABEL_BYTES);
        for key in 1..=120 {
            let label = names.claim(&key, &long);
            assert!(
                label.len() <= MAX_LABEL_BYTES,
                "{label} is {} bytes",
                label.len()
            );
            assert!(label.ends_with(&format!(" ({})", key + 1)), "{label}");
        }
    }

    #[test]
    fn deterministic() {
        let run = || {
            let mut names = InstanceNames::default();
            (0..10)
                .map(|key| names.claim(&key, "dup"))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(), run());
    }
}
