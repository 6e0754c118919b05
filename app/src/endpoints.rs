//! A service's endpoints across its versions, as the service page lists them: each distinct
//! endpoint once (name, request, response and metadata equal), with the versions that have
//! it; subscribers apart from handlers; and what changed between two versions.
//!
//! Plain data, no I/O: the page keys its cards by [`EndpointGroup::key`], so a group stays the
//! same card (its open tree, its Call panel) while the versions holding it come and go.

use muster_registry::Endpoint;

/// One distinct endpoint and the versions that register it, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointGroup {
    /// The endpoint as those versions register it.
    pub endpoint: Endpoint,
    /// The versions whose endpoints include exactly this one, newest first.
    pub versions: Vec<String>,
}

impl EndpointGroup {
    /// The card's identity: its name and content (a changed schema is another card).
    pub fn key(&self) -> (String, String) {
        key_of(&self.endpoint)
    }
}

/// An endpoint's identity by content: its name and its canonical JSON.
pub fn key_of(endpoint: &Endpoint) -> (String, String) {
    (
        endpoint.name.clone(),
        serde_json::to_string(endpoint).unwrap_or_default(),
    )
}

/// The distinct endpoints of a service's versions, given newest first: by name, and for one
/// name by the newest version that has that variant.
pub fn group_endpoints<'a>(
    versions: impl IntoIterator<Item = (&'a str, &'a [Endpoint])>,
) -> Vec<EndpointGroup> {
    let mut groups: Vec<EndpointGroup> = Vec::new();
    for (version, endpoints) in versions {
        for endpoint in endpoints {
            match groups.iter_mut().find(|group| group.endpoint == *endpoint) {
                Some(group) if !group.versions.iter().any(|v| v == version) => {
                    group.versions.push(version.to_string())
                }
                Some(_) => {}
                None => groups.push(EndpointGroup {
                    endpoint: endpoint.clone(),
                    versions: vec![version.to_string()],
                }),
            }
        }
    }
    // Stable: variants of one name keep their newest-version-first order.
    groups.sort_by(|a, b| a.endpoint.name.cmp(&b.endpoint.name));
    groups
}

/// The topic of a subscriber: go-micro registers a broker subscription as an endpoint with
/// metadata `subscriber=true` and `topic=…`. `None` for a handler.
pub fn subscriber_topic(endpoint: &Endpoint) -> Option<&str> {
    (endpoint.metadata.get("subscriber").map(String::as_str) == Some("true"))
        .then(|| endpoint.metadata.get("topic").map_or("", String::as_str))
}

/// How one endpoint differs from one version to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Only the newer side has it.
    Added,
    /// Only the older side has it.
    Removed,
    /// Both have it, with other schemas or metadata.
    Changed,
    /// Both have it as it is.
    Same,
}

impl Change {
    /// The word shown (and the CSS class suffix).
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Added => "added",
            Change::Removed => "removed",
            Change::Changed => "changed",
            Change::Same => "same",
        }
    }
}

/// One endpoint name in a comparison of two versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointChange {
    /// `Handler.Method`.
    pub name: String,
    /// The endpoint in the first (left) version.
    pub left: Option<Endpoint>,
    /// The endpoint in the second (right) version.
    pub right: Option<Endpoint>,
    /// What happened from left to right.
    pub change: Change,
}

