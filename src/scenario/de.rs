//! A serde `Deserializer` over the positioned node tree, so that the raw structs of
//! `raw.rs` are plain `#[derive(Deserialize)]` and every error still knows its key path
//! and line:col.
//!
//! An error is created deep inside serde without any context; each layer here attaches
//! its own path and position only if none is set yet, so the innermost (most precise)
//! one wins. CloudFormation intrinsics are read as placeholder strings where a string is
//! expected, and each such place is recorded in the context as a warning.

use std::cell::RefCell;
use std::fmt;

use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, Unexpected,
    VariantAccess, Visitor,
};

use super::node::{Body, Entry, Loc, Node};

/// What deserialization learned besides the value: where intrinsics were read as
/// placeholders.
#[derive(Default)]
pub(crate) struct Ctx {
    pub placeholders: RefCell<Vec<(String, Loc)>>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DeError {
    pub message: String,
    pub allowed: Option<String>,
    pub path: Option<String>,
    pub loc: Option<Loc>,
    /// `missing_field`: the key that is absent (its path is the parent's plus this).
    pub missing: Option<&'static str>,
}

impl DeError {
    fn msg(message: String) -> Self {
        DeError {
            message,
            allowed: None,
            path: None,
            loc: None,
            missing: None,
        }
    }

    /// Sets the place if no deeper layer did.
    fn at(mut self, path: &str, loc: Loc) -> Self {
        if self.path.is_none() {
            self.path = Some(match self.missing {
                Some(key) => join_key(path, key),
                None => path.to_owned(),
            });
            self.loc = Some(loc);
        }
        self
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeError {}

/// Words for what serde expected, in the file format's terms.
fn expected_words(exp: &dyn de::Expected) -> String {
    let e = exp.to_string();
    if e.starts_with("struct ") || e.starts_with("map") {
        return "a mapping".to_owned();
    }
    match e.as_str() {
        "i8" | "i16" | "i32" | "i64" | "i128" | "u8" | "u16" | "u32" | "u64" | "u128" => {
            "a whole number".to_owned()
        }
        "f32" | "f64" => "a number".to_owned(),
        "a boolean" => "true or false".to_owned(),
        "a string" | "string" => "a string".to_owned(),
        "a sequence" => "a list".to_owned(),
        _ => e,
    }
}

fn unexpected_words(u: &Unexpected) -> String {
    match u {
        Unexpected::Unit => "nothing (null)".to_owned(),
        Unexpected::Map => "a mapping".to_owned(),
        Unexpected::Seq => "a list".to_owned(),
        other => other.to_string(),
    }
}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError::msg(msg.to_string())
    }
    fn invalid_type(unexp: Unexpected, exp: &dyn de::Expected) -> Self {
        DeError::msg(format!(
            "expected {}, found {}",
            expected_words(exp),
            unexpected_words(&unexp)
        ))
    }
    fn invalid_value(unexp: Unexpected, exp: &dyn de::Expected) -> Self {
        DeError::msg(format!(
            "expected {}, found {}",
            expected_words(exp),
            unexpected_words(&unexp)
        ))
    }
    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        let squash = |s: &str| s.to_ascii_lowercase().replace(['_', '-'], "");
        let hint = expected
            .iter()
            .find(|e| squash(e) == squash(field))
            .map(|e| format!(" (did you mean `{e}`?)"))
            .unwrap_or_default();
        let mut e = DeError::msg(format!("unknown key `{field}`{hint}"));
        e.allowed = Some(expected.join(", "));
        e
    }
    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        let mut e = DeError::msg(format!("unknown value `{variant}`"));
        e.allowed = Some(expected.join(", "));
        e
    }
    fn missing_field(field: &'static str) -> Self {
        let mut e = DeError::msg("missing required key".to_owned());
        e.missing = Some(field);
        e
    }
}

