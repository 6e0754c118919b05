//! The services list's search: what a user types, parsed into terms, and the compact text of
//! one service the terms are matched against.
//!
//! The text is kept with the service's summary (by the console's view on the server, by the
//! live store in the browser) and rebuilt only when that service changes, so a keystroke
//! scans one short string per service, never the nodes behind it.
//!
//! - `order user`: every whitespace-separated term must match (AND), each a case-insensitive
//!   part of the name, a version, an endpoint name, a node address or a metadata value.
//! - `server=grpc`: the service's or one of its nodes' metadata has `server` set to `grpc`
//!   (`key=` alone: the key is set, to anything).
//! - `go.micro.srv.*`: a `*` makes the term a glob over whole fields (`*` is any run of
//!   characters), here every field that starts with `go.micro.srv.`; in a value too
//!   (`version=1.*`).

use serde::{Deserialize, Serialize};

/// What one service is searched by, lowercased: its fields and its metadata pairs, each on a
/// line of its own (a `\n` before and after each), duplicates dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchText {
    /// `\nname\nendpoint\naddress\nvalue\n`.
    fields: String,
    /// `\nkey=value\nkey=value\n`.
    pairs: String,
}

impl SearchText {
    /// The text of a service with these `fields` (name, versions, endpoint names, addresses,
    /// metadata values) and metadata `pairs` (service and nodes together).
    pub fn new<'a>(
        fields: impl IntoIterator<Item = &'a str>,
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Self {
        let mut fields: Vec<String> = fields
            .into_iter()
            .filter(|field| !field.is_empty())
            .map(line)
            .collect();
        fields.sort_unstable();
        fields.dedup();
        let mut pairs: Vec<String> = pairs
            .into_iter()
            .map(|(key, value)| line(&format!("{key}={value}")))
            .collect();
        pairs.sort_unstable();
        pairs.dedup();
        SearchText {
            fields: lines(&fields),
            pairs: lines(&pairs),
        }
    }

    /// The values metadata key `key` (lowercase) has on the service or its nodes.
    pub fn values_of<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.pairs.split('\n').filter_map(move |pair| {
            pair.strip_prefix(key)
                .and_then(|rest| rest.strip_prefix('='))
        })
    }
}

/// One field as a line: lowercased, with any line break inside made a space.
fn line(field: &str) -> String {
    field.to_lowercase().replace(['\n', '\r'], " ")
}

/// `\na\nb\n` for `[a, b]` (`\n` alone when empty).
fn lines(items: &[String]) -> String {
    let mut text = String::from("\n");
    for item in items {
        text.push_str(item);
        text.push('\n');
    }
    text
}

/// One term of a search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Term {
    /// A part of any field.
    Part(String),
    /// A whole field, `*` being any run of characters.
    Glob(String),
    /// Metadata `key` set to `value` (a glob when it holds a `*`; empty: set to anything).
    Pair {
        /// The metadata key.
        key: String,
        /// The value, or its pattern.
        value: String,
    },
}

impl Term {
    /// Whether `text` matches this term.
    pub fn matches(&self, text: &SearchText) -> bool {
        match self {
            Term::Part(part) => text.fields.contains(part.as_str()),
            Term::Glob(pattern) => match pattern.strip_suffix('*') {
                // The common case, `prefix*`, needs no walk over the fields.
                Some(prefix) if !prefix.contains('*') => {
                    text.fields.contains(&format!("\n{prefix}"))
                }
                _ => text
                    .fields
                    .split('\n')
                    .any(|field| !field.is_empty() && glob(pattern, field)),
            },
            Term::Pair { key, value } if value.is_empty() => text.values_of(key).next().is_some(),
            Term::Pair { key, value } if value.contains('*') => {
                text.values_of(key).any(|found| glob(value, found))
            }
            Term::Pair { key, value } => text.pairs.contains(&format!("\n{key}={value}\n")),
        }
    }
}

/// A parsed search: every term must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Search {
    terms: Vec<Term>,
}

impl Search {
    /// Parses what the user typed (case-insensitive; blank: matches everything).
    pub fn parse(text: &str) -> Self {
        let terms = text
            .split_whitespace()
            .map(str::to_lowercase)
            .filter(|term| term != "*")
            .map(|term| match term.split_once('=') {
                Some((key, value)) if !key.is_empty() => Term::Pair {
                    key: key.to_string(),
                    value: value.to_string(),
                },
                _ if term.contains('*') => Term::Glob(term),
                _ => Term::Part(term),
            })
            .collect();
        Search { terms }
    }

