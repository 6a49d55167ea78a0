//! `expect:` lines (design.md §4): `<path> <op> <value>`, read against the JSON summary
//! of a run (§6.1) and of its variants. `kinesim check` runs the scenarios and evaluates
//! them; this module knows nothing of running.
//!
//! A path is dotted keys with list selectors: `records.expired`, `shards[0]` (by
//! position), `shards[shardId-000000000002]` (by the entry's `id`), and
//! `variants.NAME.<path>` for the summary of variant NAME. A value is a number, or a
//! duration (`23h`, compared in milliseconds) or a size (`1MiB`, compared in bytes).
//! A unit is only accepted where the path says what it measures, so `records.expired >
//! 5m` is an error instead of a comparison with 300000: the path's unit is that of its
//! last key ending in `_ms` or `_bytes`, which carries over to the keys below it
//! (`shards[0].iterator_age_ms.max` is in milliseconds).
//!
//! Invariants: `parse` never panics and its errors name the offending part and its
//! column; `evaluate` never panics on any JSON, and a path that is not in the summary
//! is a failed expectation whose message lists what is there instead.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value as Json;

use crate::scenario::units::{parse_duration, parse_size};
use crate::time::{SimDuration, US_PER_MS};

/// The comparison operators, in the order messages list them.
pub const OPERATORS: &str = "< <= > >= == !=";

/// An example for messages that show the shape of a line.
const EXAMPLE: &str = "records.expired > 0";

/// How many keys or ids a "not found" message lists before it summarises the rest: a
/// run with a thousand shards must not print a thousand ids.
const MAX_LISTED: usize = 24;

/// One parsed `expect:` line.
#[derive(Clone, Debug, PartialEq)]
pub struct Expectation {
    /// The line as written, trimmed.
    pub text: String,
    pub path: Path,
    pub op: Op,
    pub value: Value,
}

/// Where a value lives: the summary of the base run or of a variant, then the steps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Path {
    /// `Some(NAME)` for `variants.NAME.<path>`.
    pub variant: Option<String>,
    /// Never empty.
    pub steps: Vec<Step>,
}

/// One step of a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// `.key` of an object.
    Key(String),
    /// `[N]`: the entry at position N of a list.
    Index(usize),
    /// `[ID]`: the entry of a list whose `id` is ID (`shards[shardId-000000000002]`).
    Id(String),
}

/// The comparison of an expectation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

/// The right-hand side, as written and as the number it is compared as.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value {
    Number(f64),
    /// Compared in milliseconds (fractions kept: `0.5ms` is 0.5).
    Duration(SimDuration),
    /// Compared in bytes.
    Size(u64),
}

/// What a path measures, from its key names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Millis,
    Bytes,
}

/// Why an `expect:` line could not be read. `column` is the 1-based column in the line
/// as given of the part at fault, so that a caller who knows where the line starts in a
/// file can point at the exact place.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ExpectError {
    /// Not three whitespace-separated parts.
    #[error("`{line}` is not `<path> <op> <value>` (e.g. `{EXAMPLE}`){hint}")]
    Shape {
        line: String,
        /// Extra advice, e.g. to put spaces around the operator; empty or starting "; ".
        hint: String,
        column: usize,
    },
    #[error("`{op}` is not a comparison (allowed: {OPERATORS}){hint}")]
    Operator {
        op: String,
        /// `; did you mean ...?` or empty.
        hint: String,
        column: usize,
    },
    #[error("`{path}`: {reason}")]
    Path {
        path: String,
        reason: String,
        column: usize,
    },
    /// Neither a number nor a duration or size.
    #[error("`{value}` is not a number{reason}")]
    Value {
        value: String,
        /// `: why` when the path expects a unit, else empty.
        reason: String,
        column: usize,
    },
    /// A duration or size on a path that measures neither.
    #[error(
        "`{value}` is a {kind}, but `{path}` is a plain count; a duration is allowed on \
         paths under a key ending in `_ms`, a size under one ending in `_bytes`"
    )]
    UnitNotAllowed {
        value: String,
        kind: &'static str,
        path: String,
        column: usize,
    },
    /// A size on a duration path, or the reverse.
    #[error("`{value}` is a {found}, but `{path}` is {expected}")]
    WrongUnit {
        value: String,
        found: &'static str,
        expected: &'static str,
        path: String,
        column: usize,
    },
    /// `variants.NAME.` names no variant of the scenario (only from [`parse_for`]).
    #[error("no variant named `{name}` (variants: {})", list_or_none(.known))]
    UnknownVariant {
        name: String,
        known: Vec<String>,
        column: usize,
    },
}

