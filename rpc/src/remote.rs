//! A go-micro error, as a node puts it in the `Micro-Error` header of a reply.
//!
//! Handlers that return go-micro's `errors.Error` send its JSON (`{"id","code","detail",
//! "status"}`, case 05; v4+ leaves empty fields out). The router's own failures (unknown
//! service or method, ill-formed endpoint, a proto decode error: cases 06–10 and 17) are a plain
//! string. Both are kept as sent, so a caller can show them as go-micro's and not as ours.

use std::fmt;

use serde::{Deserialize, Serialize};

/// go-micro's `errors.Error`. Absent fields are empty (v4+ omits them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct GoError {
    /// Who raised it (usually the service name, `go.micro.client`, `go.micro.server`).
    pub id: String,
    /// An HTTP-like status code (500, 404, 408, …).
    pub code: i64,
    /// The message.
    pub detail: String,
    /// The code's reason phrase (`Internal Server Error`).
    pub status: String,
}

/// The error a node answered with.
///
/// Written as `#[serde(untagged)]` (the error object, or the text). `Deserialize` is written
/// out, reading what that derive read without buffering the value first (serde's buffering is
/// a second copy of the reading code, which the browser's bundle carries too).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum RemoteError {
    /// A go-micro `errors.Error` (JSON in the header).
    Go(GoError),
    /// Any other text (the rpc router's own messages).
    Plain(String),
}

impl<'de> Deserialize<'de> for RemoteError {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::{self, value, MapAccess, SeqAccess, Visitor};

        struct Either;

        /// What serde's untagged derive says when no variant reads the value.
        fn no_variant<E: de::Error>(_: E) -> E {
            E::custom("data did not match any variant of untagged enum RemoteError")
        }

        impl<'de> Visitor<'de> for Either {
            type Value = RemoteError;

            fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
                formatter.write_str("a go-micro error object or a string")
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RemoteError, A::Error> {
                GoError::deserialize(value::MapAccessDeserializer::new(map))
                    .map(RemoteError::Go)
                    .map_err(no_variant)
            }

            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<RemoteError, A::Error> {
                GoError::deserialize(value::SeqAccessDeserializer::new(seq))
                    .map(RemoteError::Go)
                    .map_err(no_variant)
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<RemoteError, E> {
                Ok(RemoteError::Plain(text.to_string()))
            }

            fn visit_string<E: de::Error>(self, text: String) -> Result<RemoteError, E> {
                Ok(RemoteError::Plain(text))
            }

            fn visit_bytes<E: de::Error>(self, bytes: &[u8]) -> Result<RemoteError, E> {
                std::str::from_utf8(bytes)
                    .map(|text| RemoteError::Plain(text.to_string()))
                    .map_err(|_| no_variant(E::custom("not UTF-8")))
            }
        }

        deserializer.deserialize_any(Either)
    }
}

impl RemoteError {
    /// Reads a `Micro-Error` value: go-micro's error JSON when it is an object with at least
    /// one of its fields set, else the text itself.
    pub fn parse(text: &str) -> RemoteError {
        match serde_json::from_str::<GoError>(text) {
            Ok(error) if error != GoError::default() => RemoteError::Go(error),
            _ => RemoteError::Plain(text.to_string()),
        }
    }

    /// The message a person reads first: the detail of a go-micro error, or the text.
    pub fn detail(&self) -> &str {
        match self {
            RemoteError::Go(error) => &error.detail,
            RemoteError::Plain(text) => text,
        }
    }

    /// go-micro's rpc router had no handler of that name: `rpc: can't find service Debug`
    /// (v1.18 case 17, and every v4.8+ node, which registers no Debug handler), as the text or
    /// as the detail of an error.
    pub fn is_unknown_service(&self, service: &str) -> bool {
        self.detail() == format!("rpc: can't find service {service}")
    }
}

impl fmt::Display for RemoteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RemoteError::Go(error) => {
                write!(f, "{}", error.detail)?;
                if !error.id.is_empty() {
                    write!(f, " (from {}", error.id)?;
                    if error.code != 0 {
                        write!(f, ", code {}", error.code)?;
                    }
                    f.write_str(")")?;
                } else if error.code != 0 {
                    write!(f, " (code {})", error.code)?;
                }
                Ok(())
            }
            RemoteError::Plain(text) => f.write_str(text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_go_micro_error_json_is_read_field_by_field() {
        let error = RemoteError::parse(
            r#"{"id":"greeter","code":500,"detail":"boom","status":"Internal Server Error"}"#,
        );
        assert_eq!(
            error,
            RemoteError::Go(GoError {
                id: "greeter".into(),
                code: 500,
                detail: "boom".into(),
                status: "Internal Server Error".into(),
            })
        );
        assert_eq!(error.to_string(), "boom (from greeter, code 500)");
    }

    #[test]
    fn a_v5_error_without_empty_fields_is_still_a_go_micro_error() {
        let error = RemoteError::parse(r#"{"id":"greeter","code":500,"detail":"boom"}"#);
        assert!(matches!(error, RemoteError::Go(GoError { ref status, .. }) if status.is_empty()));
    }

    #[test]
    fn router_messages_and_other_json_stay_text() {
        for text in [
            "rpc: can't find method Nope",
            "{}",
            "[1,2]",
            r#"{"code":"x"}"#,
            "",
        ] {
            assert_eq!(RemoteError::parse(text), RemoteError::Plain(text.into()));
        }
    }

    /// The derive this type had, to compare readings with.
    #[derive(Debug, Serialize, Deserialize)]
    #[serde(untagged)]
    enum Derived {
        Go(GoError),
        Plain(String),
    }

    #[test]
    fn reads_what_the_untagged_derive_read() {
        for text in [
            r#"{"id":"greeter","code":500,"detail":"boom","status":"Internal Server Error"}"#,
            r#"{"id":"greeter","code":500}"#,
            r#"{}"#,
            r#"{"code":"x"}"#,
            r#"{"code":1,"code":2}"#,
            r#"{"other":[1,{"a":null}]}"#,
            r#"["greeter", 500, "boom", "Internal"]"#,
            r#"["greeter"]"#,
            r#"["greeter", 500, "boom", "Internal", 5]"#,
            r#"[]"#,
            r#""rpc: can't find method Nope""#,
            r#""esc\u0061ped""#,
            r#""""#,
            "5",
            "null",
            "true",
            "1.5",
            "{",
        ] {
            let derived = serde_json::from_str::<Derived>(text);
            let ours = serde_json::from_str::<RemoteError>(text);
            match (&derived, &ours) {
                (Ok(derived), Ok(ours)) => assert_eq!(
                    serde_json::to_string(derived).unwrap(),
                    serde_json::to_string(ours).unwrap(),
                    "{text}"
                ),
                (Err(_), Err(_)) => {}
                _ => panic!("{text}: derive {derived:?}, now {ours:?}"),
            }
            let derived = serde_json::from_slice::<Derived>(text.as_bytes()).map(|_| ());
            let ours = serde_json::from_slice::<RemoteError>(text.as_bytes()).map(|_| ());
            assert_eq!(derived.is_ok(), ours.is_ok(), "{text}");
        }
    }

    #[test]
    fn an_unknown_debug_service_is_recognised_in_both_shapes() {
        assert!(RemoteError::parse("rpc: can't find service Debug").is_unknown_service("Debug"));
        assert!(RemoteError::parse(
            r#"{"id":"go.micro.server","code":500,"detail":"rpc: can't find service Debug"}"#
        )
        .is_unknown_service("Debug"));
        assert!(!RemoteError::parse("rpc: can't find service Nope").is_unknown_service("Debug"));
    }
}
