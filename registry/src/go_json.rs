//! JSON exactly as Go's `encoding/json` writes it, for byte-compatible records.
//!
//! Go's encoder HTML-escapes `<`, `>` and `&` (as `\u003c`, `\u003e`, `\u0026`) and escapes the
//! line/paragraph separators U+2028/U+2029; serde_json does not. Values written to shared stores
//! (etcd keys that go-micro also writes) must match what a Go peer would write byte for byte, so
//! this formatter adds those escapes. Decoding needs nothing special: both forms are valid JSON.

use std::io;

use serde::Serialize;
use serde_json::ser::Formatter;

/// A compact formatter that adds Go's extra string escapes.
struct GoFormatter;

impl Formatter for GoFormatter {
    fn write_string_fragment<W>(&mut self, writer: &mut W, fragment: &str) -> io::Result<()>
    where
        W: ?Sized + io::Write,
    {
        let mut start = 0;
        for (index, ch) in fragment.char_indices() {
            let escape = match ch {
                '<' => "\\u003c",
                '>' => "\\u003e",
                '&' => "\\u0026",
                '\u{2028}' => "\\u2028",
                '\u{2029}' => "\\u2029",
                _ => continue,
            };
            writer.write_all(&fragment.as_bytes()[start..index])?;
            writer.write_all(escape.as_bytes())?;
            start = index + ch.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }

    // Every other method keeps serde_json's compact defaults, which are Go's compact form too.
}

/// Serializes `value` the way Go's `json.Marshal` would.
pub fn to_go_json<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, GoFormatter);
    // Serializing the model into memory cannot fail: every map key is a string.
    value
        .serialize(&mut serializer)
        .expect("registry model serializes to JSON");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_go() {
        let json = to_go_json(&"<img src=x onerror=\"a&b\">\u{2028}é");
        assert_eq!(
            String::from_utf8(json).unwrap(),
            r#""\u003cimg src=x onerror=\"a\u0026b\"\u003e\u2028é""#
        );
    }
}
