//! Scenario files: parsing (YAML or JSON), validation into the typed `Scenario`,
//! variants, and the built-in library.
//!
//! The path of a file through this module (design.md §2 and §4):
//!
//! ```text
//! text ──node::parse──▶ Node tree (positions, tags) ──de──▶ RawScenario ──validate──▶ Scenario
//!                             │ variants: JSON merge patch on the tree, then the same path
//! ```
//!
//! Invariants: no input panics; every problem in a file is reported at once, each with
//! `file:line:col: path:`; a `Scenario` exists only if the file (and each of its
//! variants) is entirely valid. Variants are validated when the file is loaded, so
//! `kinesim validate` reports their problems too, under `variants[i].`.

mod de;
mod error;
mod node;
mod raw;
mod support;
mod types;
pub mod units;
mod validate;

pub mod builtin;

#[cfg(test)]
mod tests;

use std::collections::BTreeSet;
use std::path::Path;

pub use error::{Diagnostic, ScenarioError};
pub use support::not_simulated_notes;
pub use types::*;
pub use units::{parse_duration, parse_percent, parse_rate, parse_size};

use node::{Body, Loc, Node};

/// Keys a variant may not patch: variants share the base's traffic (R-TRAFFIC-1) and
/// cannot nest.
const FIXED_KEYS: &[&str] = &["seed", "variants", "expect"];

/// How many unreadable values one file may have before we stop looking for more.
const MAX_SHAPE_ERRORS: usize = 200;

/// A loaded, valid scenario file: the base scenario and its variants.
#[derive(Clone, Debug)]
pub struct Loaded {
    pub base: Scenario,
    variants: Vec<VariantDef>,
    root: Node,
    source: String,
    origin: String,
}

#[derive(Clone, Debug)]
struct VariantDef {
    name: String,
    patch: Node,
    scenario: Scenario,
}

impl Loaded {
    /// The variant names in file order.
    pub fn variant_names(&self) -> Vec<String> {
        self.variants.iter().map(|v| v.name.clone()).collect()
    }

    /// The scenario of variant `name`: the base document with the variant's merge patch
    /// applied. Its `name` is the base's; the caller carries the variant name.
    pub fn variant(&self, name: &str) -> Result<Scenario, ScenarioError> {
        self.variants
            .iter()
            .find(|v| v.name == name)
            .map(|v| v.scenario.clone())
            .ok_or_else(|| self.unknown_variant(name))
    }

    /// The file as the user named it (`builtin:NAME` for the library).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The file's text, e.g. to hash it into a run's identity.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The base (or a variant) with extra settings, each a key path of the file and a
    /// YAML value: `("event_source_mapping.BatchSize", "1000")`. For `sweep --set`.
    /// The settings go through the same checks as the file; a null value removes the key.
    pub fn patched(
        &self,
        variant: Option<&str>,
        sets: &[(&str, &str)],
    ) -> Result<Scenario, ScenarioError> {
        let mut doc = self.root.clone();
        if let Some(name) = variant {
            let v = self
                .variants
                .iter()
                .find(|v| v.name == name)
                .ok_or_else(|| self.unknown_variant(name))?;
            doc.merge_patch(&v.patch);
        }
        let mut diags = Vec::new();
        for (path, value) in sets {
            let file = format!("--set {path}={value}");
            let at = |message: String| Diagnostic {
                file: file.clone(),
                line: 1,
                col: 1,
                path: (*path).to_owned(),
                message,
                allowed: None,
            };
            let keys: Vec<&str> = path.split('.').collect();
            if keys.iter().any(|k| k.is_empty() || k.contains('[')) {
                diags.push(at(
                    "a setting is a path of keys like `event_source_mapping.BatchSize`".into(),
                ));
                continue;
            }
            let loc = doc.locate(path).0;
            let mut value_node = match node::parse(value) {
                Ok(Some(n)) => n,
                Ok(None) => Node::new(loc, Body::Null),
                Err(e) => {
                    diags.push(at(e.message));
                    continue;
                }
            };
            relocate(&mut value_node, loc);
            // Nest the value under its keys, innermost first, to make a merge patch.
            let patch = keys.iter().rev().fold(value_node, |inner, key| {
                Node::new(
                    loc,
                    Body::Map(vec![node::Entry {
                        key: (*key).to_owned(),
                        key_loc: loc,
                        value: inner,
                    }]),
                )
            });
            doc.merge_patch(&patch);
        }
        if !diags.is_empty() {
            return Err(ScenarioError::Invalid(diags));
        }
        let mut s = build(&doc, &self.origin, "").map_err(ScenarioError::Invalid)?;
        s.variant_names = self.variant_names();
        Ok(s)
    }