pub(crate) fn join_key(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

/// Deserializes one node.
pub(crate) struct De<'a> {
    pub node: &'a Node,
    pub path: String,
    pub ctx: &'a Ctx,
}

impl<'a> De<'a> {
    pub(crate) fn new(node: &'a Node, path: String, ctx: &'a Ctx) -> Self {
        De { node, path, ctx }
    }

    fn unexpected(&self) -> Unexpected<'a> {
        match &self.node.body {
            Body::Null => Unexpected::Unit,
            Body::Bool(b) => Unexpected::Bool(*b),
            Body::Int(i) => Unexpected::Signed(*i),
            Body::UInt(u) => Unexpected::Unsigned(*u),
            Body::Float(f) => Unexpected::Float(*f),
            Body::Str(s) => Unexpected::Str(s),
            Body::Seq(_) => Unexpected::Seq,
            Body::Map(_) => Unexpected::Map,
        }
    }

    fn type_error(&self, exp: &dyn de::Expected) -> DeError {
        if let Some(name) = self.node.intrinsic() {
            return DeError::msg(format!(
                "CloudFormation intrinsic `{name}` where {} is needed: kinesim cannot resolve \
                 it, write the value itself",
                expected_words(exp)
            ));
        }
        de::Error::invalid_type(self.unexpected(), exp)
    }

    fn placeholder(&self) -> String {
        self.ctx
            .placeholders
            .borrow_mut()
            .push((self.path.clone(), self.node.loc));
        self.node.placeholder()
    }

    fn place<T>(&self, r: Result<T, DeError>) -> Result<T, DeError> {
        r.map_err(|e| e.at(&self.path, self.node.loc))
    }

    fn integer<'de, V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        let r = match (&self.node.body, self.node.intrinsic()) {
            (Body::Int(i), None) => v.visit_i64(*i),
            (Body::UInt(u), None) => v.visit_u64(*u),
            _ => Err(self.type_error(&v)),
        };
        self.place(r)
    }

    fn string<'de, V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        if self.node.intrinsic().is_some() {
            let s = self.placeholder();
            let r = v.visit_string(s);
            return self.place(r);
        }
        let r = match &self.node.body {
            Body::Str(s) => v.visit_str(s),
            // A number or boolean where text is expected is its text (`partition_key: 5`);
            // a unit-less number then gets the units' own "no unit" message.
            Body::Int(_) | Body::UInt(_) | Body::Float(_) | Body::Bool(_) => {
                v.visit_string(super::node::body_text(&self.node.body))
            }
            _ => Err(self.type_error(&v)),
        };
        self.place(r)
    }
}

