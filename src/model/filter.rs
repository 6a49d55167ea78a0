//! FilterCriteria (R-FILTER-1): event patterns, matched against a record's partition key
//! and data before batching. A record passes if any pattern matches it.
//!
//! The pattern language is AWS's event-pattern syntax as far as stream records use it:
//! a pattern is a JSON object whose leaves are arrays of matchers; a record field matches
//! a leaf if it equals one of its values or satisfies one of its operators (`prefix`,
//! `suffix`, `anything-but`, `numeric`, `exists`, `equals-ignore-case`). An array in the
//! record matches if any of its elements does. The record is seen as
//! `{"partitionKey": .., "sequenceNumber": .., "data": ..}`, with `data` parsed as JSON
//! when it is JSON, as a string otherwise.

use serde_json::Value;

/// The mapping's patterns, parsed once.
#[derive(Clone, Debug, Default)]
pub struct Filters {
    patterns: Vec<Value>,
}

impl Filters {
    /// Parses the patterns (validation already checked they are JSON objects).
    pub fn new(patterns: &[String]) -> Self {
        Filters {
            patterns: patterns
                .iter()
                .filter_map(|p| serde_json::from_str(p).ok())
                .collect(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// Whether a record with this key and data passes (no patterns: everything passes).
    pub fn passes(&self, partition_key: &str, data: &[u8]) -> bool {
        if self.patterns.is_empty() {
            return true;
        }
        let data = serde_json::from_slice::<Value>(data)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(data).into_owned()));
        let record = serde_json::json!({ "partitionKey": partition_key, "data": data });
        self.patterns.iter().any(|p| matches_object(p, &record))
    }
}

/// Every key of the pattern object matches the record's field of that name.
fn matches_object(pattern: &Value, record: &Value) -> bool {
    let Value::Object(fields) = pattern else {
        return false;
    };
    fields.iter().all(|(key, want)| {
        let got = record.get(key);
        match want {
            Value::Object(_) => got.is_some_and(|g| match g {
                Value::Array(items) => items.iter().any(|i| matches_object(want, i)),
                _ => matches_object(want, g),
            }),
            Value::Array(matchers) => matchers.iter().any(|m| matches_leaf(m, got)),
            _ => false,
        }
    })
}

/// One matcher of a leaf against the record's value (absent: `None`).
fn matches_leaf(matcher: &Value, got: Option<&Value>) -> bool {
    if let Some(Value::Array(items)) = got {
        return items.iter().any(|i| matches_leaf(matcher, Some(i)));
    }
    let Value::Object(op) = matcher else {
        return got.is_some_and(|g| literal_eq(matcher, g));
    };
    let Some((name, arg)) = op.iter().next() else {
        return false;
    };
    match (name.as_str(), got) {
        ("exists", g) => arg.as_bool() == Some(g.is_some()),
        ("prefix", Some(Value::String(g))) => arg.as_str().is_some_and(|p| g.starts_with(p)),
        ("suffix", Some(Value::String(g))) => arg.as_str().is_some_and(|p| g.ends_with(p)),
        ("equals-ignore-case", Some(Value::String(g))) => {
            arg.as_str().is_some_and(|p| g.eq_ignore_ascii_case(p))
        }
        ("anything-but", Some(g)) => match arg {
            Value::Array(values) => !values.iter().any(|v| literal_eq(v, g)),
            Value::Object(_) => !matches_leaf(arg, Some(g)),
            v => !literal_eq(v, g),
        },
        ("numeric", Some(g)) => g.as_f64().is_some_and(|x| numeric(arg, x)),
        _ => false,
    }
}

fn literal_eq(want: &Value, got: &Value) -> bool {
    match (want.as_f64(), got.as_f64()) {
        (Some(a), Some(b)) => a == b,
        _ => want == got,
    }
}

/// `["<", 10, ">=", 0]`: every comparison holds.
fn numeric(arg: &Value, x: f64) -> bool {
    let Value::Array(parts) = arg else {
        return false;
    };
    parts.chunks(2).all(|c| {
        match (
            c.first().and_then(Value::as_str),
            c.get(1).and_then(Value::as_f64),
        ) {
            (Some("<"), Some(v)) => x < v,
            (Some("<="), Some(v)) => x <= v,
            (Some(">"), Some(v)) => x > v,
            (Some(">="), Some(v)) => x >= v,
            (Some("="), Some(v)) => x == v,
            _ => false,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(p: &str) -> Filters {
        Filters::new(&[p.to_string()])
    }

    #[test]
    fn r_filter_1_patterns_match_data_and_partition_key() {
        let orders = f(r#"{"data": {"type": ["order"]}}"#);
        assert!(orders.passes("k", br#"{"type": "order", "n": 1}"#));
        assert!(!orders.passes("k", br#"{"type": "refund"}"#));
        assert!(!orders.passes("k", b"not json"));
        let key = f(r#"{"partitionKey": [{"prefix": "eu-"}]}"#);
        assert!(key.passes("eu-1", b"x"));
        assert!(!key.passes("us-1", b"x"));
        let big = f(r#"{"data": {"n": [{"numeric": [">", 10, "<=", 20]}]}}"#);
        assert!(big.passes("k", br#"{"n": 15}"#));
        assert!(!big.passes("k", br#"{"n": 5}"#));
        let has = f(r#"{"data": {"id": [{"exists": true}]}}"#);
        assert!(has.passes("k", br#"{"id": 1}"#));
        assert!(!has.passes("k", br#"{"other": 1}"#));
        let not = f(r#"{"data": {"type": [{"anything-but": ["test"]}]}}"#);
        assert!(not.passes("k", br#"{"type": "order"}"#));
        assert!(!not.passes("k", br#"{"type": "test"}"#));
        let any = Filters::new(&[
            r#"{"data": {"type": ["a"]}}"#.into(),
            r#"{"data": {"type": ["b"]}}"#.into(),
        ]);
        assert!(
            any.passes("k", br#"{"type": "b"}"#),
            "any pattern may match"
        );
        assert!(
            Filters::default().passes("k", b"x"),
            "no patterns: everything passes"
        );
    }
}