/// Every endpoint name of `left` or `right`, by name, with what changed from left to right.
pub fn compare(left: &[Endpoint], right: &[Endpoint]) -> Vec<EndpointChange> {
    let mut names: Vec<&str> = left
        .iter()
        .chain(right)
        .map(|endpoint| endpoint.name.as_str())
        .collect();
    names.sort_unstable();
    names.dedup();
    names
        .into_iter()
        .map(|name| {
            let find = |side: &[Endpoint]| side.iter().find(|e| e.name == name).cloned();
            let (left, right) = (find(left), find(right));
            let change = match (&left, &right) {
                (None, _) => Change::Added,
                (_, None) => Change::Removed,
                (Some(a), Some(b)) if a == b => Change::Same,
                _ => Change::Changed,
            };
            EndpointChange {
                name: name.to_string(),
                left,
                right,
                change,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use muster_registry::Value;

    fn endpoint(name: &str, request_type: &str) -> Endpoint {
        Endpoint {
            name: name.into(),
            request: Some(Value {
                name: request_type.into(),
                r#type: request_type.into(),
                values: vec![],
            }),
            response: None,
            metadata: Default::default(),
        }
    }

    fn with_metadata(mut endpoint: Endpoint, pairs: &[(&str, &str)]) -> Endpoint {
        for (key, value) in pairs {
            endpoint.metadata.insert(key.to_string(), value.to_string());
        }
        endpoint
    }

    #[test]
    fn equal_endpoints_are_listed_once_with_their_versions() {
        let newer = [
            endpoint("Orders.Get", "GetV2"),
            endpoint("Orders.List", "List"),
        ];
        let older = [
            endpoint("Orders.Get", "Get"),
            endpoint("Orders.List", "List"),
        ];
        let groups = group_endpoints([("2.0.0", &newer[..]), ("1.0.0", &older[..])]);
        let shown: Vec<(&str, Vec<&str>)> = groups
            .iter()
            .map(|group| {
                let versions = group.versions.iter().map(String::as_str).collect();
                (group.endpoint.name.as_str(), versions)
            })
            .collect();
        assert_eq!(
            shown,
            [
                ("Orders.Get", vec!["2.0.0"]),
                ("Orders.Get", vec!["1.0.0"]),
                ("Orders.List", vec!["2.0.0", "1.0.0"]),
            ]
        );
        assert_eq!(groups[0].endpoint.request.as_ref().unwrap().r#type, "GetV2");
    }

    #[test]
    fn metadata_makes_a_variant() {
        let plain = [endpoint("Feed.Watch", "Req")];
        let stream = [with_metadata(
            endpoint("Feed.Watch", "Req"),
            &[("stream", "true")],
        )];
        let groups = group_endpoints([("1.1.0", &stream[..]), ("1.0.0", &plain[..])]);
        assert_eq!(groups.len(), 2);
        assert_ne!(groups[0].key(), groups[1].key());
    }

    #[test]
    fn subscribers_are_told_apart_by_their_metadata() {
        let handler = endpoint("Orders.Get", "Get");
        let subscriber = with_metadata(
            endpoint("Orders.Handle", "Event"),
            &[("subscriber", "true"), ("topic", "go.micro.evt.order")],
        );
        let untitled = with_metadata(endpoint("Orders.Any", "Event"), &[("subscriber", "true")]);
        let not_one = with_metadata(endpoint("Orders.Odd", "Event"), &[("subscriber", "false")]);
        assert_eq!(subscriber_topic(&handler), None);
        assert_eq!(subscriber_topic(&subscriber), Some("go.micro.evt.order"));
        assert_eq!(subscriber_topic(&untitled), Some(""));
        assert_eq!(subscriber_topic(&not_one), None);
    }

    #[test]
    fn comparison_names_added_removed_changed_and_same() {
        let left = [
            endpoint("A.Kept", "K"),
            endpoint("A.Gone", "G"),
            endpoint("A.Moved", "Old"),
        ];
        let right = [
            endpoint("A.New", "N"),
            endpoint("A.Moved", "New"),
            endpoint("A.Kept", "K"),
        ];
        let changes: Vec<(String, Change)> = compare(&left, &right)
            .into_iter()
            .map(|change| (change.name, change.change))
            .collect();
        assert_eq!(
            changes,
            [
                ("A.Gone".to_string(), Change::Removed),
                ("A.Kept".to_string(), Change::Same),
                ("A.Moved".to_string(), Change::Changed),
                ("A.New".to_string(), Change::Added),
            ]
        );
    }

    #[test]
    fn a_version_compared_with_itself_has_no_change() {
        let side = [endpoint("A.One", "X"), endpoint("A.Two", "Y")];
        assert!(compare(&side, &side)
            .iter()
            .all(|change| change.change == Change::Same));
        assert!(compare(&[], &[]).is_empty());
    }
}
