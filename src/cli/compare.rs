//! `kinesim compare SCENARIO`: run the base and every variant, each on its own thread,
//! and print them side by side (design.md §5; the table is `report::compare`).
//!
//! Columns come in file order, base first, whatever order the runs finish in. Nothing
//! is printed unless every run finished: a table with a missing column would invite
//! the wrong choice. A scenario without variants still runs, as one column, with a note
//! on stderr saying how to add some.

use std::io::{self, Write};
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::run::{StagedDir, file_error, write_report};
use super::{CliError, Out, Overrides, run_all, simulate_all};
use crate::model::RunError;
use crate::report::compare;
use crate::report::files::{self, ReportRun};
use crate::scenario;

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// A scenario file (.yaml, .yml, .json) or the name of a built-in scenario.
    pub scenario: String,
    /// How the comparison is printed on stdout.
    #[arg(long, value_enum, default_value_t = CompareFormat::Text)]
    pub format: CompareFormat,
    #[command(flatten)]
    pub overrides: Overrides,
    /// Write one report of every run side by side into DIR: report.html, report.md,
    /// summary.json (as `--format json`), timeseries.csv (with a `run` column) and each
    /// run's charts as NAME-*.svg; all or nothing, as `run --report`.
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
}

/// The output of `compare`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum CompareFormat {
    /// A table with a column per run (coloured on a terminal unless NO_COLOR is set).
    #[default]
    Text,
    /// The same table in Markdown.
    Markdown,
    /// `{"base": SUMMARY, "variants": {"NAME": SUMMARY, ...}}`, each the JSON summary.
    Json,
}

pub fn compare(args: &CompareArgs, out: &mut Out<'_>) -> Result<(), CliError> {
    let loaded = scenario::load(&args.scenario)?;
    let names = loaded.variant_names();
    if names.is_empty() {
        let _ = writeln!(
            io::stderr().lock(),
            "note: {} has no variants: showing the base alone (add `variants:` to the \
             scenario to compare alternatives)",
            loaded.origin()
        );
    }
    let mut runs = vec![(None, loaded.base.clone())];
    for name in names {
        let s = loaded.variant(&name)?;
        runs.push((Some(name), s));
    }
    for (_, s) in &mut runs {
        args.overrides.apply(s);
    }
    // Checked and staged before the runs, so that a bad DIR costs no simulation.
    let staged = match &args.report {
        Some(dir) => {
            Some(StagedDir::beside(dir).map_err(|source| file_error("--report", dir, source))?)
        }
        None => None,
    };
    let results = if staged.is_some() {
        // Every run on its own thread, as `compare` runs them, keeping its time series.
        run_all(&runs, runs.len(), &|| {}, |variant, s| {
            crate::simulate_with_series(s, variant, crate::Outputs::default())
        })
    } else {
        simulate_all(&runs, runs.len(), &|| {})
            .into_iter()
            .map(|r| r.map(|s| (s, vec![])))
            .collect()
    };
    let mut summaries = Vec::with_capacity(runs.len());
    let mut series = Vec::with_capacity(runs.len());
    let mut unfinished = Vec::new();
    for ((variant, _), result) in runs.iter().zip(results) {
        match result {
            Ok((s, rows)) => {
                summaries.push(s);
                series.push(rows);
            }
            Err(e) => unfinished.push(unfinished_run(variant.as_deref(), &e)),
        }
    }
    if !unfinished.is_empty() {
        return Err(CliError::Unfinished {
            total: runs.len(),
            runs: unfinished,
        });
    }
    let (base, variants) = summaries.split_first().expect("the base always runs");
    let mut buf = Vec::new();
    match args.format {
        CompareFormat::Text => compare::write_text(base, variants, &mut buf, out.colour),
        CompareFormat::Markdown => compare::write_markdown(base, variants, &mut buf),
        CompareFormat::Json => compare::write_json(base, variants, &mut buf),
    }
    .expect("writing into memory cannot fail");
    if let (Some(dir), Some(staged)) = (&args.report, staged) {
        let report_runs: Vec<ReportRun<'_>> = summaries
            .iter()
            .zip(&series)
            .zip(&runs)
            .map(|((summary, samples), (_, s))| ReportRun {
                summary,
                samples,
                retention_ms: crate::report::files::retention_steps(s),
            })
            .collect();
        let mut json = Vec::new();
        compare::write_json(base, variants, &mut json).expect("writing into memory cannot fail");
        write_report(&staged, files::compare_files(&report_runs), json)
            .and_then(|()| staged.persist(dir))
            .map_err(|source| file_error("--report", dir, source))?;
    }
    out.emit(&buf)
}

/// `variant fix: the run hit its event limit ...`.
fn unfinished_run(variant: Option<&str>, e: &RunError) -> String {
    match variant {
        Some(v) => format!("variant {v}: {e}"),
        None => format!("base: {e}"),
    }
}
