//! `kinesim check <SCENARIO|DIR>...`: run each scenario and evaluate its `expect:` lines
//! (design.md §4, §5), printing every expectation with its actual value.
//!
//! A DIR stands for every `.yaml`, `.yml` and `.json` file directly in it, in name
//! order. A scenario runs only what its expectations read: the base if one reads it, and
//! each variant named in a `variants.NAME.` path; those runs are independent, so they run
//! on their own threads. A scenario without expectations is reported and not run.
//!
//! Everything is checked before the exit code is chosen, so one command shows every
//! problem. Exit code: 2 if any input is invalid (a scenario that does not load, a bad
//! expect line), else 3 if a run hit a limit, else 1 if an expectation failed, else 0.
//! Invalid input comes first because nothing about the others can be trusted until it
//! is fixed. Text output is printed scenario by scenario as each finishes; `--format
//! json` prints one document at the end. Problems also go to stderr, one line each.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use crate::report::paint::Paint;
use serde::Serialize;
use serde_json::Value as Json;

use super::{CliError, EXIT_EXPECTATION, EXIT_INVALID, EXIT_LIMIT, Out, report_error};
use crate::check::{self, Expectation};
use crate::model::RunError;
use crate::report::Summary;
use crate::scenario::{self, Loaded, Scenario, ScenarioError};

/// File name extensions a DIR argument picks up (the ones `scenario::load` reads).
const SCENARIO_EXTENSIONS: &[&str] = &["yaml", "yml", "json"];

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Scenario files, built-in names, or directories (every .yaml, .yml and .json file
    /// directly inside, in name order).
    #[arg(required = true, value_name = "SCENARIO|DIR")]
    pub scenarios: Vec<String>,
    /// How the results are printed on stdout.
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
}

/// The output of `check`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// One line per expectation (coloured on a terminal unless NO_COLOR is set).
    #[default]
    Text,
    /// One JSON document: per-scenario results and totals.
    Json,
}

/// What a check found, counted; its exit code is the command's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub scenarios: usize,
    pub expectations: usize,
    pub passed: usize,
    pub failed: usize,
    pub no_expectations: usize,
    pub invalid: usize,
    pub limit: usize,
}

impl Totals {
    /// The exit code of design.md §5; see the module docs for the order.
    pub fn exit_code(&self) -> u8 {
        if self.invalid > 0 {
            EXIT_INVALID
        } else if self.limit > 0 {
            EXIT_LIMIT
        } else if self.failed > 0 {
            EXIT_EXPECTATION
        } else {
            0
        }
    }

    fn add(&mut self, r: &ScenarioReport) {
        self.scenarios += 1;
        self.expectations += r.expectations.len();
        self.passed += r.expectations.iter().filter(|e| e.passed).count();
        self.failed += r.expectations.iter().filter(|e| !e.passed).count();
        match r.status {
            Status::NoExpectations => self.no_expectations += 1,
            Status::Invalid => self.invalid += 1,
            Status::Limit => self.limit += 1,
            Status::Passed | Status::Failed => {}
        }
    }

    /// The last line of the text output.
    fn summary_line(&self) -> String {
        let mut s = if self.expectations == 0 {
            format!(
                "checked {}: no expectations",
                plural(self.scenarios, "scenario")
            )
        } else {
            format!(
                "checked {}: {} of {} passed",
                plural(self.scenarios, "scenario"),
                self.passed,
                plural(self.expectations, "expectation"),
            )
        };
        for (n, what) in [
            (self.failed, "failed"),
            (self.no_expectations, "without expectations"),
            (self.invalid, "invalid"),
            (self.limit, "stopped at a run limit"),
        ] {
            if n > 0 {
                s.push_str(&format!(", {n} {what}"));
            }
        }
        s
    }
}