impl ExpectError {
    /// The 1-based column, in the line as given, of the part at fault.
    pub fn column(&self) -> usize {
        match self {
            ExpectError::Shape { column, .. }
            | ExpectError::Operator { column, .. }
            | ExpectError::Path { column, .. }
            | ExpectError::Value { column, .. }
            | ExpectError::UnitNotAllowed { column, .. }
            | ExpectError::WrongUnit { column, .. }
            | ExpectError::UnknownVariant { column, .. } => *column,
        }
    }
}

/// The result of evaluating one expectation.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// The value found at the path, if the path led somewhere.
    pub actual: Option<Json>,
    pub passed: bool,
    /// Why the expectation could not be compared (missing key, not a number, ...).
    pub error: Option<String>,
}

/// Parses one `expect:` line: `<path> <op> <value>`, separated by whitespace.
pub fn parse(line: &str) -> Result<Expectation, ExpectError> {
    let parts = split_parts(line);
    let [
        (path_col, path_text),
        (op_col, op_text),
        (value_col, value_text),
    ] = parts[..]
    else {
        return Err(shape_error(line, &parts));
    };
    let path = parse_path(path_text, path_col)?;
    let op = Op::parse(op_text).ok_or_else(|| ExpectError::Operator {
        op: op_text.to_owned(),
        hint: match op_text {
            "=" => "; did you mean `==`?",
            "=>" => "; did you mean `>=`?",
            "=<" => "; did you mean `<=`?",
            "<>" => "; did you mean `!=`?",
            _ => "",
        }
        .to_owned(),
        column: op_col,
    })?;
    let value = parse_value(value_text, value_col, &path, path_text)?;
    Ok(Expectation {
        text: line.trim().to_owned(),
        path,
        op,
        value,
    })
}

/// [`parse`], and checks that a `variants.NAME.` path names one of `variants` (the
/// scenario's variant names). This is the check a scenario file's validation needs.
pub fn parse_for(line: &str, variants: &[String]) -> Result<Expectation, ExpectError> {
    let e = parse(line)?;
    if let Some(name) = &e.path.variant
        && !variants.contains(name)
    {
        // The name starts after `variants.`, at the path's own column.
        let path_col = split_parts(line).first().map_or(1, |p| p.0);
        return Err(ExpectError::UnknownVariant {
            name: name.clone(),
            known: variants.to_vec(),
            column: path_col + "variants.".len(),
        });
    }
    Ok(e)
}

/// Evaluates `e` against the base run's summary and the summaries of the variants that
/// were run (by name). Never panics: anything unexpected is a failure with a message.
/// Whether the path of `e` names a number of the summary (design.md §6.1), checked
/// against the summary's shape without running anything: `shards[..]` and `actions[..]`
/// stand for any of their entries. A bad path is an error of the scenario file.
pub fn check_path(e: &Expectation) -> Result<(), String> {
    let mut template = crate::report::Summary::default();
    template.shards.push(Default::default());
    template.actions.push(Default::default());
    let template = serde_json::to_value(&template).expect("the summary serialises");
    let steps: Vec<Step> = e
        .path
        .steps
        .iter()
        .map(|s| match s {
            Step::Index(_) | Step::Id(_) => Step::Index(0),
            other => other.clone(),
        })
        .collect();
    match walk(&template, &steps, "the summary")? {
        Json::Object(map) => Err(format!(
            "`{}` is a group, not a number (keys: {})",
            e.path.steps_text(),
            listed(map.keys().cloned().collect())
        )),
        _ => Ok(()),
    }
}

