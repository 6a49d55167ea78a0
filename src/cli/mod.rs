//! The command line (design.md §5): the clap structs, one file per subcommand, and the
//! one place where errors become exit codes.
//!
//! Every command writes what it has to say into memory first and to stdout in one go,
//! so a summary is never half-printed; a closed stdout (`kinesim run x | head -1`) is a
//! success, not an error. Exit codes: 0 success, 1 an expectation failed, 2 an invalid
//! scenario or usage, 3 a run limit was hit.

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::engine::LimitHit;
use crate::model::{Outputs, RunError};
use crate::report::Summary;
use crate::scenario::{Scenario, ScenarioError};
use crate::time::SimDuration;

pub mod check;
pub mod compare;
pub mod run;
pub mod scenarios;
pub mod sweep;
pub mod validate;
pub mod watch;

/// Simulate Kinesis Data Streams feeding AWS Lambda through an event source mapping.
#[derive(Debug, Parser)]
#[command(name = "kinesim", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a scenario and print its summary.
    Run(run::RunArgs),
    /// Check scenario files (and their variants); print every problem.
    Validate(validate::ValidateArgs),
    /// Run scenarios and evaluate their `expect:` lines; exit 1 if one fails.
    Check(check::CheckArgs),
    /// Run a scenario and each of its variants; print them side by side.
    Compare(compare::CompareArgs),
    /// Run a scenario over a grid of settings (`--set PATH=V1,V2,...`); one row per point.
    Sweep(sweep::SweepArgs),
    /// List the built-in scenarios, or print one.
    Scenarios(scenarios::ScenariosArgs),
    /// Watch a run live: a row per shard scrolling in time, at a chosen speed
    /// (periodic plain lines when stdout is not a terminal).
    Watch(watch::WatchArgs),
}

/// How a summary is written on stdout.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A human summary (coloured on a terminal unless NO_COLOR is set).
    #[default]
    Text,
    /// The JSON summary: every counter, with stable keys (design.md §6.1).
    Json,
    /// The human summary as Markdown tables.
    Markdown,
}

/// Exit code: an expectation of `expect:` failed (used by `check`).
pub const EXIT_EXPECTATION: u8 = 1;
/// Exit code: an invalid scenario, or bad usage.
pub const EXIT_INVALID: u8 = 2;
/// Exit code: a run limit (`simulation.max_events`) was hit.
pub const EXIT_LIMIT: u8 = 3;

/// Why a command failed. Each case says what the user can do; `exit_code` maps it.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The scenario could not be loaded, or a variant named does not exist.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// `validate` found problems; they were printed as they were found.
    #[error("{bad} of {total} scenario{} invalid", if *.total == 1 { " is" } else { "s are" })]
    Invalid { bad: usize, total: usize },
    /// A name that is not a built-in scenario (`kinesim scenarios NAME`).
    #[error("no built-in scenario named `{name}` (built-in: {known})")]
    UnknownBuiltin { name: String, known: String },
    /// The run stopped at a limit; raise it in the scenario or shorten the run.
    #[error(transparent)]
    Limit(#[from] LimitHit),
    /// `check` did not pass; its results were printed, this says what went wrong.
    #[error("{0}")]
    Check(check::Totals),
    /// An output file (`--trace`, `--destination`, `--events`) could not be created,
    /// written or moved into place; nothing was left at its path.
    #[error("{flag} {path}: {source}")]
    File {
        flag: &'static str,
        path: String,
        #[source]
        source: io::Error,
    },
    /// Writing to stdout failed for a reason other than a closed pipe.
    #[error("writing the output: {0}")]
    Output(#[source] io::Error),
    /// Arguments that clap cannot check alone (a `--set` without `=`, a value given
    /// twice); the message says which argument and what it should look like.
    #[error("{0}")]
    Usage(String),
    /// Runs of `compare` or `sweep` that stopped before their end, one message each
    /// naming the run; `sweep` printed the others.
    #[error(
        "{} of {total} runs did not finish:\n  {}",
        .runs.len(),
        .runs.join("\n  ")
    )]
    Unfinished { total: usize, runs: Vec<String> },
}

