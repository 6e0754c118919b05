//! The go-micro wire vectors kept in this folder (see `README.md` here: captured from real
//! go-micro v1.18 and v5 peers), for the registry's tests and benches.
//!
//! Included by path (`#[path = "vectors/mod.rs"] mod vectors;`, from other crates
//! `#[path = "../../registry/tests/vectors/mod.rs"]`). A missing file is a failure, never a
//! skipped check: a test that passes because its input is absent proves nothing.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The folder holding the vectors (`registry/tests/vectors`). Every crate of the workspace sits
/// directly below its root, so the path is the same from each of them.
pub fn dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../registry/tests/vectors");
    assert!(
        dir.join("README.md").is_file(),
        "wire vectors missing at {}: they are part of the repository",
        dir.display()
    );
    dir
}

/// The bytes of one vector, by its path below [`dir`] (`gomicro-v1.18/02-announce.bin`).
pub fn read(path: &str) -> Vec<u8> {
    let path = dir().join(path);
    std::fs::read(&path).unwrap_or_else(|error| panic!("vector {}: {error}", path.display()))
}
