//! Replays the fuzz corpus (mDNS packets and TXT; etcd values with the `etcd` feature), the
//! wire vectors and a few thousand deterministic mutations of them through the fuzz entry
//! points (the same paths a received datagram or a stored value takes). CI cannot run a
//! fuzzer for long; this keeps every input it ever found, and the obvious damage a real packet
//! can suffer, in the normal test run. Nothing here may panic.
#![cfg(feature = "mdns")]

use std::path::{Path, PathBuf};

use muster_registry::mdns::fuzz_entry::{decode_txt, parse_packet};

fn files(dir: &Path, extension: Option<&str>) -> Vec<Vec<u8>> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files(&path, extension));
        } else if extension.is_none_or(|ext| path.extension().is_some_and(|e| e == ext)) {
            found.push(std::fs::read(&path).unwrap());
        }
    }
    found
}

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[path = "vectors/mod.rs"]
mod vectors;

/// TXT RDATA (length-prefixed strings) from a `.strings` vector file.
fn rdata_of_strings(text: &[u8]) -> Vec<u8> {
    let mut rdata = Vec::new();
    for line in text.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        rdata.push(line.len() as u8);
        rdata.extend_from_slice(line);
    }
    rdata
}

/// A small deterministic generator (xorshift64*), so failures replay.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// One random kind of damage: flipped bits, set bytes, cut, inserted, duplicated ranges,
/// header counts raised, compression pointers planted.
fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let len = out.len();
        match rng.below(8) {
            0 if len > 0 => {
                let at = rng.below(len);
                out[at] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let at = rng.below(len);
                out[at] = rng.next() as u8;
            }
            2 => out.truncate(rng.below(len + 1)),
            3 => {
                let at = rng.below(len + 1);
                let extra: Vec<u8> = (0..rng.below(32)).map(|_| rng.next() as u8).collect();
                out.splice(at..at, extra);
            }
            4 if len > 1 => {
                let start = rng.below(len);
                let end = start + rng.below(len - start);
                let copy = out[start..end].to_vec();
                let at = rng.below(out.len() + 1);
                out.splice(at..at, copy);
            }
            5 if len >= 12 => {
                let field = 4 + 2 * rng.below(4);
                out[field] = rng.next() as u8;
                out[field + 1] = rng.next() as u8;
            }
            6 if len > 2 => {
                let at = rng.below(len - 1);
                let target = rng.below(len.min(0x3fff));
                out[at] = 0xc0 | (target >> 8) as u8;
                out[at + 1] = target as u8;
            }
            _ => {
                if let Some(byte) = out.get_mut(rng.below(len.max(1))) {
                    *byte = [0x00, 0xff, b'.', b'z', 0x7f][rng.below(5)];
                }
            }
        }
    }
    out
}

#[test]
fn corpus_and_vectors_never_panic() {
    let vector_packets = files(&vectors::dir(), Some("bin"));
    let vector_txts = files(&vectors::dir(), Some("strings"));
    // Counted apart from the corpus, so that neither can stand in for the other when missing.
    assert!(
        vector_packets.len() >= 11,
        "only {} vector packets",
        vector_packets.len()
    );
    assert!(
        vector_txts.len() >= 3,
        "only {} TXT vectors",
        vector_txts.len()
    );
    let corpus_packets = files(&crate_dir().join("fuzz/corpus/packet"), None);
    let corpus_txts = files(&crate_dir().join("fuzz/corpus/txt"), None);
    assert!(
        corpus_packets.len() >= 11,
        "packet corpus missing ({} files)",
        corpus_packets.len()
    );
    assert!(
        corpus_txts.len() >= 3,
        "txt corpus missing ({} files)",
        corpus_txts.len()
    );
    let packets: Vec<Vec<u8>> = corpus_packets.into_iter().chain(vector_packets).collect();
    let txts: Vec<Vec<u8>> = corpus_txts
        .into_iter()
        .chain(vector_txts.iter().map(|text| rdata_of_strings(text)))
        .collect();
    for packet in &packets {
        parse_packet(packet);
        decode_txt(packet);
    }
    for txt in &txts {
        decode_txt(txt);
        parse_packet(txt);
    }
}

#[test]
fn mutations_never_panic() {
    let packets: Vec<Vec<u8>> = files(&crate_dir().join("fuzz/corpus/packet"), None);
    let txts: Vec<Vec<u8>> = files(&crate_dir().join("fuzz/corpus/txt"), None);
    assert!(
        !packets.is_empty() && !txts.is_empty(),
        "fuzz corpus missing"
    );
    let mut rng = Rng(0x6d75_7374_6572_2121);
    for round in 0..4000 {
        let packet = &packets[round % packets.len()];
        parse_packet(&mutate(&mut rng, packet));
        if round % 4 == 0 {
            let txt = &txts[round % txts.len()];
            decode_txt(&mutate(&mut rng, txt));
        }
    }
}

#[test]
fn hostile_shapes_never_panic() {
    // Empty, header only, maximal counts, a 64 KiB datagram of pointers, deep JSON in a TXT.
    parse_packet(&[]);
    parse_packet(&[0; 12]);
    parse_packet(&[0xff; 12]);
    let mut pointers = vec![0u8, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
    while pointers.len() < 65_535 {
        let at = pointers.len() - 2;
        pointers.extend_from_slice(&[0xc0 | (at >> 8) as u8 & 0x3f, at as u8]);
    }
    parse_packet(&pointers);
    let deep = "[".repeat(100_000);
    decode_txt(deep.as_bytes());
    // Valid hex and zlib around JSON nested 100 000 deep: refused, not a stack overflow.
    let json = format!(
        r#"{{"Service":"s","Version":"1","Endpoints":[{{"request":{}}}]}}"#,
        r#"{"values":["#.repeat(100_000)
    );
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut encoder, json.as_bytes()).unwrap();
    let hex: String = encoder
        .finish()
        .unwrap()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    decode_txt(hex.as_bytes());
    assert!(muster_registry::mdns::txt::decode_joined(hex.as_bytes()).is_err());
}

/// The etcd values of the corpus (`fuzz/corpus/etcd_value`), mutated too: the decoder, the
/// watcher's view and the round trip through our encoder (see `etcd::fuzz_entry`).
#[cfg(feature = "etcd")]
#[test]
fn etcd_values_never_panic_and_round_trip() {
    use muster_registry::etcd::fuzz_entry::decode_value;

    let values = files(&crate_dir().join("fuzz/corpus/etcd_value"), None);
    assert!(
        values.len() >= 3,
        "etcd_value corpus missing ({} files)",
        values.len()
    );
    for value in &values {
        decode_value(value);
    }
    let mut rng = Rng(0x6574_6364_2121_2121);
    for round in 0..4000 {
        decode_value(&mutate(&mut rng, &values[round % values.len()]));
    }
    decode_value("[".repeat(100_000).as_bytes());
}
