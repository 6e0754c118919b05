//! Version strings in the order an operator reads them: newest first, by semantic version
//! where the strings are semantic versions (`1.10.0` after `1.9.2`, `2.0.0-rc.1` before
//! `2.0.0`), by plain text where they are not.

use std::cmp::Ordering;

/// `a` before `b` when `a` is the newer version (a comparator for `sort_by`).
pub fn newest_first(a: &str, b: &str) -> Ordering {
    compare(b, a)
}

/// Oldest-to-newest order of two version strings.
pub fn compare(a: &str, b: &str) -> Ordering {
    let (a_core, a_pre) = split(a);
    let (b_core, b_pre) = split(b);
    compare_dotted(a_core, b_core)
        // A release is newer than its pre-releases.
        .then_with(|| match (a_pre, b_pre) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(a), Some(b)) => compare_dotted(a, b),
        })
        // Distinct strings never compare equal, so the order is total and stable.
        .then_with(|| a.cmp(b))
}

/// The version without a leading `v` and build metadata, split at its pre-release part.
fn split(version: &str) -> (&str, Option<&str>) {
    let version = version.strip_prefix(['v', 'V']).unwrap_or(version);
    let version = version.split_once('+').map_or(version, |(core, _)| core);
    match version.split_once('-') {
        Some((core, pre)) => (core, Some(pre)),
        None => (version, None),
    }
}

/// Dot-separated parts compared one by one: numbers as numbers (and below words), words as
/// text; a prefix is older than what extends it.
fn compare_dotted(a: &str, b: &str) -> Ordering {
    let mut a_parts = a.split('.');
    let mut b_parts = b.split('.');
    loop {
        match (a_parts.next(), b_parts.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(a), Some(b)) => {
                let order = match (a.parse::<u64>(), b.parse::<u64>()) {
                    (Ok(a), Ok(b)) => a.cmp(&b),
                    (Ok(_), Err(_)) => Ordering::Less,
                    (Err(_), Ok(_)) => Ordering::Greater,
                    (Err(_), Err(_)) => a.cmp(b),
                };
                if order != Ordering::Equal {
                    return order;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(versions: &[&str]) -> Vec<String> {
        let mut versions: Vec<String> = versions.iter().map(|v| v.to_string()).collect();
        versions.sort_by(|a, b| newest_first(a, b));
        versions
    }

    #[test]
    fn numbers_compare_as_numbers_newest_first() {
        assert_eq!(
            sorted(&["1.9.2", "1.10.0", "0.1.0", "v2.0.0", "latest"]),
            ["latest", "v2.0.0", "1.10.0", "1.9.2", "0.1.0"]
        );
    }

    #[test]
    fn a_release_is_newer_than_its_pre_releases() {
        assert_eq!(
            sorted(&["2.0.0-rc.1", "2.0.0", "2.0.0-rc.2", "1.0.0"]),
            ["2.0.0", "2.0.0-rc.2", "2.0.0-rc.1", "1.0.0"]
        );
    }

    #[test]
    fn distinct_strings_never_tie() {
        assert_ne!(compare("1.0", "1.0.0+build"), Ordering::Equal);
        assert_eq!(compare("1.0.0", "1.0.0"), Ordering::Equal);
    }
}
