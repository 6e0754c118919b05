//! Reading the wire's tagged enums and flattened structs without serde's buffering.
//!
//! `#[serde(tag = "…")]` and `#[serde(flatten)]` make serde's derived `Deserialize` read the
//! whole object into its private `Content` tree first, then deserialize every field again from
//! that tree: a second copy of the deserializing code of every type inside (a watch snapshot's
//! services, nodes, endpoints, schemas), about 90 KB of the browser's bundle, and a second pass
//! over each snapshot. The hand-written impls built on this module read the same JSON in one
//! pass instead: a tagged enum reads its tag and then the variant's fields from the rest of the
//! same object, a flattened struct reads one flat struct of all the fields. `Serialize` stays
//! derived, so the JSON written is unchanged; the tests beside each impl check that every input
//! reads as the derived impl read it.
//!
//! The tag is read first when it is the object's first key, as serde writes it. An object
//! whose tag comes later is collected (`serde_json::Value`), written again with its tag first
//! and read from that text, so it is accepted as before, at the cost of a second parse.
//!
//! Depends only on serde and serde_json: `wire.rs` uses it as `super::de`, and the fuzz
//! properties compile both files as siblings (registry/fuzz/properties/api_body.rs).

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeOwned, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// The rest of an object being read, as a deserializer of a struct (or map) of the remaining
/// keys: what a variant's fields are read from. A second tag among them is an error (serde's
/// derive refuses it too): each key is read as a string first, checked, then handed on.
pub struct RestOfMap<A> {
    map: A,
    tag: &'static str,
}

impl<'de, A: MapAccess<'de>> Deserializer<'de> for RestOfMap<A> {
    type Error = A::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, A::Error> {
        visitor.visit_map(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for RestOfMap<A> {
    type Error = A::Error;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        use serde::de::value::{BorrowedStrDeserializer, StrDeserializer};
        match self.map.next_key_seed(KeyText)? {
            None => Ok(None),
            Some(key) if key.as_ref() == self.tag => Err(de::Error::duplicate_field(self.tag)),
            Some(std::borrow::Cow::Borrowed(key)) => seed
                .deserialize(BorrowedStrDeserializer::new(key))
                .map(Some),
            Some(std::borrow::Cow::Owned(key)) => {
                seed.deserialize(StrDeserializer::new(&key)).map(Some)
            }
        }
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, A::Error> {
        self.map.next_value_seed(seed)
    }

    fn size_hint(&self) -> Option<usize> {
        self.map.size_hint()
    }
}

/// A key as text, borrowed from the input when it can be.
struct KeyText;

impl<'de> de::DeserializeSeed<'de> for KeyText {
    type Value = std::borrow::Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_identifier(self)
    }
}

impl<'de> Visitor<'de> for KeyText {
    type Value = std::borrow::Cow<'de, str>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a key")
    }

    fn visit_borrowed_str<E: de::Error>(self, key: &'de str) -> Result<Self::Value, E> {
        Ok(std::borrow::Cow::Borrowed(key))
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Self::Value, E> {
        Ok(std::borrow::Cow::Owned(key.to_string()))
    }

    fn visit_string<E: de::Error>(self, key: String) -> Result<Self::Value, E> {
        Ok(std::borrow::Cow::Owned(key))
    }

    fn visit_bytes<E: de::Error>(self, key: &[u8]) -> Result<Self::Value, E> {
        Ok(std::borrow::Cow::Owned(
            String::from_utf8_lossy(key).into_owned(),
        ))
    }
}

/// Reads a unit variant from the rest of its object or array, as serde's derive reads it: the
/// object's other keys are ignored, an array must end there.
pub fn unit<'de, D: Deserializer<'de>>(rest: D) -> Result<(), D::Error> {
    rest.deserialize_any(UnitVisitor)
}

struct UnitVisitor;

impl<'de> Visitor<'de> for UnitVisitor {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a unit variant")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _seq: A) -> Result<(), A::Error> {
        // Left unread, as serde's derive leaves it: the array's end then fails on any extra.
        Ok(())
    }
}

/// An enum tagged by a key of its object (`#[serde(tag = TAG)]`), read by [`tagged`].
pub trait Tagged: Sized + DeserializeOwned {
    /// The key that names the variant.
    const TAG: &'static str;
    /// The variants' names, in declaration order (a numeric tag is an index into them).
    const VARIANTS: &'static [&'static str];
    /// What the error messages call it (`internally tagged enum WatchMessage`).
    const EXPECTING: &'static str;

    /// The variant named `variant` (one of [`Tagged::VARIANTS`]) from `rest`: the object's
    /// other keys ([`RestOfMap`]), or the array's other elements (`[tag, …]`, which serde's
    /// derive reads too: serde's `SeqAccessDeserializer`). A unit variant reads it with [`unit`].
    fn variant<'de, D: Deserializer<'de>>(variant: &str, rest: D) -> Result<Self, D::Error>;
}

/// Reads a [`Tagged`] enum.
pub fn tagged<'de, D: Deserializer<'de>, T: Tagged>(deserializer: D) -> Result<T, D::Error> {
    deserializer.deserialize_any(TaggedVisitor(PhantomData))
}

struct TaggedVisitor<T>(PhantomData<T>);