    /// Nothing to search for: everything matches.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// The terms, in the order typed.
    pub fn terms(&self) -> &[Term] {
        &self.terms
    }

    /// Whether every term matches `text`.
    pub fn matches(&self, text: &SearchText) -> bool {
        self.terms.iter().all(|term| term.matches(text))
    }
}

/// Whether `text` is all of `pattern`, where `*` stands for any run of characters.
fn glob(pattern: &str, text: &str) -> bool {
    let mut pieces = pattern.split('*');
    let first = pieces.next().unwrap_or_default();
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let pieces: Vec<&str> = pieces.collect();
    let Some((last, middle)) = pieces.split_last() else {
        return rest.is_empty(); // no `*` at all: the whole text
    };
    for piece in middle {
        match rest.find(piece) {
            Some(at) => rest = &rest[at + piece.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order_service() -> SearchText {
        SearchText::new(
            [
                "go.micro.srv.Order",
                "1.2.0",
                "Orders.Place",
                "Orders.Cancel",
                "10.0.0.7:8080",
                "grpc",
                "http",
            ],
            [
                ("server", "grpc"),
                ("transport", "http"),
                ("registry", "mdns"),
            ],
        )
    }

    fn hits(search: &str) -> bool {
        Search::parse(search).matches(&order_service())
    }

    #[test]
    fn parses_parts_globs_and_pairs() {
        assert_eq!(
            Search::parse("  Order  server=GRPC go.micro.* * ").terms(),
            [
                Term::Part("order".into()),
                Term::Pair {
                    key: "server".into(),
                    value: "grpc".into()
                },
                Term::Glob("go.micro.*".into()),
            ]
        );
        assert!(Search::parse(" \t ").is_empty());
        assert!(Search::parse("*").is_empty(), "a lone * is everything");
        assert_eq!(Search::parse("=x").terms(), [Term::Part("=x".into())]);
    }

    #[test]
    fn every_term_must_match() {
        assert!(hits(""));
        assert!(hits("order"));
        assert!(hits("ORDER place"), "name and endpoint, case-insensitively");
        assert!(hits("10.0.0.7"), "an address");
        assert!(hits("orders.cancel 1.2"), "an endpoint and a version");
        assert!(!hits("order user"), "AND, not OR");
        assert!(
            !hits("micro.srv.order.place"),
            "a part stays within one field"
        );
    }

    #[test]
    fn key_value_matches_metadata_exactly() {
        assert!(hits("server=grpc"));
        assert!(hits("transport=HTTP order"));
        assert!(!hits("server=grp"), "a value is whole");
        assert!(!hits("transport=grpc"), "the value of that key");
        assert!(!hits("broker=http"));
        assert!(hits("registry="), "an empty value: the key is set");
        assert!(!hits("broker="));
        assert!(hits("server=g*"));
        assert!(!hits("server=h*"));
    }

    #[test]
    fn a_star_globs_whole_fields() {
        assert!(hits("go.micro.srv.*"));
        assert!(!hits("go.micro.api.*"));
        assert!(hits("*.cancel"), "a suffix");
        assert!(hits("go.*.order"), "inside");
        assert!(!hits("go.*.user"));
        assert!(!hits("micro.srv.*"), "anchored at the field's start");
        assert!(hits("10.0.0.*:8080"));
    }

    #[test]
    fn glob_is_anchored_at_both_ends() {
        assert!(glob("a*c", "abc"));
        assert!(glob("a*c", "ac"));
        assert!(!glob("a*c", "abcd"));
        assert!(glob("a*b*c", "axxbyyc"));
        assert!(!glob("a*b*c", "axxcyyb"));
        assert!(glob("abc", "abc"));
        assert!(!glob("ab", "abc"));
        assert!(glob("*", ""));
    }

    #[test]
    fn values_of_reads_one_key() {
        let text = order_service();
        assert_eq!(text.values_of("server").collect::<Vec<_>>(), ["grpc"]);
        assert_eq!(text.values_of("serve").count(), 0, "not a key's prefix");
        let mixed = SearchText::new(
            ["a"],
            [("server", "grpc"), ("server", "mucp"), ("server", "grpc")],
        );
        assert_eq!(
            mixed.values_of("server").collect::<Vec<_>>(),
            ["grpc", "mucp"]
        );
    }
}