    fn unknown_variant(&self, name: &str) -> ScenarioError {
        ScenarioError::UnknownVariant {
            scenario: self.base.name.clone(),
            name: name.to_owned(),
            known: self.variant_names(),
        }
    }
}

fn relocate(n: &mut Node, loc: Loc) {
    n.loc = loc;
    match &mut n.body {
        Body::Seq(items) => items.iter_mut().for_each(|i| relocate(i, loc)),
        Body::Map(es) => es.iter_mut().for_each(|e| {
            e.key_loc = loc;
            relocate(&mut e.value, loc)
        }),
        _ => {}
    }
}

/// Loads `arg`: a file path, or, when no such file exists and `arg` has neither a path
/// separator nor an extension, the built-in scenario of that name.
pub fn load(arg: &str) -> Result<Loaded, ScenarioError> {
    let path = Path::new(arg);
    if path.exists() {
        return load_path(path);
    }
    let looks_like_name = !arg.contains(['/', '\\']) && path.extension().is_none();
    if let Some(text) = builtin::get(arg).filter(|_| looks_like_name) {
        return parse_str(text, &format!("builtin:{arg}"), false);
    }
    Err(not_found(arg))
}

fn not_found(arg: &str) -> ScenarioError {
    ScenarioError::NotFound {
        path: arg.to_owned(),
        builtins: builtin::names().join(", "),
    }
}

/// Loads a scenario file; `.json` files are read as JSON, anything else as YAML.
pub fn load_path(path: &Path) -> Result<Loaded, ScenarioError> {
    let origin = path.display().to_string();
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(not_found(&origin)),
        Err(source) => {
            return Err(ScenarioError::Unreadable {
                path: origin,
                source,
            });
        }
    };
    if meta.is_dir() {
        return Err(ScenarioError::IsDirectory { path: origin });
    }
    let bytes = std::fs::read(path).map_err(|source| ScenarioError::Unreadable {
        path: origin.clone(),
        source,
    })?;
    let text = String::from_utf8(bytes).map_err(|e| ScenarioError::Unreadable {
        path: origin.clone(),
        source: std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
        ),
    })?;
    let json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    parse_str(&text, &origin, json)
}