pub fn evaluate(e: &Expectation, base: &Json, variants: &BTreeMap<String, Json>) -> Outcome {
    let fail = |actual: Option<Json>, error: String| Outcome {
        actual,
        passed: false,
        error: Some(error),
    };
    let (doc, root_name) = match &e.path.variant {
        None => (base, "the summary".to_owned()),
        Some(name) => match variants.get(name) {
            Some(doc) => (doc, format!("the summary of variant `{name}`")),
            None => {
                let known: Vec<String> = variants.keys().cloned().collect();
                return fail(
                    None,
                    format!(
                        "variant `{name}` was not run (variants run: {})",
                        list_or_none(&known)
                    ),
                );
            }
        },
    };
    let leaf = match walk(doc, &e.path.steps, &root_name) {
        Ok(leaf) => leaf,
        Err(message) => return fail(None, message),
    };
    let shown = e.path.steps_text();
    let actual = Some(leaf.clone());
    match leaf {
        Json::Number(n) => match n.as_f64() {
            Some(x) => Outcome {
                actual,
                passed: e.op.holds(x, e.value.as_f64()),
                error: None,
            },
            None => fail(
                actual,
                format!("`{shown}` = {n} is not a comparable number"),
            ),
        },
        Json::Null => fail(actual, format!("`{shown}` is null (no value in this run)")),
        // A list or an object is not a value to compare; the message says what to pick.
        Json::Object(map) => fail(
            None,
            format!(
                "`{shown}` is an object, not a number; name one of its keys: {}",
                listed(map.keys().cloned().collect())
            ),
        ),
        Json::Array(items) => fail(
            None,
            format!(
                "`{shown}` is a list of {} entries, not a number; select one with \
                 `{shown}[N]`",
                items.len()
            ),
        ),
        Json::String(_) | Json::Bool(_) => {
            fail(actual, format!("`{shown}` is {leaf}, not a number"))
        }
    }
}

/// Follows `steps` from `doc`; the error names the step that failed and what is there.
fn walk<'a>(doc: &'a Json, steps: &[Step], root_name: &str) -> Result<&'a Json, String> {
    let mut here = doc;
    let mut walked = String::new();
    for step in steps {
        let place = if walked.is_empty() {
            root_name.to_owned()
        } else {
            format!("`{walked}`")
        };
        here = match (step, here) {
            (Step::Key(k), Json::Object(map)) => map.get(k).ok_or_else(|| {
                let keys: Vec<String> = map.keys().cloned().collect();
                let hint = match closest(k, &keys) {
                    Some(near) => format!("; did you mean `{near}`?"),
                    None => String::new(),
                };
                format!("no key `{k}` in {place}{hint} (keys: {})", listed(keys))
            })?,
            (Step::Index(i), Json::Array(items)) => items.get(*i).ok_or_else(|| {
                if items.is_empty() {
                    format!("{place} is an empty list; there is no [{i}]")
                } else {
                    format!(
                        "{place} has {} entries ([0] to [{}]); there is no [{i}]",
                        items.len(),
                        items.len() - 1
                    )
                }
            })?,
            (Step::Id(id), Json::Array(items)) => {
                let ids: Vec<String> = items
                    .iter()
                    .filter_map(|it| it.get("id").and_then(Json::as_str).map(str::to_owned))
                    .collect();
                if ids.is_empty() {
                    return Err(format!(
                        "the entries of {place} have no `id`; select one by position, [N]"
                    ));
                }
                items
                    .iter()
                    .find(|it| it.get("id").and_then(Json::as_str) == Some(id))
                    .ok_or_else(|| {
                        format!("no entry with id `{id}` in {place} (ids: {})", listed(ids))
                    })?
            }
            (Step::Key(k), Json::Array(_)) => {
                return Err(format!(
                    "{place} is a list; select an entry with [N] or [ID] before `.{k}`"
                ));
            }
            (Step::Index(_) | Step::Id(_), Json::Object(map)) => {
                return Err(format!(
                    "{place} is an object, not a list; use one of its keys: {}",
                    listed(map.keys().cloned().collect())
                ));
            }
            (_, leaf) => {
                return Err(format!("{place} is {leaf}, which has nothing below it"));
            }
        };
        step.write_to(&mut walked);
    }
    Ok(here)
}

