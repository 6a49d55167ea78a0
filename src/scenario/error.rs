//! What goes wrong when reading a scenario, said so that the user can fix it.
//!
//! Every problem inside a file is a `Diagnostic` printed as one line
//! `file:line:col: path: what is wrong (allowed: …)` (design.md §5). The position is the
//! offending value, or for a missing key the mapping that should hold it. A file that
//! cannot be read at all (missing, a directory, unreadable, empty) is its own case.

use std::fmt;

/// One problem at one place in a scenario file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file as the user named it (or `builtin:NAME` for the built-in library).
    pub file: String,
    /// 1-based line and column of the offending value (or of the parent mapping).
    pub line: u64,
    pub col: u64,
    /// Key path in the document: `event_source_mapping.BatchSize`, `producers[0].rate`,
    /// `variants[1].stream.shards`; `(document)` for the whole file.
    pub path: String,
    pub message: String,
    /// The allowed values or range, when there is a short way to say it.
    pub allowed: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}: {}",
            self.file, self.line, self.col, self.path, self.message
        )?;
        if let Some(allowed) = &self.allowed {
            write!(f, " (allowed: {allowed})")?;
        }
        Ok(())
    }
}

/// Why a scenario could not be loaded. All of these mean "invalid scenario or usage"
/// (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file was read but is not a valid scenario; every problem found, in file order.
    #[error("{}", Lines(.0))]
    Invalid(Vec<Diagnostic>),
    /// Neither a file nor the name of a built-in scenario.
    #[error("{path}: no such file, and not a built-in scenario (built-in: {builtins})")]
    NotFound { path: String, builtins: String },
    #[error("{path}: is a directory; give a scenario file (.yaml, .yml or .json)")]
    IsDirectory { path: String },
    #[error("{path}: cannot read: {source}")]
    Unreadable {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The file holds nothing but whitespace or comments.
    #[error(
        "{path}: the file is empty; a scenario needs at least name, duration, stream.shards, \
         producers and event_source_mapping.StartingPosition"
    )]
    Empty { path: String },
    /// `--variant NAME` names no variant of the scenario.
    #[error("{scenario}: no variant named `{name}` (variants: {})", list_or_none(.known))]
    UnknownVariant {
        scenario: String,
        name: String,
        known: Vec<String>,
    },
}

impl ScenarioError {
    /// The per-position problems, empty for the whole-file cases.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            ScenarioError::Invalid(d) => d,
            _ => &[],
        }
    }
}

fn list_or_none(names: &[String]) -> String {
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

struct Lines<'a>(&'a [Diagnostic]);

impl fmt::Display for Lines<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diag(allowed: Option<&str>) -> Diagnostic {
        Diagnostic {
            file: "a.yaml".into(),
            line: 3,
            col: 14,
            path: "event_source_mapping.BatchSize".into(),
            message: "20000 is out of range".into(),
            allowed: allowed.map(str::to_owned),
        }
    }

    #[test]
    fn diagnostic_prints_file_line_col_path_message_allowed() {
        assert_eq!(
            diag(Some("1..=10000")).to_string(),
            "a.yaml:3:14: event_source_mapping.BatchSize: 20000 is out of range (allowed: 1..=10000)"
        );
        assert_eq!(
            diag(None).to_string(),
            "a.yaml:3:14: event_source_mapping.BatchSize: 20000 is out of range"
        );
    }

    #[test]
    fn invalid_prints_one_line_per_diagnostic() {
        let e = ScenarioError::Invalid(vec![diag(None), diag(None)]);
        assert_eq!(e.to_string().lines().count(), 2);
        assert_eq!(e.diagnostics().len(), 2);
    }
}