/// Parses and validates scenario text. `origin` names it in messages; `json` reads it
/// as JSON (otherwise YAML).
pub fn parse_str(text: &str, origin: &str, json: bool) -> Result<Loaded, ScenarioError> {
    // JSON is read by the YAML parser; YAML refuses tabs where JSON allows them as
    // spaces. A tab outside a string is whitespace in JSON, and JSON strings cannot hold
    // a raw tab, so swapping them for spaces changes nothing else (columns included).
    let text_for_parser = if json {
        text.replace('\t', " ")
    } else {
        text.to_owned()
    };
    let root = match node::parse(&text_for_parser) {
        Ok(Some(root)) => root,
        Ok(None) => {
            return Err(ScenarioError::Empty {
                path: origin.to_owned(),
            });
        }
        Err(e) => {
            return Err(ScenarioError::Invalid(vec![Diagnostic {
                file: origin.to_owned(),
                line: e.loc.line,
                col: e.loc.col,
                path: "(document)".to_owned(),
                message: e.message,
                allowed: None,
            }]));
        }
    };
    if root.entries().is_none() || root.intrinsic().is_some() {
        return Err(ScenarioError::Invalid(vec![Diagnostic {
            file: origin.to_owned(),
            line: root.loc.line,
            col: root.loc.col,
            path: "(document)".to_owned(),
            message: "a scenario is a mapping of keys (name, duration, stream, producers, \
                      function, event_source_mapping, ...)"
                .to_owned(),
            allowed: None,
        }]));
    }

    let mut diags = Vec::new();
    let patches = read_variants(&root, origin, &mut diags);
    let names: Vec<String> = patches.iter().map(|(_, n, _)| n.clone()).collect();
    let base = match build(&root, origin, "") {
        Ok(s) => Some(s),
        Err(d) => {
            diags.extend(d);
            None
        }
    };
    // A problem of the base shows up again in each variant that keeps the value: say it once.
    let seen: BTreeSet<(u64, u64, String)> = diags
        .iter()
        .map(|d| (d.line, d.col, d.message.clone()))
        .collect();
    let mut variants = Vec::new();
    for (i, name, patch) in patches {
        let mut doc = root.clone();
        doc.merge_patch(&patch);
        match build(&doc, origin, &format!("variants[{i}].")) {
            Ok(mut scenario) => {
                scenario.variant_names = names.clone();
                variants.push(VariantDef {
                    name,
                    patch,
                    scenario,
                });
            }
            Err(d) => diags.extend(
                d.into_iter()
                    .filter(|d| !seen.contains(&(d.line, d.col, d.message.clone()))),
            ),
        }
    }
    match base {
        Some(mut base) if diags.is_empty() => {
            base.variant_names = names;
            Ok(Loaded {
                base,
                variants,
                root,
                source: text.to_owned(),
                origin: origin.to_owned(),
            })
        }
        _ => {
            diags.sort_by_key(|d| (d.line, d.col));
            Err(ScenarioError::Invalid(diags))
        }
    }
}

/// The variants' names and patches (`name` taken out), checking their shape.
fn read_variants(
    root: &Node,
    origin: &str,
    diags: &mut Vec<Diagnostic>,
) -> Vec<(usize, String, Node)> {
    let mut push = |loc: Loc, path: String, message: String, allowed: Option<&str>| {
        diags.push(Diagnostic {
            file: origin.to_owned(),
            line: loc.line,
            col: loc.col,
            path,
            message,
            allowed: allowed.map(str::to_owned),
        })
    };
    let items = match root.get("variants") {
        None => return Vec::new(),
        Some(n) if n.is_null() => return Vec::new(),
        Some(n) => match &n.body {
            Body::Seq(items) if n.intrinsic().is_none() => items,
            _ => {
                push(
                    n.loc,
                    "variants".into(),
                    "expected a list of variants".into(),
                    Some("- {name: NAME, <the keys it changes>}"),
                );
                return Vec::new();
            }
        },
    };
    let mut names = BTreeSet::new();
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let p = format!("variants[{i}]");
        let entries = match (item.entries(), item.intrinsic()) {
            (Some(es), None) => es,
            _ => {
                push(
                    item.loc,
                    p,
                    "a variant is a mapping".into(),
                    Some("{name: NAME, <the keys it changes>}"),
                );
                continue;
            }
        };
        let mut ok = true;
        let name = match item.get("name") {
            None => {
                push(
                    item.loc,
                    format!("{p}.name"),
                    "missing required key".into(),
                    None,
                );
                ok = false;
                String::new()
            }
            Some(Node {
                body: Body::Str(s),
                tag: None,
                loc,
            }) => {
                let valid = !s.is_empty()
                    && s.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
                if !valid {
                    push(
                        *loc,
                        format!("{p}.name"),
                        format!("`{s}` is not a valid variant name"),
                        Some("lowercase letters, digits and `-`"),
                    );
                    ok = false;
                } else if !names.insert(s.clone()) {
                    push(
                        *loc,
                        format!("{p}.name"),
                        format!("variant `{s}` is defined twice"),
                        None,
                    );
                    ok = false;
                }
                s.clone()
            }
            Some(other) => {
                push(
                    other.loc,
                    format!("{p}.name"),
                    "a variant name is a string".into(),
                    Some("lowercase letters, digits and `-`"),
                );
                ok = false;
                String::new()
            }
        };
        for e in entries {
            if FIXED_KEYS.contains(&e.key.as_str()) {
                push(
                    e.key_loc,
                    format!("{p}.{}", e.key),
                    format!(
                        "a variant may not change `{}`: variants share the base's traffic and checks",
                        e.key
                    ),
                    None,
                );
                ok = false;
            }
        }
        if ok {
            let patch = Node::new(
                item.loc,
                Body::Map(
                    entries
                        .iter()
                        .filter(|e| e.key != "name")
                        .cloned()
                        .collect(),
                ),
            );
            out.push((i, name, patch));
        }
    }
    out
}

