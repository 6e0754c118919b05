//! The state store: the registrations this console keeps, so they survive its restart.
//!
//! `<data-dir>/registrations.redb` is a [redb](https://www.redb.org) database: an embedded,
//! crash-safe B-tree store whose every commit is on disk (fsynced) before it returns, and which
//! opens at the last commit after a crash. It holds one record per owned node, keyed by
//! (service, node id), so a registration writes its own record and nothing else. (The JSON file
//! used before was rewritten whole for every change: registering got slower with every node
//! owned, 37 ms at 1,000.) redb also locks the file, so two consoles cannot share a data
//! directory by mistake.
//!
//! A `registrations.json` left by an older muster is imported at the first start and renamed
//! to `registrations.json.imported`.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use app::wire::RegisterRequest;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::Deserialize;

/// Owned nodes: (service name, node id) → `RegisterRequest` JSON holding just that node.
const REGISTRATIONS: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("registrations");

/// The database file, in the data directory.
const FILE_NAME: &str = "registrations.redb";
/// The state file of older versions, imported once.
const LEGACY_FILE_NAME: &str = "registrations.json";

/// Where the registrations are kept. Cheap to clone: clones share the open database.
#[derive(Clone)]
pub struct StateStore {
    path: PathBuf,
    db: Arc<Database>,
}

impl std::fmt::Debug for StateStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateStore")
            .field("path", &self.path)
            .finish()
    }
}

