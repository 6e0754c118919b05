//! The live store's summaries: one [`Indexed`] summary per service name, recounted only for
//! the service an event touched, so the services page filters and sorts kept summaries on a
//! keystroke instead of summarizing every node of the view.

use std::collections::BTreeMap;

use super::ServiceMap;
use crate::wire::{Indexed, Tally};

/// One summary (with its search text) per service name, sorted by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalog {
    by_name: BTreeMap<String, Indexed>,
}

impl Catalog {
    /// The catalog of every service in `map`.
    pub fn of(map: &ServiceMap) -> Self {
        let mut by_name = BTreeMap::new();
        let mut names = map.keys().map(|(name, _)| name.as_str()).peekable();
        while let Some(name) = names.next() {
            while names.peek() == Some(&name) {
                names.next();
            }
            if let Some(indexed) = indexed(map, name) {
                by_name.insert(name.to_string(), indexed);
            }
        }
        Catalog { by_name }
    }

    /// Recounts the service `name` from `map` (it changed, or left).
    pub fn refresh(&mut self, map: &ServiceMap, name: &str) {
        match indexed(map, name) {
            Some(indexed) => {
                self.by_name.insert(name.to_string(), indexed);
            }
            None => {
                self.by_name.remove(name);
            }
        }
    }

    /// Every service, sorted by name.
    pub fn entries(&self) -> impl Iterator<Item = &Indexed> {
        self.by_name.values()
    }
}

/// The summary of `name` from its versions in `map`; `None` when it has none.
fn indexed(map: &ServiceMap, name: &str) -> Option<Indexed> {
    let mut tally: Option<Tally> = None;
    for (_, service) in map
        .range((name.to_string(), String::new())..)
        .take_while(|((service, _), _)| service == name)
    {
        tally.get_or_insert_with(Tally::default).add_version(
            &service.version,
            &service.metadata,
            &service.endpoints,
            &service.nodes,
            service.last_change,
        );
    }
    tally.map(|tally| tally.finish_indexed(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{summarize, ServiceView};

    #[test]
    fn refreshing_one_name_keeps_the_catalog_equal_to_a_full_count() {
        let version = |name: &str, version: &str| ServiceView {
            name: name.into(),
            version: version.into(),
            last_change: 7,
            ..ServiceView::default()
        };
        let mut map = crate::live::index(vec![
            version("a", "1"),
            version("a", "2"),
            version("b", "1"),
        ]);
        let mut catalog = Catalog::of(&map);
        let summaries = |catalog: &Catalog| -> Vec<_> {
            catalog
                .entries()
                .map(|entry| entry.summary.clone())
                .collect()
        };
        assert_eq!(summaries(&catalog), summarize(map.values()));
        map.insert(("c".into(), "1".into()), version("c", "1"));
        catalog.refresh(&map, "c");
        map.remove(&("a".to_string(), "2".to_string()));
        catalog.refresh(&map, "a");
        assert_eq!(summaries(&catalog), summarize(map.values()));
        map.remove(&("b".to_string(), "1".to_string()));
        catalog.refresh(&map, "b");
        assert_eq!(summaries(&catalog), summarize(map.values()));
        assert_eq!(catalog, Catalog::of(&map));
    }
}
