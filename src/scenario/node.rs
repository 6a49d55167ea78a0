//! The scenario document as a tree of positioned nodes: what the parser read, before any
//! meaning is given to it.
//!
//! serde-saphyr does the YAML work (JSON is read as YAML, of which it is a subset), with
//! its budget against alias bombs and deep nesting (64 levels), so the recursive functions
//! here never go deeper than that. Each node keeps its line:col and its tag, so that
//! variants can be merged as JSON merge patches (RFC 7386) on the tree while every value
//! keeps the position it was written at, and validation can point at any value by its
//! key path.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{Spanned, Tagged};

/// 1-based line and column.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Loc {
    pub line: u64,
    pub col: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Node {
    pub loc: Loc,
    /// A local tag such as `!Ref` (the YAML core tags `!!str` etc. are dropped).
    pub tag: Option<String>,
    pub body: Body,
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Body {
    Null,
    Bool(bool),
    Int(i64),
    /// Integers above i64::MAX.
    UInt(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Entry {
    pub key: String,
    pub key_loc: Loc,
    pub value: Node,
}

/// The CloudFormation intrinsic functions, as `!Short` tags or `Fn::Long` keys.
const INTRINSICS: &[&str] = &[
    "Ref",
    "Condition",
    "Base64",
    "Cidr",
    "FindInMap",
    "GetAtt",
    "GetAZs",
    "ImportValue",
    "Join",
    "Select",
    "Split",
    "Sub",
    "Transform",
    "And",
    "Equals",
    "If",
    "Not",
    "Or",
    "Length",
    "ToJsonString",
];

impl Node {
    pub(crate) fn new(loc: Loc, body: Body) -> Node {
        Node {
            loc,
            tag: None,
            body,
        }
    }

    pub(crate) fn is_null(&self) -> bool {
        matches!(self.body, Body::Null) && self.tag.is_none()
    }

    pub(crate) fn entries(&self) -> Option<&[Entry]> {
        match &self.body {
            Body::Map(e) => Some(e),
            _ => None,
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<&Node> {
        self.entries()?
            .iter()
            .find(|e| e.key == key)
            .map(|e| &e.value)
    }

    /// A pasted CloudFormation intrinsic (`!Ref X`, `{"Fn::GetAtt": [...]}`,
    /// `{"Ref": "X"}`): its name, e.g. `Ref` or `GetAtt`.
    pub(crate) fn intrinsic(&self) -> Option<&str> {
        if let Some(tag) = &self.tag {
            let name = tag.strip_prefix('!').unwrap_or(tag);
            return INTRINSICS.iter().copied().find(|n| *n == name);
        }
        match &self.body {
            Body::Map(e) if e.len() == 1 => {
                let key = e.first().map(|e| e.key.as_str()).unwrap_or_default();
                let name = key.strip_prefix("Fn::").unwrap_or(key);
                if key == "Ref" || key == "Condition" || key.starts_with("Fn::") {
                    INTRINSICS.iter().copied().find(|n| *n == name)
                } else {
                    None
                }
            }
            _ => None,
        }
    }

    /// The stand-in text for an intrinsic where a string is expected: `!Ref MyQueue`.
    pub(crate) fn placeholder(&self) -> String {
        let name = self.intrinsic().unwrap_or("Ref");
        let arg = match (&self.tag, &self.body) {
            (Some(_), body) => body_text(body),
            (None, Body::Map(e)) => e
                .first()
                .map(|e| body_text(&e.value.body))
                .unwrap_or_default(),
            (None, body) => body_text(body),
        };
        if arg.is_empty() {
            format!("!{name}")
        } else {
            format!("!{name} {arg}")
        }
    }

    /// The value at a key path (`a.b[2].c`), or the deepest node on the way there and
    /// `false` when the path goes further than the document: the place to report a
    /// missing key.
    pub(crate) fn locate(&self, path: &str) -> (Loc, bool) {
        let mut node = self;
        let mut loc = self.loc;
        for seg in split_path(path) {
            let next = match seg {
                Seg::Key(k) => node.entries().and_then(|es| es.iter().find(|e| e.key == k)),
                Seg::Index(i) => match &node.body {
                    Body::Seq(items) => match items.get(i) {
                        Some(n) => {
                            node = n;
                            loc = n.loc;
                            continue;
                        }
                        None => return (loc, false),
                    },
                    _ => return (loc, false),
                },
            };
            match next {
                // A key whose value is empty (`stream:`) points at the key itself: a null
                // value's position is wherever the parser stopped.
                Some(e) => {
                    loc = if e.value.is_null() {
                        e.key_loc
                    } else {
                        e.value.loc
                    };
                    node = &e.value;
                }
                None => return (loc, false),
            }
        }
        (loc, true)
    }

    /// The node at a key path, if there is one.
    #[cfg(test)]
    pub(crate) fn at(&self, path: &str) -> Option<&Node> {
        let mut node = self;
        for seg in split_path(path) {
            node = match seg {
                Seg::Key(k) => node.get(k)?,
                Seg::Index(i) => match &node.body {
                    Body::Seq(items) => items.get(i)?,
                    _ => return None,
                },
            };
        }
        Some(node)
    }

    /// Removes the value at a key path (the key from its mapping). Used to read past a
    /// value that cannot be deserialized, so that the rest still gets checked.
    pub(crate) fn remove(&mut self, path: &str) -> bool {
        let (parent, last) = match path.rsplit_once('.') {
            Some((p, l)) => (p, l),
            None => ("", path),
        };
        let mut node = self;
        for seg in split_path(parent) {
            node = match (seg, &mut node.body) {
                (Seg::Key(k), Body::Map(es)) => match es.iter_mut().find(|e| e.key == k) {
                    Some(e) => &mut e.value,
                    None => return false,
                },
                (Seg::Index(i), Body::Seq(items)) => match items.get_mut(i) {
                    Some(n) => n,
                    None => return false,
                },
                _ => return false,
            };
        }
        // The last segment may carry indexes (`changes[3]`): only keys are removed, so
        // the key holding the list goes.
        let key = last.split('[').next().unwrap_or(last);
        match &mut node.body {
            Body::Map(es) => {
                let before = es.len();
                es.retain(|e| e.key != key);
                es.len() != before
            }
            _ => false,
        }
    }

    /// Applies a JSON merge patch (RFC 7386): mappings merge key by key, a null removes
    /// the key, anything else (lists, scalars, intrinsics) replaces the value. Replaced
    /// values keep the position where the patch wrote them.
    pub(crate) fn merge_patch(&mut self, patch: &Node) {
        let patch_entries = match (&patch.body, patch.intrinsic()) {
            (Body::Map(es), None) => es,
            _ => {
                *self = patch.clone();
                return;
            }
        };
        if !matches!(self.body, Body::Map(_)) || self.intrinsic().is_some() {
            *self = Node::new(patch.loc, Body::Map(Vec::new()));
        }
        let Body::Map(target) = &mut self.body else {
            return;
        };
        for pe in patch_entries {
            let existing = target.iter().position(|e| e.key == pe.key);
            if pe.value.is_null() {
                if let Some(i) = existing {
                    target.remove(i);
                }
                continue;
            }
            match existing.and_then(|i| target.get_mut(i)) {
                Some(e) => e.value.merge_patch(&pe.value),
                None => {
                    // Merging into nothing still drops the patch's own nulls (RFC 7386).
                    let mut value = Node::new(pe.value.loc, Body::Null);
                    value.merge_patch(&pe.value);
                    target.push(Entry {
                        key: pe.key.clone(),
                        key_loc: pe.key_loc,
                        value,
                    });
                }
            }
        }
    }

    /// The node as JSON (intrinsics as their placeholder strings).
    pub(crate) fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        if self.intrinsic().is_some() {
            return Value::String(self.placeholder());
        }
        match &self.body {
            Body::Null => Value::Null,
            Body::Bool(b) => Value::Bool(*b),
            Body::Int(i) => Value::from(*i),
            Body::UInt(u) => Value::from(*u),
            Body::Float(f) => serde_json::Number::from_f64(*f)
                .map(Value::Number)
                .unwrap_or(Value::Null),
            Body::Str(s) => Value::String(s.clone()),
            Body::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            Body::Map(es) => Value::Object(
                es.iter()
                    .map(|e| (e.key.clone(), e.value.to_json()))
                    .collect(),
            ),
        }
    }
}

/// Scalar text for messages and placeholders; collections as compact JSON.
pub(crate) fn body_text(body: &Body) -> String {
    match body {
        Body::Null => String::new(),
        Body::Bool(b) => b.to_string(),
        Body::Int(i) => i.to_string(),
        Body::UInt(u) => u.to_string(),
        Body::Float(f) => f.to_string(),
        Body::Str(s) => s.clone(),
        Body::Seq(_) | Body::Map(_) => Node::new(Loc::default(), body.clone())
            .to_json()
            .to_string(),
    }
}

enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

/// `a.b[2].c` → Key(a), Key(b), Index(2), Key(c). Keys holding `.` or `[` cannot be
/// addressed, which only matters for free-form maps (Tags) that nothing points into.
fn split_path(path: &str) -> Vec<Seg<'_>> {
    let mut out = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let mut pieces = part.split('[');
        if let Some(key) = pieces.next().filter(|k| !k.is_empty()) {
            out.push(Seg::Key(key));
        }
        for idx in pieces {
            match idx.trim_end_matches(']').parse::<usize>() {
                Ok(i) => out.push(Seg::Index(i)),
                Err(_) => out.push(Seg::Key(idx)),
            }
        }
    }
    out
}

/// A problem the parser found: position and message.
pub(crate) struct SyntaxError {
    pub loc: Loc,
    pub message: String,
}

/// Parses YAML (or JSON) text into a tree. `Ok(None)` for a document with no content.
pub(crate) fn parse(text: &str) -> Result<Option<Node>, SyntaxError> {
    let mut options = serde_saphyr::Options::default();
    // YAML 1.2 booleans only: `no` and `on` are strings (a stream named `no` stays a name).
    options.strict_booleans = true;
    // Keep `007` a string (a partition key), not the number 7.
    options.leading_zero_numbers_as_strings = true;
    options.with_snippet = false;
    match serde_saphyr::from_str_with_options::<Option<RawNode>>(text, options) {
        Ok(None) => Ok(None),
        Ok(Some(raw)) => {
            let node = raw.into_node();
            if node.is_null() {
                Ok(None)
            } else {
                Ok(Some(node))
            }
        }
        Err(e) => {
            let loc = e
                .location()
                .map(|l| Loc {
                    line: l.line().max(1),
                    col: l.column().max(1),
                })
                .unwrap_or(Loc { line: 1, col: 1 });
            let mut message = e.without_snippet().to_string();
            // The position is printed in front already.
            if let Some(i) = message.rfind(" at line ") {
                message.truncate(i);
            }
            Err(SyntaxError {
                loc,
                message: format!("not valid YAML: {message}"),
            })
        }
    }
}

/// What serde-saphyr hands over: a value with its span and tag, keys with their spans.
struct RawNode(Spanned<Tagged<RawBody>>);

enum RawBody {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Seq(Vec<RawNode>),
    Map(Vec<(Spanned<String>, RawNode)>),
}

fn loc_of(l: &serde_saphyr::Location) -> Loc {
    Loc {
        line: l.line().max(1),
        col: l.column().max(1),
    }
}

impl RawNode {
    fn into_node(self) -> Node {
        let loc = loc_of(&self.0.referenced);
        let Tagged(body, tag) = self.0.value;
        // Core-schema tags (`!!str`, `tag:yaml.org,2002:int`) only steer typing, which the
        // parser has done; only local tags like `!Ref` carry meaning here.
        let tag = tag.filter(|t| t.starts_with('!') && !t.starts_with("!!"));
        let body = match body {
            RawBody::Null => Body::Null,
            RawBody::Bool(b) => Body::Bool(b),
            RawBody::Int(i) => Body::Int(i),
            RawBody::UInt(u) => Body::UInt(u),
            RawBody::Float(f) => Body::Float(f),
            RawBody::Str(s) => Body::Str(s),
            RawBody::Seq(items) => Body::Seq(items.into_iter().map(RawNode::into_node).collect()),
            RawBody::Map(entries) => Body::Map(
                entries
                    .into_iter()
                    .map(|(k, v)| Entry {
                        key_loc: loc_of(&k.referenced),
                        key: k.value,
                        value: v.into_node(),
                    })
                    .collect(),
            ),
        };
        Node { loc, tag, body }
    }
}

impl<'de> Deserialize<'de> for RawNode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Spanned::<Tagged<RawBody>>::deserialize(d).map(RawNode)
    }
}