/// The message on stderr when the check did not pass: what went wrong, most serious first.
impl fmt::Display for Totals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if self.invalid > 0 {
            parts.push(format!("{} invalid", plural(self.invalid, "scenario")));
        }
        if self.limit > 0 {
            parts.push(format!(
                "{} stopped at a run limit",
                plural(self.limit, "scenario")
            ));
        }
        if self.failed > 0 {
            parts.push(format!(
                "{} of {} failed",
                self.failed,
                plural(self.expectations, "expectation")
            ));
        }
        if parts.is_empty() {
            parts.push(format!(
                "all {} passed",
                plural(self.expectations, "expectation")
            ));
        }
        f.write_str(&parts.join("; "))
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// One scenario's result, as `--format json` prints it.
#[derive(Debug, Serialize)]
struct ScenarioReport {
    /// The argument, or the file found in a DIR argument.
    input: String,
    /// The scenario's `name`, once it loaded.
    scenario: Option<String>,
    status: Status,
    /// Why the scenario is invalid or stopped; one message each.
    errors: Vec<String>,
    expectations: Vec<Row>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
enum Status {
    Passed,
    Failed,
    NoExpectations,
    Invalid,
    Limit,
}

/// One evaluated expectation.
#[derive(Debug, Serialize)]
struct Row {
    expect: String,
    variant: Option<String>,
    path: String,
    op: &'static str,
    /// The value compared with: milliseconds for a duration, bytes for a size.
    expected: Json,
    actual: Option<Json>,
    passed: bool,
    error: Option<String>,
    /// The actual value for the text output (`86400000 (1d)`).
    #[serde(skip)]
    shown: Option<String>,
}

/// A scenario to check: an argument as given (a file or a built-in name) or a file
/// found in a DIR argument.
enum Input {
    Arg(String),
    File(PathBuf),
    /// A DIR argument that yields nothing to check.
    BadDir {
        dir: String,
        message: String,
    },
}

impl Input {
    fn label(&self) -> String {
        match self {
            Input::Arg(a) => a.clone(),
            Input::File(p) => p.display().to_string(),
            Input::BadDir { dir, .. } => dir.clone(),
        }
    }
}

pub fn check(args: &CheckArgs, out: &mut Out<'_>) -> Result<(), CliError> {
    let inputs: Vec<Input> = args.scenarios.iter().flat_map(|a| expand(a)).collect();
    let mut totals = Totals::default();
    let mut reports = Vec::new();
    for input in &inputs {
        let report = check_one(input);
        totals.add(&report);
        if args.format == CheckFormat::Text {
            out.emit(render_text(&report, out.colour).as_bytes())?;
        }
        reports.push(report);
    }
    match args.format {
        CheckFormat::Text => out.emit(format!("{}\n", totals.summary_line()).as_bytes())?,
        CheckFormat::Json => {
            let doc = serde_json::json!({
                "scenarios": reports,
                "totals": totals,
                "exit_code": totals.exit_code(),
            });
            let mut text = serde_json::to_string_pretty(&doc).expect("the results serialise");
            text.push('\n');
            out.emit(text.as_bytes())?;
        }
    }
    if totals.exit_code() == 0 {
        Ok(())
    } else {
        Err(CliError::Check(totals))
    }
}

/// An argument as the scenarios it stands for: a directory's scenario files in name
/// order (not its subdirectories), anything else as itself.
fn expand(arg: &str) -> Vec<Input> {
    let dir = Path::new(arg);
    if !dir.is_dir() {
        return vec![Input::Arg(arg.to_owned())];
    }
    let bad = |message: String| {
        vec![Input::BadDir {
            dir: arg.to_owned(),
            message,
        }]
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => return bad(format!("{arg}: cannot read the directory: {e}")),
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file()
                && p.extension()
                    .and_then(|x| x.to_str())
                    .is_some_and(|x| SCENARIO_EXTENSIONS.contains(&x))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return bad(format!(
            "{arg}: no scenario files (.yaml, .yml or .json) in this directory"
        ));
    }
    files.into_iter().map(Input::File).collect()
}

fn check_one(input: &Input) -> ScenarioReport {
    let mut report = ScenarioReport {
        input: input.label(),
        scenario: None,
        status: Status::Invalid,
        errors: Vec::new(),
        expectations: Vec::new(),
    };
    let loaded = match input {
        Input::Arg(a) => scenario::load(a),
        Input::File(p) => scenario::load_path(p),
        Input::BadDir { message, .. } => {
            eprint_line(&format!("error: {message}"));
            report.errors.push(message.clone());
            return report;
        }
    };
    let loaded = match loaded {
        Ok(l) => l,
        Err(e) => {
            report.errors = scenario_messages(&e);
            report_error(&CliError::Scenario(e));
            return report;
        }
    };
    report.scenario = Some(loaded.base.name.clone());
    if loaded.base.expect.is_empty() {
        report.status = Status::NoExpectations;
        return report;
    }
    let expectations = match parse_expectations(&loaded) {
        Ok(e) => e,
        Err(messages) => {
            for m in &messages {
                eprint_line(m);
            }
            report.errors = messages;
            return report;
        }
    };
    let summaries = match run_needed(&loaded, &expectations) {
        Ok(s) => s,
        Err((status, messages)) => {
            for m in &messages {
                eprint_line(&format!("error: {m}"));
            }
            report.status = status;
            report.errors = messages;
            return report;
        }
    };
    let (base, variants) = summaries;
    let base = base.unwrap_or(Json::Null);
    report.expectations = expectations
        .iter()
        .map(|e| {
            let outcome = check::evaluate(e, &base, &variants);
            Row {
                expect: e.text.clone(),
                variant: e.path.variant.clone(),
                path: e.path.steps_text(),
                op: e.op.symbol(),
                expected: number(e.value.as_f64()),
                shown: outcome
                    .actual
                    .as_ref()
                    .map(|a| check::describe_actual(e, a)),
                actual: outcome.actual,
                passed: outcome.passed,
                error: outcome.error,
            }
        })
        .collect();
    report.status = if report.expectations.iter().all(|r| r.passed) {
        Status::Passed
    } else {
        Status::Failed
    };
    report
}

/// Each problem of a scenario that did not load, one message per position.
fn scenario_messages(e: &ScenarioError) -> Vec<String> {
    match e.diagnostics() {
        [] => vec![e.to_string()],
        diags => diags.iter().map(ToString::to_string).collect(),
    }
}

/// Every expect line parsed, or one message per bad line, `file:line:col: expect[i]:`
/// when the line can be found in the file's text.
fn parse_expectations(loaded: &Loaded) -> Result<Vec<Expectation>, Vec<String>> {
    let names = loaded.variant_names();
    let mut good = Vec::new();
    let mut bad = Vec::new();
    for (i, line) in loaded.base.expect.iter().enumerate() {
        match check::parse_for(line, &names) {
            Ok(e) => good.push(e),
            Err(e) => {
                let at = match locate(loaded.source(), line) {
                    Some((l, c)) => {
                        let lead = line.chars().take_while(|c| c.is_whitespace()).count();
                        format!(":{l}:{}", c + e.column().saturating_sub(1 + lead))
                    }
                    None => String::new(),
                };
                bad.push(format!("{}{at}: expect[{i}]: {e}", loaded.origin()));
            }
        }
    }
    if bad.is_empty() { Ok(good) } else { Err(bad) }
}

/// The 1-based line and column where `line` (trimmed) is written in `source`, if it is
/// written on exactly one line. The loaded scenario keeps only the text of an expect
/// line, not its position; when a line is found once, that is where it was written.
fn locate(source: &str, line: &str) -> Option<(usize, usize)> {
    let needle = line.trim();
    if needle.is_empty() {
        return None;
    }
    let mut found = source.lines().enumerate().filter_map(|(n, l)| {
        l.find(needle)
            .map(|at| (n + 1, l[..at].chars().count() + 1))
    });
    let first = found.next()?;
    found.next().is_none().then_some(first)
}

type Summaries = (Option<Json>, BTreeMap<String, Json>);

/// Runs the base if an expectation reads it and each variant an expectation names,
/// in parallel, and returns their summaries as JSON.
fn run_needed(loaded: &Loaded, exps: &[Expectation]) -> Result<Summaries, (Status, Vec<String>)> {
    let mut runs: Vec<(Option<String>, Scenario)> = Vec::new();
    if exps.iter().any(|e| e.path.variant.is_none()) {
        runs.push((None, loaded.base.clone()));
    }
    // In file order, each once.
    for name in loaded.variant_names() {
        if exps
            .iter()
            .any(|e| e.path.variant.as_deref() == Some(&name))
        {
            match loaded.variant(&name) {
                Ok(s) => runs.push((Some(name), s)),
                Err(e) => return Err((Status::Invalid, scenario_messages(&e))),
            }
        }
    }
    let results = run_all(&runs);
    let mut base = None;
    let mut variants = BTreeMap::new();
    let mut limits = Vec::new();
    let mut status = Status::Limit;
    for ((variant, _), result) in runs.iter().zip(results) {
        let which = match variant {
            Some(v) => format!("variant {v}"),
            None => "base".to_owned(),
        };
        match result {
            Ok(summary) => {
                let json = serde_json::to_value(&summary).expect("the summary serialises");
                match variant {
                    Some(v) => {
                        variants.insert(v.clone(), json);
                    }
                    None => base = Some(json),
                }
            }
            Err(RunError::Limit(l)) => {
                limits.push(format!("{} ({which}): {l}", loaded.origin()));
            }
            // No output files are asked for, so a run has nothing to write; if it
            // ever fails to, that is a fault of this machine, not a limit.
            Err(RunError::Output(e)) => {
                status = Status::Invalid;
                limits.push(format!("{} ({which}): {e}", loaded.origin()));
            }
        }
    }
    if limits.is_empty() {
        Ok((base, variants))
    } else {
        Err((status, limits))
    }
}

/// Simulates each scenario, all at once, each on its own thread.
fn run_all(runs: &[(Option<String>, Scenario)]) -> Vec<Result<Summary, RunError>> {
    super::simulate_all(runs, runs.len(), &|| {})
}

/// A number as JSON: an integer when it is one (`23h` is 82800000, not 82800000.0).
fn number(x: f64) -> Json {
    // Beyond 2^53 an f64 no longer holds every integer; print it as the float it is.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    if x.fract() == 0.0 && x.abs() < EXACT {
        Json::from(x as i64)
    } else {
        Json::from(x)
    }
}