impl StateStore {
    /// Opens (or creates) the store in `dir`, importing a legacy state file found there. A
    /// store that cannot be opened is an error: starting empty would silently drop
    /// registrations the admin made.
    pub fn open(dir: &Path) -> Result<Self, String> {
        fs::create_dir_all(dir)
            .map_err(|error| format!("cannot create {}: {error}", dir.display()))?;
        let path = dir.join(FILE_NAME);
        let db = Database::create(&path).map_err(|error| {
            format!(
                "{} cannot be opened as a muster state store ({error}); move it away to start \
                 without it",
                path.display()
            )
        })?;
        let store = StateStore {
            path,
            db: Arc::new(db),
        };
        store.import_legacy(&dir.join(LEGACY_FILE_NAME))?;
        Ok(store)
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

    /// Every saved registration (one node each), by service name then node id.
    pub fn load(&self) -> Result<Vec<RegisterRequest>, String> {
        let fail =
            |error: &dyn std::fmt::Display| format!("cannot read {}: {error}", self.path.display());
        let read = self.db.begin_read().map_err(|e| fail(&e))?;
        let table = match read.open_table(REGISTRATIONS) {
            Ok(table) => table,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(error) => return Err(fail(&error)),
        };
        let mut registrations = Vec::new();
        for entry in table.iter().map_err(|e| fail(&e))? {
            let (key, value) = entry.map_err(|e| fail(&e))?;
            let request = serde_json::from_slice(value.value()).map_err(|error| {
                let (service, node) = key.value();
                fail(&format!(
                    "the record of {service}/{node} is not a registration: {error}"
                ))
            })?;
            registrations.push(request);
        }
        Ok(registrations)
    }

    /// Saves `registrations` (each holding one node), replacing the records of the same
    /// nodes, in one durable commit (blocking I/O: call off the async threads).
    pub fn put(&self, registrations: &[RegisterRequest]) -> Result<(), String> {
        self.write(|table| {
            for request in registrations {
                let Some(node) = request.service.nodes.first() else {
                    continue;
                };
                let json = serde_json::to_vec(request).map_err(|error| error.to_string())?;
                table
                    .insert(
                        (request.service.name.as_str(), node.id.as_str()),
                        json.as_slice(),
                    )
                    .map_err(|error| error.to_string())?;
            }
            Ok(())
        })
    }

    /// Forgets node `node_id` of `service`, durably (blocking I/O).
    pub fn remove(&self, service: &str, node_id: &str) -> Result<(), String> {
        self.write(|table| {
            table
                .remove((service, node_id))
                .map(drop)
                .map_err(|error| error.to_string())
        })
    }

    /// Runs `change` on the table in one write transaction and commits it.
    fn write(
        &self,
        change: impl FnOnce(&mut redb::Table<(&str, &str), &[u8]>) -> Result<(), String>,
    ) -> Result<(), String> {
        let fail = |error: &dyn std::fmt::Display| {
            format!("cannot write {}: {error}", self.path.display())
        };
        let transaction = self.db.begin_write().map_err(|e| fail(&e))?;
        {
            let mut table = transaction
                .open_table(REGISTRATIONS)
                .map_err(|e| fail(&e))?;
            change(&mut table).map_err(|e| fail(&e))?;
        }
        transaction.commit().map_err(|e| fail(&e))
    }

    /// Moves the registrations of an older muster's JSON state file into the store, then
    /// renames the file so that it is imported only once.
    fn import_legacy(&self, legacy: &Path) -> Result<(), String> {
        /// The JSON state file of muster before the redb store.
        #[derive(Deserialize)]
        struct LegacyFile {
            version: u32,
            registrations: Vec<RegisterRequest>,
        }
        let text = match fs::read(legacy) {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(error) => return Err(format!("cannot read {}: {error}", legacy.display())),
        };
        let file: LegacyFile = serde_json::from_slice(&text)
            .ok()
            .filter(|file: &LegacyFile| file.version == 1)
            .ok_or_else(|| {
                format!(
                    "{} is not a muster state file; move it away to start without it",
                    legacy.display()
                )
            })?;
        self.put(&file.registrations)?;
        let imported = legacy.with_extension("json.imported");
        fs::rename(legacy, &imported)
            .map_err(|error| format!("cannot rename {}: {error}", legacy.display()))?;
        tracing::info!(
            "imported {} registration(s) from {} into {}",
            file.registrations.len(),
            legacy.display(),
            self.path.display()
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use muster_registry::{Node, Service};

    fn registration(name: &str, node_id: &str) -> RegisterRequest {
        RegisterRequest {
            service: Service {
                name: name.into(),
                version: "1".into(),
                nodes: vec![Node {
                    id: node_id.into(),
                    address: "127.0.0.1:1".into(),
                    ..Node::default()
                }],
                ..Service::default()
            },
            ttl: Some(30),
        }
    }

    #[test]
    fn put_remove_and_load_again() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("nested");
        let store = StateStore::open(&nested).unwrap();
        assert_eq!(store.load().unwrap(), Vec::new());
        let (a, b) = (registration("greeter", "a"), registration("greeter", "b"));
        store.put(&[b.clone(), a.clone()]).unwrap();
        let mut changed = a.clone();
        changed.ttl = Some(60);
        store.put(std::slice::from_ref(&changed)).unwrap();
        store.remove("greeter", "b").unwrap();
        store.remove("greeter", "never-there").unwrap();
        drop(store);
        let store = StateStore::open(&nested).unwrap();
        assert_eq!(store.load().unwrap(), vec![changed]);
    }

    #[test]
    fn a_legacy_state_file_is_imported_once() {
        let dir = tempfile::tempdir().unwrap();
        let legacy = serde_json::json!({
            "version": 1,
            "registrations": [registration("greeter", "a"), registration("other", "b")],
        });
        fs::write(dir.path().join(LEGACY_FILE_NAME), legacy.to_string()).unwrap();
        let store = StateStore::open(dir.path()).unwrap();
        assert_eq!(store.load().unwrap().len(), 2);
        assert!(!dir.path().join(LEGACY_FILE_NAME).exists());
        assert!(dir.path().join("registrations.json.imported").exists());
        store.remove("other", "b").unwrap();
        drop(store);
        let store = StateStore::open(dir.path()).unwrap();
        assert_eq!(store.load().unwrap(), vec![registration("greeter", "a")]);
    }

    #[test]
    fn corrupt_stores_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(FILE_NAME), b"not a database, not empty").unwrap();
        let error = StateStore::open(dir.path()).unwrap_err();
        assert!(error.contains(FILE_NAME), "{error}");

        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(LEGACY_FILE_NAME), b"{not json").unwrap();
        let error = StateStore::open(dir.path()).unwrap_err();
        assert!(error.contains(LEGACY_FILE_NAME), "{error}");
    }
}