impl Op {
    /// Every operator with its spelling.
    pub const ALL: [(Op, &'static str); 6] = [
        (Op::Lt, "<"),
        (Op::Le, "<="),
        (Op::Gt, ">"),
        (Op::Ge, ">="),
        (Op::Eq, "=="),
        (Op::Ne, "!="),
    ];

    pub fn parse(s: &str) -> Option<Op> {
        Op::ALL.iter().find(|(_, t)| *t == s).map(|(op, _)| *op)
    }

    pub fn symbol(self) -> &'static str {
        Op::ALL
            .iter()
            .find(|(op, _)| *op == self)
            .map(|(_, t)| *t)
            .expect("every operator is listed")
    }

    /// `actual <op> expected`. Equality is exact: the summary's counters are integers
    /// and its dollar amounts are already rounded (design.md §6.1).
    pub fn holds(self, actual: f64, expected: f64) -> bool {
        match self {
            Op::Lt => actual < expected,
            Op::Le => actual <= expected,
            Op::Gt => actual > expected,
            Op::Ge => actual >= expected,
            Op::Eq => actual == expected,
            Op::Ne => actual != expected,
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

impl Value {
    /// The number compared with the summary: milliseconds for a duration, bytes for a
    /// size.
    pub fn as_f64(&self) -> f64 {
        match *self {
            Value::Number(x) => x,
            // Microseconds to milliseconds; exact for any duration under 285 years.
            Value::Duration(d) => d.as_micros() as f64 / US_PER_MS as f64,
            Value::Size(b) => b as f64,
        }
    }
}

impl Path {
    /// What the path measures: the unit of its last key ending in `_ms` or `_bytes`.
    /// A unit key's children keep its unit (`iterator_age_ms.max` is in ms).
    pub fn unit(&self) -> Option<Unit> {
        self.steps.iter().rev().find_map(|s| match s {
            Step::Key(k) if k.ends_with("_ms") => Some(Unit::Millis),
            Step::Key(k) if k.ends_with("_bytes") => Some(Unit::Bytes),
            _ => None,
        })
    }

    /// The steps as written, without the `variants.NAME.` prefix.
    pub fn steps_text(&self) -> String {
        let mut s = String::new();
        for step in &self.steps {
            step.write_to(&mut s);
        }
        s
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(v) = &self.variant {
            write!(f, "variants.{v}.")?;
        }
        f.write_str(&self.steps_text())
    }
}

impl Step {
    /// Appends the step as written (`.key`, `[0]`, `[id]`; no dot before the first key).
    fn write_to(&self, s: &mut String) {
        match self {
            Step::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Step::Index(i) => s.push_str(&format!("[{i}]")),
            Step::Id(id) => s.push_str(&format!("[{id}]")),
        }
    }
}

/// The whitespace-separated parts of `line`, each with its 1-based column.
fn split_parts(line: &str) -> Vec<(usize, &str)> {
    let mut parts = Vec::new();
    let mut start = None;
    for (i, c) in line.char_indices().chain([(line.len(), ' ')]) {
        match (start, c.is_whitespace()) {
            (None, false) => start = Some(i),
            (Some(s), true) => {
                parts.push((line[..s].chars().count() + 1, &line[s..i]));
                start = None;
            }
            _ => {}
        }
    }
    parts
}

fn shape_error(line: &str, parts: &[(usize, &str)]) -> ExpectError {
    let trimmed = line.trim();
    let glued = parts.len() < 3
        && parts
            .iter()
            .any(|(_, p)| p.len() > 1 && p.contains(['<', '>', '=', '!']));
    let hint = if trimmed.is_empty() {
        "; the line is empty".to_owned()
    } else if glued {
        "; put spaces around the operator".to_owned()
    } else if parts.len() > 3 {
        "; a value has no spaces: write `23h`, not `23 h`".to_owned()
    } else {
        String::new()
    };
    ExpectError::Shape {
        line: trimmed.to_owned(),
        hint,
        column: parts.get(3).or(parts.first()).map_or(1, |p| p.0),
    }
}

/// `key(.key|[N]|[ID])*`, with a leading `variants.NAME.` taken apart.
fn parse_path(text: &str, column: usize) -> Result<Path, ExpectError> {
    let err = |at: usize, reason: String| ExpectError::Path {
        path: text.to_owned(),
        reason,
        column: column + text[..at].chars().count(),
    };
    let is_key_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    let mut steps = Vec::new();
    let mut rest = text;
    // Whether the next step must be a key: at the start and after a dot.
    let mut need_key = true;
    while !rest.is_empty() {
        let at = text.len() - rest.len();
        if let Some(inner) = rest.strip_prefix('[') {
            let Some(close) = inner.find(']') else {
                return Err(err(at, "`[` is never closed with `]`".into()));
            };
            if need_key {
                return Err(err(
                    at,
                    "a selector `[...]` follows a key, as in `shards[0]`".into(),
                ));
            }
            let sel = &inner[..close];
            if sel.is_empty() {
                return Err(err(
                    at,
                    "`[]` selects nothing; write [N] or [ID], as in `shards[0]`".into(),
                ));
            }
            if sel.contains('[') {
                return Err(err(at, "`[` inside a selector".into()));
            }
            steps.push(if sel.bytes().all(|b| b.is_ascii_digit()) {
                let i = sel
                    .parse()
                    .map_err(|_| err(at + 1, format!("`{sel}` is too large an index")))?;
                Step::Index(i)
            } else {
                Step::Id(sel.to_owned())
            });
            rest = &inner[close + 1..];
        } else if let Some(after) = rest.strip_prefix('.') {
            if need_key {
                return Err(err(at, "an empty key (a `.` with no key before it)".into()));
            }
            need_key = true;
            rest = after;
            if rest.is_empty() {
                return Err(err(text.len(), "the path ends with `.`".into()));
            }
            continue;
        } else {
            let end = rest.find(|c: char| !is_key_char(c)).unwrap_or(rest.len());
            if end == 0 {
                let c = rest.chars().next().expect("rest is not empty");
                return Err(err(
                    at,
                    format!("`{c}` cannot be in a key (keys are letters, digits, `_` and `-`)"),
                ));
            }
            if !need_key {
                return Err(err(at, "a key follows a `.`".into()));
            }
            steps.push(Step::Key(rest[..end].to_owned()));
            rest = &rest[end..];
        }
        need_key = false;
    }
    if steps.is_empty() {
        return Err(err(0, "an empty path".into()));
    }
    if steps.first() != Some(&Step::Key("variants".into())) {
        return Ok(Path {
            variant: None,
            steps,
        });
    }
    const HOW: &str = "a variant's value is `variants.NAME.<path>`, e.g. \
                       `variants.bisect-and-dlq.records.expired`";
    match steps.get(1) {
        Some(Step::Key(name)) if steps.len() > 2 => {
            let name = name.clone();
            Ok(Path {
                variant: Some(name),
                steps: steps.split_off(2),
            })
        }
        _ => Err(err(0, HOW.into())),
    }
}

/// A number (`0`, `5000`, `0.25`, `-1`, `1e6`), or a duration or size with its unit
/// where the path allows one.
fn parse_value(
    text: &str,
    column: usize,
    path: &Path,
    path_text: &str,
) -> Result<Value, ExpectError> {
    if let Some(x) = parse_number(text) {
        return Ok(Value::Number(x));
    }
    let duration = parse_duration(text);
    let size = parse_size(text);
    let value = text.to_owned();
    let path_text = path_text.to_owned();
    match path.unit() {
        Some(Unit::Millis) => match (duration, size) {
            (Ok(d), _) => Ok(Value::Duration(d)),
            (Err(_), Ok(_)) => Err(ExpectError::WrongUnit {
                value,
                found: "size",
                expected: "in milliseconds: give a duration like 250ms, 60s or 23h, or a \
                           number of milliseconds",
                path: path_text,
                column,
            }),
            (Err(e), Err(_)) => Err(ExpectError::Value {
                value,
                reason: format!(" or a duration: {e}"),
                column,
            }),
        },
        Some(Unit::Bytes) => match (duration, size) {
            (_, Ok(b)) => Ok(Value::Size(b)),
            (Ok(_), Err(_)) => Err(ExpectError::WrongUnit {
                value,
                found: "duration",
                expected: "in bytes: give a size like 512B, 1KiB or 1MiB, or a number of \
                           bytes",
                path: path_text,
                column,
            }),
            (Err(_), Err(e)) => Err(ExpectError::Value {
                value,
                reason: format!(" or a size: {e}"),
                column,
            }),
        },
        None => match (duration, size) {
            (Ok(_), _) => Err(ExpectError::UnitNotAllowed {
                value,
                kind: "duration",
                path: path_text,
                column,
            }),
            (_, Ok(_)) => Err(ExpectError::UnitNotAllowed {
                value,
                kind: "size",
                path: path_text,
                column,
            }),
            _ => Err(ExpectError::Value {
                value,
                reason: String::new(),
                column,
            }),
        },
    }
}

/// A plain decimal number, optionally signed and with an exponent. Words that Rust's
/// float parser also takes (`inf`, `NaN`) are not numbers here.
fn parse_number(text: &str) -> Option<f64> {
    let plain = text.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '-' | '+' | '.'))
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'));
    if !plain {
        return None;
    }
    text.parse::<f64>().ok().filter(|x| x.is_finite())
}

/// The candidate nearest to a mistyped `word`, if it is close enough to be the one
/// meant: at most two edits, and fewer than half the word.
fn closest<'a>(word: &str, candidates: &'a [String]) -> Option<&'a str> {
    let limit = 2.min(word.chars().count() / 2);
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.as_str())
}