/// A scenario's lines of the text output: `NAME: EXPECT  ok|FAIL  actual ...`, the
/// columns aligned within the scenario.
fn render_text(r: &ScenarioReport, colour: bool) -> String {
    let p = Paint(colour);
    let name = r.scenario.as_deref().unwrap_or(&r.input);
    let mut s = String::new();
    match r.status {
        Status::NoExpectations => {
            s.push_str(&format!("{name}: {}\n", p.dim("no expectations (not run)")));
        }
        Status::Invalid => {
            s.push_str(&format!(
                "{name}: {} (not checked; the errors are on stderr)\n",
                p.red("INVALID")
            ));
        }
        Status::Limit => {
            s.push_str(&format!(
                "{name}: {} (a run stopped at its event limit; see stderr)\n",
                p.yellow("LIMIT")
            ));
        }
        Status::Passed | Status::Failed => {
            let width = r
                .expectations
                .iter()
                .map(|e| e.expect.chars().count())
                .max();
            let width = width.unwrap_or(0);
            for e in &r.expectations {
                let status = if e.passed {
                    p.green("ok  ")
                } else {
                    p.red("FAIL")
                };
                let detail = match (&e.error, &e.shown) {
                    (Some(error), _) => error.clone(),
                    (None, Some(actual)) => format!("actual {actual}"),
                    (None, None) => String::new(),
                };
                let line = format!("{name}: {:<width$}  {status}  {detail}", e.expect);
                s.push_str(line.trim_end());
                s.push('\n');
            }
        }
    }
    s
}

/// Writes one line on stderr; a failing stderr is ignored (nowhere left to say it).
fn eprint_line(line: &str) {
    let _ = writeln!(io::stderr().lock(), "{line}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_code_puts_invalid_before_limit_before_failure() {
        let t = |invalid, limit, failed| Totals {
            invalid,
            limit,
            failed,
            ..Totals::default()
        };
        assert_eq!(t(0, 0, 0).exit_code(), 0);
        assert_eq!(t(0, 0, 1).exit_code(), EXIT_EXPECTATION);
        assert_eq!(t(0, 1, 1).exit_code(), EXIT_LIMIT);
        assert_eq!(t(1, 1, 1).exit_code(), EXIT_INVALID);
    }

    #[test]
    fn locate_finds_a_line_written_once() {
        let src = "expect:\n  - records.expired > 0\n  - a > 1\n  - a > 1\n";
        assert_eq!(locate(src, "records.expired > 0"), Some((2, 5)));
        assert_eq!(locate(src, "a > 1"), None);
    }

    #[test]
    fn integral_numbers_print_as_integers() {
        assert_eq!(number(82_800_000.0).to_string(), "82800000");
        assert_eq!(number(0.5).to_string(), "0.5");
    }
}
