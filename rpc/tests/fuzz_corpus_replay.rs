//! Replays the fuzz corpus, every captured reply and a few thousand deterministic mutations of
//! them through the fuzz entry point (the path a node's reply takes). Nothing here may panic.

use muster_rpc::fake_peer::captures;
use muster_rpc::fuzz_entry::reply;

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
        (self.next() % n.max(1) as u64) as usize
    }
}

/// The corpus files.
fn corpus() -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/reply");
    let inputs: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .expect("the corpus is in the repository")
        .map(|entry| std::fs::read(entry.unwrap().path()).unwrap())
        .collect();
    assert!(inputs.len() >= 8, "corpus at {} is missing", dir.display());
    inputs
}

/// Each captured reply in the entry point's layout (status, Micro-Error, content type, body).
fn captured() -> Vec<Vec<u8>> {
    captures::ALL
        .iter()
        .map(|capture| {
            let (status, headers, body) = capture.parts();
            let mut flags = u8::from(status != 200);
            let mut input = Vec::new();
            if let Some(error) = headers.get("micro-error") {
                flags |= 2;
                input.extend_from_slice(error.as_bytes());
                input.push(b'\n');
            }
            flags |= match headers.get("content-type").map(|v| v.as_bytes()) {
                Some(b"application/json") => 0,
                Some(_) => 2 << 2,
                None => 3 << 2,
            };
            input.extend_from_slice(&body);
            input.insert(0, flags);
            input
        })
        .collect()
}

#[test]
fn the_corpus_and_the_captures_parse_without_panicking() {
    for input in corpus().iter().chain(captured().iter()) {
        reply(input);
    }
}

#[test]
fn mutations_of_them_parse_without_panicking() {
    let seeds: Vec<Vec<u8>> = corpus().into_iter().chain(captured()).collect();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..5_000 {
        let mut input = seeds[rng.below(seeds.len())].clone();
        for _ in 0..=rng.below(4) {
            let at = rng.below(input.len() + 1);
            match rng.below(4) {
                0 if at < input.len() => input[at] = rng.next() as u8,
                1 if at < input.len() => {
                    input.remove(at);
                }
                2 => input.insert(at, rng.next() as u8),
                _ => input.truncate(at),
            }
        }
        reply(&input);
    }
}
