//! A version's endpoints, from the nodes that carry them.
//!
//! go-micro puts the service's endpoints into every node's record (the mDNS TXT, the etcd
//! value), so the nodes of one version normally agree. When they do not (a node registered
//! without endpoints, or from another build), the version shows the set most live nodes carry,
//! and names the odd ones: a single endpoint-less node must not hide what the others say.

use app::wire::EndpointOutlier;
use muster_registry::Endpoint;

/// One node's say: its id, its record's endpoints, and whether it is live (not a tombstone).
pub struct Record<'a> {
    /// Node id.
    pub id: &'a str,
    /// The endpoints its record carries.
    pub endpoints: &'a [Endpoint],
    /// Alive or stale (tombstones count only when no live node carries endpoints).
    pub live: bool,
}

/// What a version shows, settled from its nodes' records.
#[derive(Debug, Default, PartialEq)]
pub struct Settled {
    /// The endpoints shown.
    pub endpoints: Vec<Endpoint>,
    /// The node they were taken from, when the records disagree.
    pub from: Option<String>,
    /// Live nodes whose records differ.
    pub outliers: Vec<EndpointOutlier>,
}

/// The non-empty set carried by most live nodes (ties: the set of the lowest node id), else
/// the most common set among tombstones, else none. `records` are sorted by id.
pub fn settle(records: &[Record<'_>]) -> Settled {
    let carrying = |live_only: bool| -> Vec<&Record<'_>> {
        records
            .iter()
            .filter(|record| !record.endpoints.is_empty() && (record.live || !live_only))
            .collect()
    };
    let Some(chosen) = most_common(&carrying(true)).or_else(|| most_common(&carrying(false)))
    else {
        return Settled::default();
    };
    let outliers: Vec<EndpointOutlier> = records
        .iter()
        .filter(|record| record.live && record.endpoints != chosen.endpoints)
        .map(|record| EndpointOutlier {
            node: record.id.to_string(),
            endpoints: record.endpoints.len(),
        })
        .collect();
    Settled {
        endpoints: chosen.endpoints.to_vec(),
        from: (!outliers.is_empty()).then(|| chosen.id.to_string()),
        outliers,
    }
}

/// The first of `candidates` whose endpoint set the most candidates share. Grouped by set, so
/// a version costs one comparison per node and distinct set (usually one), not per pair: a
/// burst of 1,000 nodes re-settles its version once per node.
fn most_common<'r, 'a>(candidates: &[&'r Record<'a>]) -> Option<&'r Record<'a>> {
    let mut groups: Vec<(&'r Record<'a>, usize)> = Vec::new();
    for &record in candidates {
        match groups
            .iter_mut()
            .find(|(first, _)| first.endpoints == record.endpoints)
        {
            Some((_, count)) => *count += 1,
            None => groups.push((record, 1)),
        }
    }
    let mut best: Option<(&'r Record<'a>, usize)> = None;
    for (record, count) in groups {
        if best.is_none_or(|(_, most)| count > most) {
            best = Some((record, count));
        }
    }
    best.map(|(record, _)| record)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record<'a>(id: &'a str, endpoints: &'a [Endpoint], live: bool) -> Record<'a> {
        Record {
            id,
            endpoints,
            live,
        }
    }

    fn endpoint(name: &str) -> Endpoint {
        Endpoint {
            name: name.into(),
            ..Endpoint::default()
        }
    }

    #[test]
    fn agreeing_nodes_name_no_source_and_no_outlier() {
        let set = vec![endpoint("A.Get")];
        let records = [record("a", &set, true), record("b", &set, true)];
        let settled = settle(&records);
        assert_eq!(settled.endpoints, set);
        assert_eq!(settled.from, None);
        assert!(settled.outliers.is_empty());
    }

    #[test]
    fn an_endpoint_less_node_is_an_outlier_and_changes_nothing() {
        let set = vec![endpoint("A.Get"), endpoint("A.Put")];
        let records = [record("a", &set, true), record("b", &[], true)];
        let settled = settle(&records);
        assert_eq!(settled.endpoints, set);
        assert_eq!(settled.from.as_deref(), Some("a"));
        assert_eq!(
            settled.outliers,
            vec![EndpointOutlier {
                node: "b".into(),
                endpoints: 0
            }]
        );
    }

    #[test]
    fn the_majority_wins_and_tombstones_only_speak_when_no_live_node_does() {
        let old = vec![endpoint("Old")];
        let new = vec![endpoint("New")];
        let records = [
            record("a", &old, true),
            record("b", &new, true),
            record("c", &new, true),
            record("d", &old, false),
        ];
        let settled = settle(&records);
        assert_eq!(settled.endpoints, new);
        assert_eq!(settled.from.as_deref(), Some("b"));
        assert_eq!(settled.outliers.len(), 1);

        let gone = [record("a", &[], true), record("d", &old, false)];
        assert_eq!(settle(&gone).endpoints, old);
    }
}