impl CliError {
    /// The process exit code of design.md §5. I/O failures on files the user named are
    /// usage problems (2): the fix is another path or more space, never the scenario.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Scenario(_) | CliError::Invalid { .. } | CliError::UnknownBuiltin { .. } => {
                EXIT_INVALID
            }
            CliError::File { .. } | CliError::Output(_) | CliError::Usage(_) => EXIT_INVALID,
            // Only a limit stops a run that writes no files, as compare's and sweep's do.
            CliError::Limit(_) | CliError::Unfinished { .. } => EXIT_LIMIT,
            CliError::Check(totals) => totals.exit_code(),
        }
    }
}

/// Where a command writes: stdout (locked), and whether colour is wanted there.
pub struct Out<'a> {
    pub stdout: &'a mut dyn Write,
    /// Colour escapes are allowed: stdout is a terminal and `NO_COLOR` is unset.
    pub colour: bool,
}

impl Out<'_> {
    /// Writes a finished block of output in one call. A closed pipe is not an error: the
    /// reader has seen all it wanted.
    pub fn emit(&mut self, bytes: &[u8]) -> Result<(), CliError> {
        match self
            .stdout
            .write_all(bytes)
            .and_then(|()| self.stdout.flush())
        {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
            Err(e) => Err(CliError::Output(e)),
        }
    }
}

/// A progress bar on stderr, only where someone watches it: a terminal, outside CI.
/// Hidden otherwise, so output files and pipes never see it.
pub fn progress_bar(len: u64, template: &str) -> indicatif::ProgressBar {
    let watched = io::stderr().is_terminal() && std::env::var_os("CI").is_none();
    if !watched {
        return indicatif::ProgressBar::hidden();
    }
    let style = indicatif::ProgressStyle::with_template(template)
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    indicatif::ProgressBar::new(len).with_style(style)
}

/// Whether colour escapes may go to stdout (https://no-color.org: any non-empty value
/// of `NO_COLOR` turns colour off).
pub fn colour_wanted() -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    !no_color && io::stdout().is_terminal()
}

/// Runs one parsed command line and returns the process exit code; errors go to stderr.
pub fn main(cli: Cli) -> ExitCode {
    let stdout = io::stdout();
    let mut lock = stdout.lock();
    let mut out = Out {
        stdout: &mut lock,
        colour: colour_wanted(),
    };
    let result = match cli.command {
        Command::Run(args) => run::run(&args, &mut out),
        Command::Validate(args) => validate::validate(&args, &mut out),
        Command::Check(args) => check::check(&args, &mut out),
        Command::Compare(args) => compare::compare(&args, &mut out),
        Command::Sweep(args) => sweep::sweep(&args, &mut out),
        Command::Scenarios(args) => scenarios::scenarios(&args, &mut out),
        Command::Watch(args) => watch::watch(&args, &mut out),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            report_error(&e);
            ExitCode::from(e.exit_code())
        }
    }
}

/// `--seed` and `--duration`, for the commands that run a scenario several times
/// (`compare`, `sweep`): every run gets the same ones.
#[derive(Debug, Default, Args)]
pub struct Overrides {
    /// Seed every run with N instead of the scenario's `seed`.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Simulate D (e.g. 90m, 2h, 7d) instead of the scenario's `duration`.
    #[arg(long, value_name = "D", value_parser = run::parse_positive_duration)]
    pub duration: Option<SimDuration>,
}

impl Overrides {
    pub fn apply(&self, s: &mut Scenario) {
        if let Some(seed) = self.seed {
            s.seed = seed;
        }
        if let Some(d) = self.duration {
            run::set_duration(s, d);
        }
    }
}

/// Stack for a run on its own thread: as much as the main thread gets on Linux, so a
/// run behaves the same whether it ran alone or beside others.
const RUN_STACK_BYTES: usize = 8 << 20;