impl<'de> Deserialize<'de> for RawBody {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(BodyVisitor)
    }
}

struct BodyVisitor;

impl<'de> Visitor<'de> for BodyVisitor {
    type Value = RawBody;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E>(self) -> Result<RawBody, E> {
        Ok(RawBody::Null)
    }
    fn visit_none<E>(self) -> Result<RawBody, E> {
        Ok(RawBody::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<RawBody, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_bool<E>(self, v: bool) -> Result<RawBody, E> {
        Ok(RawBody::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<RawBody, E> {
        Ok(RawBody::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<RawBody, E> {
        Ok(match i64::try_from(v) {
            Ok(i) => RawBody::Int(i),
            Err(_) => RawBody::UInt(v),
        })
    }
    fn visit_i128<E>(self, v: i128) -> Result<RawBody, E> {
        // Beyond u64: only approximately representable, like any huge YAML number.
        Ok(match i64::try_from(v) {
            Ok(i) => RawBody::Int(i),
            Err(_) => match u64::try_from(v) {
                Ok(u) => RawBody::UInt(u),
                Err(_) => RawBody::Float(v as f64),
            },
        })
    }
    fn visit_u128<E>(self, v: u128) -> Result<RawBody, E> {
        Ok(match i64::try_from(v) {
            Ok(i) => RawBody::Int(i),
            Err(_) => match u64::try_from(v) {
                Ok(u) => RawBody::UInt(u),
                Err(_) => RawBody::Float(v as f64),
            },
        })
    }
    fn visit_f64<E>(self, v: f64) -> Result<RawBody, E> {
        Ok(RawBody::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<RawBody, E> {
        Ok(RawBody::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<RawBody, E> {
        Ok(RawBody::Str(v))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<RawBody, E> {
        Ok(RawBody::Str(String::from_utf8_lossy(v).into_owned()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<RawBody, A::Error> {
        let mut items = Vec::new();
        while let Some(x) = a.next_element()? {
            items.push(x);
        }
        Ok(RawBody::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<RawBody, A::Error> {
        let mut entries = Vec::new();
        while let Some(k) = a.next_key::<Spanned<String>>()? {
            let v = a.next_value()?;
            entries.push((k, v));
        }
        Ok(RawBody::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Node {
        match parse(text) {
            Ok(Some(n)) => n,
            Ok(None) => panic!("empty"),
            Err(e) => panic!("{}:{} {}", e.loc.line, e.loc.col, e.message),
        }
    }

    #[test]
    fn positions_and_tags_are_kept() {
        let n = p("a:\n  b: !Ref X\n  c: [1, 2]\n");
        // A tagged value points at the value after the tag.
        assert_eq!(n.locate("a.b"), (Loc { line: 2, col: 11 }, true));
        assert_eq!(n.at("a.b").and_then(Node::intrinsic), Some("Ref"));
        assert_eq!(n.locate("a.c[1]"), (Loc { line: 3, col: 10 }, true));
        // A missing key reports its deepest existing parent.
        assert_eq!(n.locate("a.zz.y"), (Loc { line: 2, col: 3 }, false));
    }

    #[test]
    fn intrinsics_in_both_spellings_are_recognised() {
        let n = p("a: {\"Fn::GetAtt\": [Q, Arn]}\nb: {Ref: X}\nc: !Sub 'x-${A}'\nd: {x: 1}\n");
        assert_eq!(n.at("a").and_then(Node::intrinsic), Some("GetAtt"));
        assert_eq!(n.at("b").and_then(Node::intrinsic), Some("Ref"));
        assert_eq!(
            n.at("c").map(Node::placeholder).as_deref(),
            Some("!Sub x-${A}")
        );
        assert_eq!(n.at("d").and_then(Node::intrinsic), None);
    }

    #[test]
    fn merge_patch_follows_rfc_7386() {
        let mut base = p("a: {x: 1, y: 2}\nl: [1, 2]\nk: 3\n");
        let patch = p("a: {y: null, z: {q: null, r: 1}}\nl: [9]\nk: null\nn: 4\n");
        base.merge_patch(&patch);
        let want = serde_json::json!({"a": {"x": 1, "z": {"r": 1}}, "l": [9], "n": 4});
        assert_eq!(base.to_json(), want);
        // The patched value points into the patch.
        assert_eq!(base.locate("n").0.line, 4);
    }

    #[test]
    fn empty_and_comment_only_documents_are_none() {
        assert!(matches!(parse(""), Ok(None)));
        assert!(matches!(parse("# nothing\n\n"), Ok(None)));
        assert!(matches!(parse("~\n"), Ok(None)));
    }

    #[test]
    fn syntax_errors_carry_position() {
        let Err(e) = parse("a: [1\n") else {
            panic!("should fail")
        };
        assert_eq!(e.loc.line, 1);
        assert!(e.message.starts_with("not valid YAML"));
        let Err(e) = parse("a: 1\na: 2\n") else {
            panic!("should fail")
        };
        assert_eq!((e.loc.line, e.loc.col), (2, 1));
    }

    #[test]
    fn remove_drops_the_key_holding_a_bad_value() {
        let mut n = p("a: {b: 1, c: [1, 2]}\n");
        assert!(n.remove("a.c[1]"));
        assert!(n.at("a.c").is_none());
        assert!(n.remove("a.b"));
        assert!(!n.remove("a.b"));
    }
}
