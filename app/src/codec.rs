//! The encoding of every server function's answer: the same JSON bytes as Leptos's default
//! (`serde_json::to_vec`), read in the browser as text (`serde_json::from_str`).
//!
//! Why not the default: Leptos's `Json` reads an answer with `serde_json::from_slice`, while
//! the resources the server renders into the page, the websocket feeds and the JSON API's
//! answers are read with `serde_json::from_str`. Each reader is a separate copy of the
//! deserializing code of every type it reads (serde monomorphises per reader), so two readers
//! put every wire type in the bundle twice. One reader: one copy (BENCHMARKS.md, "Page weight").

use leptos::server_fn::codec::Post;
use leptos::server_fn::{Bytes, ContentType, Decodes, Encodes, Format, FormatType};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// JSON as text: [`Encodes`] like Leptos's `JsonEncoding`, [`Decodes`] with `from_str`.
pub struct JsonText;

impl ContentType for JsonText {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for JsonText {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for JsonText {
    type Error = serde_json::Error;

    fn encode(output: &T) -> Result<Bytes, Self::Error> {
        serde_json::to_vec(output).map(Bytes::from)
    }
}

impl<T: DeserializeOwned> Decodes<T> for JsonText {
    type Error = serde_json::Error;

    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        // JSON is UTF-8 (RFC 8259): `from_slice` refuses the same bodies, at its first
        // string with a bad byte instead of here.
        let text = std::str::from_utf8(&bytes).map_err(serde::de::Error::custom)?;
        serde_json::from_str(text)
    }
}

/// A server function's answer as [`JsonText`], in a `POST` response body (as `Json` does):
/// `#[server(prefix = "/rpc", output = JsonOut)]`.
pub type JsonOut = Post<JsonText>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_bytes_as_the_default_encoding_and_read_back() {
        use leptos::server_fn::codec::JsonEncoding;
        let value = crate::wire::EvictResponse {
            message: "goodbye sent — \"x\"".into(),
            reappeared: true,
        };
        let ours = <JsonText as Encodes<_>>::encode(&value).unwrap();
        let theirs = <JsonEncoding as Encodes<_>>::encode(&value).unwrap();
        assert_eq!(ours, theirs);
        let back: crate::wire::EvictResponse = <JsonText as Decodes<_>>::decode(ours).unwrap();
        assert_eq!(back, value);
        let bad = Bytes::from_static(b"{\"message\": \"\xff\", \"reappeared\": true}");
        assert!(<JsonText as Decodes<crate::wire::EvictResponse>>::decode(bad.clone()).is_err());
        assert!(<JsonEncoding as Decodes<crate::wire::EvictResponse>>::decode(bad).is_err());
    }
}
