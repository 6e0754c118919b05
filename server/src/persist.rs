//! The state file: the registrations this console keeps, so they survive its restart.
//!
//! `<data-dir>/registrations.json` is replaced atomically: the new contents go to a temporary
//! file in the same directory, which is flushed to disk (fsync) and then renamed over the old
//! one, and the directory is synced so the rename itself is durable. A crash at any point
//! leaves either the old file or the new one, never a torn mix.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use app::wire::RegisterRequest;
use serde::{Deserialize, Serialize};

/// Format version of the file, for future migrations.
const FORMAT_VERSION: u32 = 1;

/// The file's JSON.
#[derive(Debug, Serialize, Deserialize)]
struct StateFile {
    version: u32,
    /// One entry per owned node: the service holding just that node, and its TTL.
    registrations: Vec<RegisterRequest>,
}

/// Where the state lives.
#[derive(Debug, Clone)]
pub struct StateStore {
    dir: PathBuf,
}

impl StateStore {
    /// A store in `dir` (created on first save).
    pub fn new(dir: PathBuf) -> Self {
        StateStore { dir }
    }

    /// The default directory: `$XDG_STATE_HOME/muster`, else `~/.local/state/muster`.
    pub fn default_dir() -> PathBuf {
        match std::env::var_os("XDG_STATE_HOME").filter(|dir| !dir.is_empty()) {
            Some(state) => PathBuf::from(state).join("muster"),
            None => {
                let home = std::env::var_os("HOME").unwrap_or_else(|| ".".into());
                PathBuf::from(home).join(".local/state/muster")
            }
        }
    }

    /// The file's path.
    pub fn path(&self) -> PathBuf {
        self.dir.join("registrations.json")
    }

    /// The saved registrations; none when the file does not exist yet. A file that cannot be
    /// read is an error: starting empty would silently drop registrations the admin made.
    pub fn load(&self) -> Result<Vec<RegisterRequest>, String> {
        let path = self.path();
        let text = match fs::read(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(format!("cannot read {}: {error}", path.display())),
        };
        let file: StateFile = serde_json::from_slice(&text).map_err(|error| {
            format!(
                "{} is not a muster state file ({error}); move it away to start without it",
                path.display()
            )
        })?;
        if file.version != FORMAT_VERSION {
            return Err(format!(
                "{} has format version {}, this muster reads {FORMAT_VERSION}",
                path.display(),
                file.version
            ));
        }
        Ok(file.registrations)
    }

    /// Replaces the saved registrations atomically (blocking I/O: call off the async threads).
    pub fn save(&self, registrations: &[RegisterRequest]) -> Result<(), String> {
        let fail =
            |what: &str, error: std::io::Error| format!("{what} {}: {error}", self.dir.display());
        fs::create_dir_all(&self.dir).map_err(|e| fail("cannot create", e))?;
        let json = serde_json::to_vec_pretty(&StateFile {
            version: FORMAT_VERSION,
            registrations: registrations.to_vec(),
        })
        .map_err(|error| error.to_string())?;
        let temp = self
            .dir
            .join(format!(".registrations.json.{}.tmp", std::process::id()));
        let write = || -> std::io::Result<()> {
            let mut file = fs::File::create(&temp)?;
            file.write_all(&json)?;
            file.sync_all()?;
            fs::rename(&temp, self.path())?;
            sync_dir(&self.dir)
        };
        write().map_err(|error| {
            let _ = fs::remove_file(&temp);
            fail("cannot write the state file in", error)
        })
    }
}

/// Makes a rename in `dir` durable.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use muster_registry::{Node, Service};

    #[test]
    fn save_then_load() {
        let dir = tempfile::tempdir().unwrap();
        let store = StateStore::new(dir.path().join("nested"));
        assert_eq!(store.load().unwrap(), Vec::new());
        let registration = RegisterRequest {
            service: Service {
                name: "greeter".into(),
                version: "1".into(),
                nodes: vec![Node {
                    id: "greeter-1".into(),
                    address: "127.0.0.1:1".into(),
                    ..Node::default()
                }],
                ..Service::default()
            },
            ttl: Some(30),
        };
        store.save(std::slice::from_ref(&registration)).unwrap();
        assert_eq!(store.load().unwrap(), vec![registration]);
        store.save(&[]).unwrap();
        assert_eq!(store.load().unwrap(), Vec::new());
        let leftovers = fs::read_dir(dir.path().join("nested")).unwrap().count();
        assert_eq!(leftovers, 1, "only the state file remains");
    }

    #[test]
    fn corrupt_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let store = StateStore::new(dir.path().to_path_buf());
        fs::write(store.path(), b"{not json").unwrap();
        assert!(store.load().is_err());
    }
}