/// Levenshtein distance, with a swap of two neighbours counted as one edit (the
/// commonest typo: `recrods`).
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // d[i][j]: distance between a[..i] and b[..j].
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

/// A list for messages, cut after [`MAX_LISTED`] items.
fn listed(items: Vec<String>) -> String {
    if items.is_empty() {
        return "none".to_owned();
    }
    let n = items.len();
    let mut shown: Vec<String> = items.into_iter().take(MAX_LISTED).collect();
    if n > MAX_LISTED {
        shown.push(format!("… and {} more", n - MAX_LISTED));
    }
    shown.join(", ")
}

fn list_or_none(names: &[String]) -> String {
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

/// The actual value for people: the number as the summary has it, and on a duration
/// path also the duration it is (`86400000 (1d)`), so that a failure against `23h`
/// reads without arithmetic.
pub fn describe_actual(e: &Expectation, actual: &Json) -> String {
    let plain = actual.to_string();
    match (e.path.unit(), actual.as_u64()) {
        (Some(Unit::Millis), Some(ms)) if ms >= 1_000 => {
            format!("{plain} ({})", SimDuration::from_millis(ms))
        }
        _ => plain,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_point_at_the_part() {
        assert_eq!(parse("records.expired >> 0").unwrap_err().column(), 17);
        assert_eq!(parse("  records.expired > 5m").unwrap_err().column(), 21);
        assert_eq!(parse("records..expired > 0").unwrap_err().column(), 9);
    }

    #[test]
    fn typos_are_matched_to_the_nearest_key() {
        let keys: Vec<String> = ["records", "invocations", "run"].map(String::from).into();
        assert_eq!(closest("recrods", &keys), Some("records"));
        assert_eq!(closest("invocation", &keys), Some("invocations"));
        assert_eq!(closest("xyz", &keys), None);
        assert_eq!(closest("latency", &keys), None);
    }

    #[test]
    fn split_parts_keeps_columns() {
        assert_eq!(
            split_parts(" a  bb\tc "),
            vec![(2, "a"), (5, "bb"), (8, "c")]
        );
    }
}
