//! JSON-lines outputs: the trace (design.md §6.2), the on-failure destination messages
//! (§6.3) and the events the function receives (`--events`).
//!
//! Lines are built only when the output was asked for; a run without it pays one branch
//! per line it would have written. Write errors are kept and reported once at the end.

use std::io::{self, Write};

use serde_json::{Value, json};

use crate::time::SimTime;

/// A sink of JSON lines, or nothing.
#[derive(Default)]
pub struct JsonLines {
    out: Option<Box<dyn Write>>,
    error: Option<io::Error>,
}

impl JsonLines {
    pub fn new(out: Option<Box<dyn Write>>) -> Self {
        JsonLines { out, error: None }
    }

    pub fn enabled(&self) -> bool {
        self.out.is_some()
    }

    /// Writes one line of already-serialised JSON.
    pub fn write_line(&mut self, line: &str) {
        let Some(out) = self.out.as_mut() else { return };
        if self.error.is_some() {
            return;
        }
        let r = out
            .write_all(line.as_bytes())
            .and_then(|_| out.write_all(b"\n"));
        if let Err(e) = r {
            self.error = Some(e);
        }
    }

    pub fn write_value(&mut self, v: &Value) {
        if self.enabled() {
            let line = serde_json::to_string(v).expect("JSON values serialise");
            self.write_line(&line);
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

/// The trace: lines `{"t_ms": .., "kind": .., ...fields}` in simulated-time order.
#[derive(Default)]
pub struct Trace(JsonLines);

impl Trace {
    pub fn new(out: Option<Box<dyn Write>>) -> Self {
        Trace(JsonLines::new(out))
    }

    pub fn enabled(&self) -> bool {
        self.0.enabled()
    }

    /// Writes one line; `fields` is only built when the trace is on.
    pub fn line(&mut self, t: SimTime, kind: &str, fields: impl FnOnce() -> Value) {
        if !self.0.enabled() {
            return;
        }
        let fields = fields();
        let mut obj = serde_json::Map::new();
        obj.insert("t_ms".into(), json!(t.as_millis()));
        obj.insert("kind".into(), json!(kind));
        if let Value::Object(m) = fields {
            obj.extend(m);
        }
        self.0.write_value(&Value::Object(obj));
    }

    pub fn finish(&mut self) -> io::Result<()> {
        self.0.finish()
    }
}