impl<'de> Deserializer<'de> for De<'_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        if self.node.intrinsic().is_some() {
            return self.string(v);
        }
        let r = match &self.node.body {
            Body::Null => v.visit_unit(),
            Body::Bool(b) => v.visit_bool(*b),
            Body::Int(i) => v.visit_i64(*i),
            Body::UInt(u) => v.visit_u64(*u),
            Body::Float(f) => v.visit_f64(*f),
            Body::Str(s) => v.visit_str(s),
            Body::Seq(items) => v.visit_seq(Seq::new(items, &self.path, self.ctx)),
            Body::Map(es) => v.visit_map(Map::new(es, &self.path, self.ctx)),
        };
        self.place(r)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        let r = match (&self.node.body, self.node.intrinsic()) {
            (Body::Bool(b), None) => v.visit_bool(*b),
            _ => Err(self.type_error(&v)),
        };
        self.place(r)
    }

    fn deserialize_i8<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.integer(v)
    }
    fn deserialize_i16<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.integer(v)
    }
    fn deserialize_i32<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.integer(v)
    }
    fn deserialize_i64<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.integer(v)
    }
    fn deserialize_u8<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.integer(v)
    }
    fn deserialize_u16<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.integer(v)
    }
    fn deserialize_u32<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.integer(v)
    }
    fn deserialize_u64<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.integer(v)
    }

    fn deserialize_f32<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.deserialize_f64(v)
    }
    fn deserialize_f64<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        let r = match (&self.node.body, self.node.intrinsic()) {
            (Body::Int(i), None) => v.visit_i64(*i),
            (Body::UInt(u), None) => v.visit_u64(*u),
            (Body::Float(f), None) => v.visit_f64(*f),
            _ => Err(self.type_error(&v)),
        };
        self.place(r)
    }

    fn deserialize_char<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.string(v)
    }
    fn deserialize_str<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.string(v)
    }
    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.string(v)
    }
    fn deserialize_bytes<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.string(v)
    }
    fn deserialize_byte_buf<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.string(v)
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        if self.node.is_null() {
            let r = v.visit_none();
            self.place(r)
        } else {
            let path = self.path.clone();
            let loc = self.node.loc;
            v.visit_some(self).map_err(|e| e.at(&path, loc))
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        let r = if self.node.is_null() {
            v.visit_unit()
        } else {
            Err(self.type_error(&v))
        };
        self.place(r)
    }
    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        v: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_unit(v)
    }
    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        v: V,
    ) -> Result<V::Value, DeError> {
        let path = self.path.clone();
        let loc = self.node.loc;
        v.visit_newtype_struct(self).map_err(|e| e.at(&path, loc))
    }

    fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        let r = match (&self.node.body, self.node.intrinsic()) {
            (Body::Seq(items), None) => v.visit_seq(Seq::new(items, &self.path, self.ctx)),
            _ => Err(self.type_error(&v)),
        };
        self.place(r)
    }
    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, v: V) -> Result<V::Value, DeError> {
        self.deserialize_seq(v)
    }
    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        v: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(v)
    }

    fn deserialize_map<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        let r = match (&self.node.body, self.node.intrinsic()) {
            (Body::Map(es), None) => v.visit_map(Map::new(es, &self.path, self.ctx)),
            _ => Err(self.type_error(&v)),
        };
        self.place(r)
    }
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, DeError> {
        let r = match (&self.node.body, self.node.intrinsic()) {
            (Body::Map(es), None) => v.visit_map(Map::new(es, &self.path, self.ctx)),
            _ => {
                let mut e = self.type_error(&"a mapping");
                e.allowed = Some(format!("a mapping with keys {}", fields.join(", ")));
                Err(e)
            }
        };
        self.place(r)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, DeError> {
        let r = match (&self.node.body, self.node.intrinsic()) {
            (Body::Str(s), None) => v.visit_enum(UnitEnum {
                name: s,
                path: &self.path,
                loc: self.node.loc,
            }),
            (Body::Map(es), None) if es.len() == 1 => match es.first() {
                Some(entry) => v.visit_enum(MapEnum {
                    entry,
                    path: &self.path,
                    ctx: self.ctx,
                }),
                None => Err(self.type_error(&v)),
            },
            _ => {
                let mut e = self.type_error(&"one of the listed values");
                e.allowed = Some(variants.join(", "));
                Err(e)
            }
        };
        self.place(r)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        self.string(v)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        let r = v.visit_unit();
        self.place(r)
    }
}

/// A key, deserialized as the identifier of a struct field or enum variant.
struct Key<'a> {
    name: &'a str,
    path: String,
    loc: Loc,
}

impl<'de> Deserializer<'de> for Key<'_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, DeError> {
        v.visit_str(self.name)
            .map_err(|e: DeError| e.at(&self.path, self.loc))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

struct Seq<'a> {
    items: std::slice::Iter<'a, Node>,
    index: usize,
    path: &'a str,
    ctx: &'a Ctx,
}

impl<'a> Seq<'a> {
    fn new(items: &'a [Node], path: &'a str, ctx: &'a Ctx) -> Self {
        Seq {
            items: items.iter(),
            index: 0,
            path,
            ctx,
        }
    }
}