impl<'de, T: Tagged> Visitor<'de> for TaggedVisitor<T> {
    type Value = T;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str(T::EXPECTING)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        match map.next_key_seed(KeySeed(T::TAG))? {
            None => Err(de::Error::missing_field(T::TAG)),
            Some(Key::Tag) => {
                let variant = map.next_value_seed(VariantSeed::<T>(PhantomData))?;
                T::variant(variant, RestOfMap { map, tag: T::TAG })
            }
            Some(Key::Other(first)) => tag_later(first, map),
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<T, A::Error> {
        match seq.next_element_seed(VariantSeed::<T>(PhantomData))? {
            None => Err(de::Error::missing_field(T::TAG)),
            Some(variant) => T::variant(variant, de::value::SeqAccessDeserializer::new(seq)),
        }
    }
}

/// An object whose tag is not its first key: collected, written again tag first (the other
/// keys in their order, repeated ones too), read again.
fn tag_later<'de, A: MapAccess<'de>, T: Tagged>(first: String, mut map: A) -> Result<T, A::Error> {
    use serde_json::Value;
    let mut fields: Vec<(String, Value)> = Vec::new();
    let mut tag = None;
    let mut key = Some(Key::Other(first));
    while let Some(next) = key {
        match next {
            Key::Tag if tag.is_some() => return Err(de::Error::duplicate_field(T::TAG)),
            Key::Tag => {
                tag = Some(map.next_value_seed(VariantSeed::<T>(PhantomData))?);
            }
            Key::Other(name) => {
                let value: Value = map.next_value()?;
                fields.push((name, value));
            }
        }
        key = map.next_key_seed(KeySeed(T::TAG))?;
    }
    let Some(tag) = tag else {
        return Err(de::Error::missing_field(T::TAG));
    };
    let mut text = String::from("{");
    let mut write = |key: &str, value: &Value| -> Result<(), serde_json::Error> {
        if text.len() > 1 {
            text.push(',');
        }
        text.push_str(&serde_json::to_string(key)?);
        text.push(':');
        text.push_str(&serde_json::to_string(value)?);
        Ok(())
    };
    write(T::TAG, &Value::String(tag.to_string())).map_err(de::Error::custom)?;
    for (key, value) in &fields {
        write(key, value).map_err(de::Error::custom)?;
    }
    text.push('}');
    serde_json::from_str(&text).map_err(de::Error::custom)
}

/// A key of a tagged object: the tag, or another key.
enum Key {
    Tag,
    Other(String),
}

struct KeySeed(&'static str);

impl<'de> de::DeserializeSeed<'de> for KeySeed {
    type Value = Key;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Key, D::Error> {
        deserializer.deserialize_identifier(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Key;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Key, E> {
        Ok(if key == self.0 {
            Key::Tag
        } else {
            Key::Other(key.to_string())
        })
    }

    fn visit_bytes<E: de::Error>(self, key: &[u8]) -> Result<Key, E> {
        Ok(if key == self.0.as_bytes() {
            Key::Tag
        } else {
            Key::Other(String::from_utf8_lossy(key).into_owned())
        })
    }
}

/// The tag's value: a variant's name (or its index, as serde's derive also takes), checked
/// against [`Tagged::VARIANTS`].
struct VariantSeed<T>(PhantomData<T>);

impl<'de, T: Tagged> de::DeserializeSeed<'de> for VariantSeed<T> {
    type Value = &'static str;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_identifier(self)
    }
}

impl<'de, T: Tagged> Visitor<'de> for VariantSeed<T> {
    type Value = &'static str;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("variant identifier")
    }

    fn visit_u64<E: de::Error>(self, index: u64) -> Result<Self::Value, E> {
        usize::try_from(index)
            .ok()
            .and_then(|index| T::VARIANTS.get(index).copied())
            .ok_or_else(|| {
                E::invalid_value(
                    de::Unexpected::Unsigned(index),
                    &format!("variant index 0 <= i < {}", T::VARIANTS.len()).as_str(),
                )
            })
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<Self::Value, E> {
        T::VARIANTS
            .iter()
            .copied()
            .find(|variant| *variant == name)
            .ok_or_else(|| E::unknown_variant(name, T::VARIANTS))
    }

    fn visit_bytes<E: de::Error>(self, name: &[u8]) -> Result<Self::Value, E> {
        match std::str::from_utf8(name) {
            Ok(name) => self.visit_str(name),
            Err(_) => Err(E::unknown_variant(
                &String::from_utf8_lossy(name),
                T::VARIANTS,
            )),
        }
    }
}

/// Reads a struct of `F`, the flat form of a struct with `#[serde(flatten)]` fields, from an
/// object only (as the flattened struct's derive did: no array form).
pub fn flat<'de, D: Deserializer<'de>, F: de::Deserialize<'de>>(
    deserializer: D,
    expecting: &'static str,
) -> Result<F, D::Error> {
    deserializer.deserialize_map(FlatVisitor(expecting, PhantomData))
}

struct FlatVisitor<F>(&'static str, PhantomData<F>);

impl<'de, F: de::Deserialize<'de>> Visitor<'de> for FlatVisitor<F> {
    type Value = F;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str(self.0)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<F, A::Error> {
        F::deserialize(de::value::MapAccessDeserializer::new(map))
    }
}

/// `null` or an absent key: the empty value (what `muster_registry`'s model reads for Go's nil).
pub fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + de::Deserialize<'de>,
{
    Ok(<Option<T> as de::Deserialize>::deserialize(deserializer)?.unwrap_or_default())
}
