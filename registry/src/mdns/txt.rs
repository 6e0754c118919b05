//! The TXT payload go-micro puts on every node: JSON → zlib → lowercase hex → 255-char strings.
//!
//! go-micro's `registry/encoding.go` marshals an `mdnsTxt{Service, Version, Endpoints,
//! Metadata}` (capitalised keys, because the Go struct has no JSON tags), compresses it with
//! zlib, hex-encodes the result and cuts it into strings of at most 255 characters, the longest
//! a DNS character-string can be. Its decoder joins all strings of the record first. Everything
//! received is untrusted, so decoding bounds every stage: the hex length, the decompressed size
//! and (through the caller) the decoded model.

use std::io::Write;

use flate2::write::ZlibEncoder;
use flate2::{Compression, Decompress, FlushDecompress, Status};
use serde::{Deserialize, Serialize};

use crate::model::{Endpoint, Metadata, Service};

/// Longest decompressed JSON accepted from the network. A 100-endpoint service is about 20 KiB
/// of JSON; zlib can expand a 32 KiB payload a thousandfold, so the bound is what keeps a hostile
/// packet from costing megabytes.
pub const MAX_JSON_BYTES: usize = 512 * 1024;

/// Longest hex text accepted: a datagram is at most 64 KiB, so a longer TXT cannot be real.
pub const MAX_HEX_CHARS: usize = 64 * 1024;

/// The longest DNS character-string: go-micro cuts its hex at this length.
pub const MAX_STRING_CHARS: usize = 255;

/// What go-micro's `mdnsTxt` carries. The metadata is the NODE's metadata: service-level
/// metadata is not transported by mDNS.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxtPayload {
    /// The service name.
    #[serde(
        rename = "Service",
        alias = "service",
        default,
        deserialize_with = "null_default"
    )]
    pub service: String,
    /// The service version.
    #[serde(
        rename = "Version",
        alias = "version",
        default,
        deserialize_with = "null_default"
    )]
    pub version: String,
    /// The service's endpoints (`null` when there are none, as Go writes a nil slice).
    #[serde(
        rename = "Endpoints",
        alias = "endpoints",
        default,
        deserialize_with = "null_default",
        serialize_with = "vec_or_null"
    )]
    pub endpoints: Vec<Endpoint>,
    /// The node's metadata (`null` when empty, as Go writes a nil map).
    #[serde(
        rename = "Metadata",
        alias = "metadata",
        default,
        deserialize_with = "null_default",
        serialize_with = "map_or_null"
    )]
    pub metadata: Metadata,
}

impl TxtPayload {
    /// The payload go-micro would announce for `node_metadata` of `service`.
    pub fn for_node(service: &Service, node_metadata: &Metadata) -> Self {
        TxtPayload {
            service: service.name.clone(),
            version: service.version.clone(),
            endpoints: service.endpoints.clone(),
            metadata: node_metadata.clone(),
        }
    }
}

/// Why a TXT record could not be decoded; each maps to a dropped-packet counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxtError {
    /// The joined strings are longer than [`MAX_HEX_CHARS`].
    TooLong,
    /// Not an even-length run of hex digits.
    Hex,
    /// Not a zlib stream (bad header, corrupt data, truncated).
    Zlib,
    /// Decompresses to more than [`MAX_JSON_BYTES`].
    TooLarge,
    /// Not the JSON shape of `mdnsTxt`.
    Json,
}

impl std::fmt::Display for TxtError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TxtError::TooLong => "TXT longer than any datagram",
            TxtError::Hex => "TXT is not hex",
            TxtError::Zlib => "TXT is not a zlib stream",
            TxtError::TooLarge => "TXT decompresses past the size bound",
            TxtError::Json => "TXT is not go-micro's JSON",
        })
    }
}

impl std::error::Error for TxtError {}

/// Encodes `payload` into TXT character-strings exactly as go-micro's `encode` does: Go's JSON
/// (with its `\u003c` escapes), zlib at the default level (`78 9c`), lowercase hex, 255-char
/// pieces.
pub fn encode(payload: &TxtPayload) -> Vec<String> {
    let json = crate::go_json::to_go_json(payload);
    let mut encoder = ZlibEncoder::new(
        Vec::with_capacity(json.len() / 2 + 16),
        Compression::default(),
    );
    // Writing into a Vec cannot fail.
    encoder.write_all(&json).expect("zlib into memory");
    let compressed = encoder.finish().expect("zlib into memory");
    let hex = to_hex(&compressed);
    hex.as_bytes()
        .chunks(MAX_STRING_CHARS)
        // Hex digits are ASCII, so every chunk is valid UTF-8.
        .map(|chunk| String::from_utf8(chunk.to_vec()).expect("hex is ASCII"))
        .collect()
}

/// Decodes the character-strings of one TXT record (joined first, as go-micro does).
pub fn decode<S: AsRef<[u8]>>(strings: &[S]) -> Result<TxtPayload, TxtError> {
    let total: usize = strings.iter().map(|s| s.as_ref().len()).sum();
    if total > MAX_HEX_CHARS {
        return Err(TxtError::TooLong);
    }
    let mut joined = Vec::with_capacity(total);
    for s in strings {
        joined.extend_from_slice(s.as_ref());
    }
    decode_joined(&joined)
}

