//! The one rule for showing text that came from the network in a terminal or a clipboard:
//! control characters are written as escapes, never passed on.
//!
//! Service names, versions, metadata and schemas come from any LAN peer or API client. Raw,
//! an ESC starts a terminal control sequence (retitle the window, rewrite earlier lines, on
//! some terminals answer back as typed input), BEL rings, NUL truncates in C tools, the C1
//! controls (U+0080–U+009F, among them CSI U+009B) are read as ESC sequences by terminals
//! that honour 8-bit controls, and the bidirectional overrides and isolates (U+202A–U+202E,
//! U+2066–U+2069, and the marks U+200E, U+200F, U+061C) reorder what is shown, so a pasted
//! command or value is not what it looked like ("Trojan Source", CVE-2021-42574).
//!
//! Such a character becomes `\u{1b}`: visible, unambiguous, and not a character any of
//! go-micro's own names use.

use std::borrow::Cow;
use std::fmt::Write;

/// Whether `c` must not reach a terminal or clipboard as it is.
pub fn is_hazard(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

/// Serialized JSON with every hazard that JSON leaves raw (DEL, C1, bidi controls) written as
/// a JSON `\uXXXX` escape: the same data to a JSON reader, inert in a terminal or a paste (the
/// CLI's `--json`, the example JSON the service page copies). (C0 controls
/// are escaped by every JSON serializer already; outside strings JSON has none of these.)
pub fn escape_json_controls(json: &str) -> Cow<'_, str> {
    if !json.contains(is_hazard) {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if is_hazard(c) && !matches!(c, '\n' | '\t' | '\r') {
            // All hazards are in the Basic Multilingual Plane: one `\uXXXX` each.
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `text` for one line of output: every hazard, tabs and line breaks included, as `\u{…}`.
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.contains(is_hazard) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if is_hazard(c) {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_become_visible_escapes() {
        assert_eq!(
            escape_controls("a\u{1b}]0;pwned\u{7}b\0c\u{9b}2Jd\u{202e}e\nf\tg"),
            "a\\u{1b}]0;pwned\\u{7}b\\u{0}c\\u{9b}2Jd\\u{202e}e\\u{a}f\\u{9}g"
        );
    }

    #[test]
    fn ordinary_text_is_borrowed_unchanged() {
        for text in ["go.micro.srv.greeter", "ünïcödé 名前 ✓", ""] {
            assert!(matches!(escape_controls(text), Cow::Borrowed(same) if same == text));
        }
    }

    #[test]
    fn json_stays_the_same_data() {
        let value = serde_json::json!({"k": "x\u{1b}\u{9b}\u{202e}\u{7f}y"});
        let json = serde_json::to_string_pretty(&value).unwrap();
        let escaped = escape_json_controls(&json);
        assert!(!escaped.contains(is_hazard_but_layout), "{escaped}");
        let back: serde_json::Value = serde_json::from_str(&escaped).unwrap();
        assert_eq!(back, value);
    }

    fn is_hazard_but_layout(c: char) -> bool {
        is_hazard(c) && c != '\n'
    }
}