/// Simulates each `(variant label, scenario)`, up to `threads` at a time, and returns
/// the results in the order of `runs` whatever order they finish in; `done` is called
/// once after each run (from the thread that ran it). Runs share nothing, so each is
/// exactly what it would be alone (I-5). A single thread runs on the caller's thread.
pub(crate) fn simulate_all(
    runs: &[(Option<String>, Scenario)],
    threads: usize,
    done: &(dyn Fn() + Sync),
) -> Vec<Result<Summary, RunError>> {
    run_all(runs, threads, done, |variant, s| {
        crate::simulate(s, variant, Outputs::default())
    })
}

/// [`simulate_all`] with the simulation of one run given: `run(variant, scenario)`, e.g.
/// one that keeps the time series for a report.
pub(crate) fn run_all<T: Send>(
    runs: &[(Option<String>, Scenario)],
    threads: usize,
    done: &(dyn Fn() + Sync),
    run: impl Fn(Option<&str>, &Scenario) -> T + Sync,
) -> Vec<T> {
    let one = |(variant, s): &(Option<String>, Scenario)| {
        let result = run(variant.as_deref(), s);
        done();
        result
    };
    let threads = threads.min(runs.len());
    if threads <= 1 {
        return runs.iter().map(one).collect();
    }
    // Workers take the next index until none is left, so a long run does not hold up
    // short ones queued behind it; each result is put back in its run's slot.
    let next = AtomicUsize::new(0);
    let worker = || {
        let mut finished = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(run) = runs.get(i) else {
                return finished;
            };
            finished.push((i, one(run)));
        }
    };
    let mut results: Vec<Option<T>> = runs.iter().map(|_| None).collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                std::thread::Builder::new()
                    .stack_size(RUN_STACK_BYTES)
                    .spawn_scoped(scope, worker)
                    .expect("a thread for a run can be started")
            })
            .collect();
        for h in handles {
            let finished = h.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
            for (i, result) in finished {
                results[i] = Some(result);
            }
        }
    });
    results
        .into_iter()
        .map(|r| r.expect("every run was taken by a worker"))
        .collect()
}

/// Prints an error on stderr. Scenario problems are printed as they are, one
/// `file:line:col: path: message` line each, so that editors and CI can jump to them;
/// anything else gets clap's `error: ` prefix. A failing stderr is ignored: there is
/// nowhere left to say anything.
pub(crate) fn report_error(e: &CliError) {
    let text = match e {
        CliError::Scenario(ScenarioError::Invalid(_)) => format!("{e}\n"),
        _ => format!("error: {e}\n"),
    };
    let _ = io::stderr().lock().write_all(text.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_structure_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn exit_codes_follow_the_design() {
        let limit = CliError::Limit(LimitHit::MaxEvents {
            max_events: 3,
            at: crate::time::SimTime::ZERO,
        });
        assert_eq!(limit.exit_code(), EXIT_LIMIT);
        assert_eq!(
            CliError::Invalid { bad: 1, total: 2 }.exit_code(),
            EXIT_INVALID
        );
        assert_eq!(
            CliError::Invalid { bad: 1, total: 2 }.to_string(),
            "1 of 2 scenarios are invalid"
        );
        let unfinished = CliError::Unfinished {
            total: 3,
            runs: vec!["base: limit".into()],
        };
        assert_eq!(unfinished.exit_code(), EXIT_LIMIT);
        assert_eq!(
            unfinished.to_string(),
            "1 of 3 runs did not finish:\n  base: limit"
        );
        assert_eq!(CliError::Usage("--set x".into()).exit_code(), EXIT_INVALID);
    }

    #[test]
    fn a_closed_pipe_is_a_success() {
        struct Closed;
        impl Write for Closed {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let mut closed = Closed;
        let mut out = Out {
            stdout: &mut closed,
            colour: false,
        };
        assert!(out.emit(b"summary").is_ok());
    }
}