impl<'de> SeqAccess<'de> for Seq<'_> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        let Some(node) = self.items.next() else {
            return Ok(None);
        };
        let path = format!("{}[{}]", self.path, self.index);
        self.index += 1;
        seed.deserialize(De::new(node, path, self.ctx)).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct Map<'a> {
    entries: std::slice::Iter<'a, Entry>,
    current: Option<&'a Entry>,
    path: &'a str,
    ctx: &'a Ctx,
}

impl<'a> Map<'a> {
    fn new(entries: &'a [Entry], path: &'a str, ctx: &'a Ctx) -> Self {
        Map {
            entries: entries.iter(),
            current: None,
            path,
            ctx,
        }
    }
}

impl<'de> MapAccess<'de> for Map<'_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some(entry) = self.entries.next() else {
            return Ok(None);
        };
        self.current = Some(entry);
        seed.deserialize(Key {
            name: &entry.key,
            path: join_key(self.path, &entry.key),
            loc: entry.key_loc,
        })
        .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let Some(entry) = self.current.take() else {
            return Err(DeError::msg("a value without a key".to_owned()));
        };
        seed.deserialize(De::new(
            &entry.value,
            join_key(self.path, &entry.key),
            self.ctx,
        ))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// `effect: error`: a variant named by a string.
struct UnitEnum<'a> {
    name: &'a str,
    path: &'a str,
    loc: Loc,
}

impl<'de, 'a> EnumAccess<'de> for UnitEnum<'a> {
    type Error = DeError;
    type Variant = UnitOnly;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, UnitOnly), DeError> {
        let v = seed.deserialize(Key {
            name: self.name,
            path: self.path.to_owned(),
            loc: self.loc,
        })?;
        Ok((v, UnitOnly))
    }
}

struct UnitOnly;

impl<'de> VariantAccess<'de> for UnitOnly {
    type Error = DeError;

    fn unit_variant(self) -> Result<(), DeError> {
        Ok(())
    }
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, _seed: T) -> Result<T::Value, DeError> {
        Err(de::Error::invalid_type(
            Unexpected::UnitVariant,
            &"a mapping `{name: value}`",
        ))
    }
    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, _v: V) -> Result<V::Value, DeError> {
        Err(de::Error::invalid_type(
            Unexpected::UnitVariant,
            &"a mapping `{name: [..]}`",
        ))
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        _v: V,
    ) -> Result<V::Value, DeError> {
        Err(de::Error::invalid_type(
            Unexpected::UnitVariant,
            &"a mapping `{name: {..}}`",
        ))
    }
}

/// `effect: {respond: ...}`: a variant named by the only key of a mapping.
struct MapEnum<'a> {
    entry: &'a Entry,
    path: &'a str,
    ctx: &'a Ctx,
}

impl<'de, 'a> EnumAccess<'de> for MapEnum<'a> {
    type Error = DeError;
    type Variant = De<'a>;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, De<'a>), DeError> {
        let path = join_key(self.path, &self.entry.key);
        let v = seed.deserialize(Key {
            name: &self.entry.key,
            path: path.clone(),
            loc: self.entry.key_loc,
        })?;
        Ok((v, De::new(&self.entry.value, path, self.ctx)))
    }
}

impl<'de> VariantAccess<'de> for De<'_> {
    type Error = DeError;

    fn unit_variant(self) -> Result<(), DeError> {
        if self.node.is_null() {
            Ok(())
        } else {
            Err(self.type_error(&"nothing").at(&self.path, self.node.loc))
        }
    }
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, DeError> {
        seed.deserialize(self)
    }
    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, v: V) -> Result<V::Value, DeError> {
        self.deserialize_seq(v)
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_struct("", fields, v)
    }
}

/// Deserializes `T` from a node, with the path prefix `path`.
pub(crate) fn from_node<T: de::DeserializeOwned>(
    node: &Node,
    path: &str,
    ctx: &Ctx,
) -> Result<T, DeError> {
    T::deserialize(De::new(node, path.to_owned(), ctx))
}
