//! One [`ServiceSummary`] per service name, kept by the view and recounted only for the names
//! a change touched since the last read.
//!
//! `GET /api/services` and the services page summarized a copy of the whole view: with 10,000
//! nodes known, cloning every node (metadata, endpoints) took tens of milliseconds under the
//! view lock. Now a read recounts the services that changed (from the view's borrowed nodes)
//! and copies the summaries: its cost follows the services it returns, not the nodes behind
//! them.

use std::collections::{BTreeMap, BTreeSet};

use app::wire::{Indexed, ServiceSummary};

/// The summaries (each with the text the services page searches it by) and the names whose
/// summary is out of date.
#[derive(Debug, Default)]
pub struct Summaries {
    by_name: BTreeMap<String, Indexed>,
    dirty: BTreeSet<String>,
}

impl Summaries {
    /// Something of the service `name` changed (a node, a version, its endpoints, a state).
    pub fn touch(&mut self, name: &str) {
        if !self.dirty.contains(name) {
            self.dirty.insert(name.to_string());
        }
    }

    /// Recounts every touched name with `count` (`None`: the service is gone).
    pub fn refresh(&mut self, mut count: impl FnMut(&str) -> Option<Indexed>) {
        for name in std::mem::take(&mut self.dirty) {
            match count(&name) {
                Some(summary) => {
                    self.by_name.insert(name, summary);
                }
                None => {
                    self.by_name.remove(&name);
                }
            }
        }
    }

    /// Every summary, sorted by name (call [`Summaries::refresh`] first).
    pub fn all(&self) -> Vec<ServiceSummary> {
        debug_assert!(self.dirty.is_empty(), "summaries read before a refresh");
        self.entries().map(|entry| entry.summary.clone()).collect()
    }

    /// Every summary with its search text, sorted by name (call [`Summaries::refresh`] first).
    pub fn entries(&self) -> impl Iterator<Item = &Indexed> {
        debug_assert!(self.dirty.is_empty(), "summaries read before a refresh");
        self.by_name.values()
    }
}
