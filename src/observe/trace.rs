//! The trace: one JSON line per event of interest, in simulated-time order (design.md §6.2).
//!
//! Lines are built only when a trace was asked for; a run without `--trace` pays one
//! branch per event of interest. Write errors are kept and reported once at the end.

use std::io::{self, Write};

use serde_json::{Value, json};

use crate::time::SimTime;

#[derive(Default)]
pub struct Trace {
    out: Option<Box<dyn Write>>,
    error: Option<io::Error>,
}

impl Trace {
    pub fn new(out: Option<Box<dyn Write>>) -> Self {
        Trace { out, error: None }
    }

    pub fn enabled(&self) -> bool {
        self.out.is_some()
    }

    /// Writes one line: `{"t_ms": .., "kind": .., ...fields}`.
    pub fn line(&mut self, t: SimTime, kind: &str, fields: Value) {
        let Some(out) = self.out.as_mut() else { return };
        if self.error.is_some() {
            return;
        }
        let mut obj = serde_json::Map::new();
        obj.insert("t_ms".into(), json!(t.as_millis()));
        obj.insert("kind".into(), json!(kind));
        if let Value::Object(m) = fields {
            obj.extend(m);
        }
        let mut line = serde_json::to_string(&Value::Object(obj)).expect("JSON values serialise");
        line.push('\n');
        if let Err(e) = out.write_all(line.as_bytes()) {
            self.error = Some(e);
        }
    }

    /// Flushes and returns the first write error, if any.
    pub fn finish(&mut self) -> io::Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        if let Some(out) = self.out.as_mut() {
            out.flush()?;
        }
        Ok(())
    }
}