/// One document (base or merged variant) → `Scenario`, or every problem in it, with
/// `prefix` in front of each path.
fn build(doc: &Node, origin: &str, prefix: &str) -> Result<Scenario, Vec<Diagnostic>> {
    let mk = |path: &str, loc: Loc, message: String, allowed: Option<String>| Diagnostic {
        file: origin.to_owned(),
        line: loc.line,
        col: loc.col,
        path: format!("{prefix}{path}"),
        message,
        allowed,
    };
    let mut diags = Vec::new();
    // serde stops at the first value it cannot read; to report them all, drop the
    // offending key from a copy of the tree and read again. Validation then skips the
    // dropped keys, so a bad value is not also reported as a missing one.
    let mut pruned = doc.clone();
    let mut removed: Vec<String> = Vec::new();
    let mut read = None;
    for _ in 0..MAX_SHAPE_ERRORS {
        let ctx = de::Ctx::default();
        match de::from_node::<raw::RawScenario>(&pruned, "", &ctx) {
            Ok(r) => {
                read = Some((r, ctx.placeholders.into_inner()));
                break;
            }
            Err(e) => {
                let path = e.path.clone().unwrap_or_default();
                diags.push(mk(&path, e.loc.unwrap_or(doc.loc), e.message, e.allowed));
                match prune(&mut pruned, &path) {
                    Some(p) => removed.push(p),
                    None => break,
                }
            }
        }
    }
    let Some((raw, placeholders)) = read else {
        return Err(diags);
    };
    let placeholder_paths: BTreeSet<String> = placeholders.iter().map(|(p, _)| p.clone()).collect();
    match validate::validate(raw, &placeholder_paths) {
        Ok(mut s) if diags.is_empty() => {
            s.not_simulated.extend(
                placeholders
                    .iter()
                    .map(|(p, _)| format!("{p}: CloudFormation intrinsic read as a placeholder")),
            );
            Ok(s)
        }
        Ok(_) => Err(diags),
        Err(problems) => {
            let dropped = |p: &str| {
                removed.iter().any(|r| {
                    p == r
                        || p.strip_prefix(r.as_str())
                            .is_some_and(|rest| rest.starts_with(['.', '[']))
                })
            };
            for pr in problems.into_iter().filter(|pr| !dropped(&pr.path)) {
                let (loc, _) = doc.locate(&pr.path);
                diags.push(mk(&pr.path, loc, pr.message, pr.allowed));
            }
            Err(diags)
        }
    }
}

/// Removes the key at `path` (or its nearest removable ancestor below the root);
/// returns the path removed.
fn prune(tree: &mut Node, path: &str) -> Option<String> {
    let mut p = path.to_owned();
    loop {
        if p.is_empty() {
            return None;
        }
        if tree.remove(&p) {
            // `a.b[2]` removed the key `a.b`.
            return Some(match p.rfind('[') {
                Some(i) if !p.get(i..).unwrap_or_default().contains('.') => {
                    p.get(..i).unwrap_or_default().to_owned()
                }
                _ => p,
            });
        }
        p = match p.rsplit_once('.') {
            Some((parent, _)) => parent.to_owned(),
            None => String::new(),
        };
    }
}