/// Decodes already-joined hex text.
pub fn decode_joined(hex: &[u8]) -> Result<TxtPayload, TxtError> {
    if hex.len() > MAX_HEX_CHARS {
        return Err(TxtError::TooLong);
    }
    let compressed = from_hex(hex).ok_or(TxtError::Hex)?;
    let json = inflate_bounded(&compressed)?;
    serde_json::from_slice(&json).map_err(|_| TxtError::Json)
}

/// Inflates a zlib stream, refusing to produce more than [`MAX_JSON_BYTES`]. Drives the
/// inflater directly into a growing buffer (no 32 KiB reader buffer per call: this runs for
/// every new or changed node on the link).
fn inflate_bounded(compressed: &[u8]) -> Result<Vec<u8>, TxtError> {
    thread_local! {
        // The inflater's state is ~43 KiB; the engine decodes on one thread, so it keeps one.
        static INFLATER: std::cell::RefCell<Decompress> = std::cell::RefCell::new(Decompress::new(true));
    }
    INFLATER.with(|inflater| {
        let mut inflater = inflater.borrow_mut();
        inflater.reset(true);
        inflate_with(&mut inflater, compressed)
    })
}

fn inflate_with(inflater: &mut Decompress, compressed: &[u8]) -> Result<Vec<u8>, TxtError> {
    let mut out: Vec<u8> = Vec::with_capacity((compressed.len() * 4).clamp(256, MAX_JSON_BYTES));
    loop {
        if out.len() == out.capacity() {
            if out.len() > MAX_JSON_BYTES {
                return Err(TxtError::TooLarge);
            }
            out.reserve(out.len().min(MAX_JSON_BYTES + 1 - out.len()).max(256));
        }
        let consumed = inflater.total_in() as usize;
        let produced = out.len();
        let status = inflater
            .decompress_vec(&compressed[consumed..], &mut out, FlushDecompress::None)
            .map_err(|_| TxtError::Zlib)?;
        let progressed = inflater.total_in() as usize != consumed || out.len() != produced;
        if !progressed && out.len() < out.capacity() && status != Status::StreamEnd {
            return Err(TxtError::Zlib);
        }
        if out.len() > MAX_JSON_BYTES {
            return Err(TxtError::TooLarge);
        }
        match status {
            Status::StreamEnd => return Ok(out),
            // No progress with room left and all input consumed: the stream is truncated.
            Status::BufError | Status::Ok
                if out.len() < out.capacity()
                    && inflater.total_in() as usize == compressed.len() =>
            {
                return Err(TxtError::Zlib)
            }
            Status::BufError | Status::Ok => {}
        }
    }
}

/// Lowercase hex, as Go's `hex.EncodeToString`.
fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(DIGITS[(byte >> 4) as usize] as char);
        out.push(DIGITS[(byte & 0x0f) as usize] as char);
    }
    out
}

/// Hex of either case, as Go's `hex.DecodeString`; `None` on an odd length or a non-digit.
fn from_hex(hex: &[u8]) -> Option<Vec<u8>> {
    fn digit(c: u8) -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    }
    if hex.len() % 2 != 0 {
        return None;
    }
    hex.chunks_exact(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect()
}

/// `null` (Go's nil) or an absent key both mean "empty".
fn null_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

fn vec_or_null<S: serde::Serializer>(
    values: &[Endpoint],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    if values.is_empty() {
        serializer.serialize_none()
    } else {
        serializer.collect_seq(values)
    }
}

fn map_or_null<S: serde::Serializer>(map: &Metadata, serializer: S) -> Result<S::Ok, S::Error> {
    if map.is_empty() {
        serializer.serialize_none()
    } else {
        serializer.collect_map(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_split() {
        let payload = TxtPayload {
            service: "svc".into(),
            version: "1.0.0".into(),
            endpoints: (0..40)
                .map(|i| Endpoint {
                    name: format!("Svc.Method{i}"),
                    ..Default::default()
                })
                .collect(),
            metadata: [("a<b".to_string(), "&".to_string())].into(),
        };
        let strings = encode(&payload);
        assert!(strings.len() > 1);
        assert!(strings.iter().all(|s| s.len() <= 255));
        assert!(strings[0].starts_with("789c"));
        assert_eq!(decode(&strings).unwrap(), payload);
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(decode(&["78z"]), Err(TxtError::Hex));
        assert_eq!(decode(&["789"]), Err(TxtError::Hex));
        assert_eq!(decode(&["0000"]), Err(TxtError::Zlib));
        assert_eq!(decode::<&str>(&[]), Err(TxtError::Zlib));
        let whole = encode(&TxtPayload::default()).concat();
        let truncated = &whole[..whole.len() - 10];
        assert_eq!(decode_joined(truncated.as_bytes()), Err(TxtError::Zlib));
    }

    #[test]
    fn bounds_decompression() {
        let zeros = vec![b' '; MAX_JSON_BYTES + 10];
        let mut encoder = ZlibEncoder::new(Vec::new(), Compression::best());
        encoder.write_all(&zeros).unwrap();
        let hex = to_hex(&encoder.finish().unwrap());
        assert_eq!(decode_joined(hex.as_bytes()), Err(TxtError::TooLarge));
    }
}
