//! go-micro's etcd key layout: one key per node under `/micro/registry/`.
//!
//! go-micro builds keys with `path.Join(prefix, service, node)` after replacing every `/` in the
//! service name and the node id by `-`, so a name can never add a level to the tree. `path.Join`
//! also cleans the path: a name of `.` or `..` would silently land somewhere else (`..` climbs
//! out of the registry), so such names are refused here rather than written where no go-micro
//! peer looks for them. Names are never empty (validation refuses that first), so the cleaning
//! has nothing else to do and plain concatenation gives exactly `path.Join`'s bytes.

use crate::error::{Error, Result};
use crate::field::Field;

/// Where every registration lives: go-micro's `prefix`.
pub(crate) const PREFIX: &str = "/micro/registry/";

/// The key of one node: `/micro/registry/<service>/<node id>`.
pub(crate) fn node_key(service: &str, node_id: &str) -> Result<String> {
    Ok(format!(
        "{}/{}",
        service_dir(service)?,
        segment(Field::NodeId, node_id)?
    ))
}

/// The prefix of every node of one service, with the trailing `/` go-micro's `GetService` and
/// watcher add, so that `greeter` does not also match `greeter.v2`.
pub(crate) fn service_prefix(service: &str) -> Result<String> {
    Ok(format!("{}/", service_dir(service)?))
}

/// `/micro/registry/<service>`, without a trailing `/`.
fn service_dir(service: &str) -> Result<String> {
    Ok(format!("{PREFIX}{}", segment(Field::ServiceName, service)?))
}

/// One path segment: the name with `/` replaced by `-`, refusing what `path.Join` would clean.
fn segment(field: Field, name: &str) -> Result<String> {
    let segment = name.replace('/', "-");
    if segment == "." || segment == ".." {
        return Err(Error::invalid(
            field,
            format!("{name:?} is a path step; go-micro's etcd layout cannot store it"),
        ));
    }
    Ok(segment)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_keys_follow_go_micro() {
        assert_eq!(
            node_key("go.micro.srv.greeter", "go.micro.srv.greeter-1").unwrap(),
            "/micro/registry/go.micro.srv.greeter/go.micro.srv.greeter-1"
        );
        assert_eq!(
            node_key("team/greeter", "host/1/a").unwrap(),
            "/micro/registry/team-greeter/host-1-a"
        );
        assert_eq!(
            service_prefix("team/greeter").unwrap(),
            "/micro/registry/team-greeter/"
        );
    }

    #[test]
    fn path_steps_are_refused() {
        for name in [".", ".."] {
            assert!(matches!(node_key(name, "node"), Err(Error::Invalid { .. })));
            assert!(matches!(
                node_key("greeter", name),
                Err(Error::Invalid { .. })
            ));
        }
        // Dots inside a name are ordinary characters.
        assert_eq!(node_key("...", "a..b").unwrap(), "/micro/registry/.../a..b");
    }
}
