//! `kinesim run`: load a scenario (or one of its variants), apply the command-line
//! overrides, simulate, and print the summary.
//!
//! The trace file is written completely or not at all: the run writes into a temporary
//! file beside it, which is renamed over the target only when the run succeeded and
//! removed otherwise. The summary is rendered in memory and printed in one write.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use clap::Args;

use super::{CliError, Format, Out};
use crate::model::{Outputs, RunError};
use crate::observe::timeseries::ShardSample;
use crate::report::files::{self, ReportRun};
use crate::report::{Summary, markdown, text, timeline};
use crate::scenario::{self, ProducerKind, Scenario};
use crate::time::{SimDuration, SimTime, US_PER_S};

#[derive(Debug, Args)]
pub struct RunArgs {
    /// A scenario file (.yaml, .yml, .json) or the name of a built-in scenario.
    pub scenario: String,
    /// Seed the run with N instead of the scenario's `seed`.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Simulate D (e.g. 90m, 2h, 7d) instead of the scenario's `duration`.
    #[arg(long, value_name = "D", value_parser = parse_positive_duration)]
    pub duration: Option<SimDuration>,
    /// Run this variant instead of the base scenario.
    #[arg(long, value_name = "NAME")]
    pub variant: Option<String>,
    /// How the summary is printed on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Write one JSON line per event of interest (invocations, bisections, discards,
    /// expiries, reshards) to FILE; written completely or not at all.
    #[arg(long, value_name = "FILE")]
    pub trace: Option<PathBuf>,
    /// Write the on-failure destination messages, in the AWS shape, one per line.
    #[arg(long, value_name = "FILE")]
    pub destination: Option<PathBuf>,
    /// Write the event each invocation receives (the exact Kinesis event JSON), one per line.
    #[arg(long, value_name = "FILE")]
    pub events: Option<PathBuf>,
    /// Write a report into DIR: report.html (one self-contained page), report.md,
    /// summary.json, timeseries.csv and the charts as .svg files; all or nothing. An
    /// existing DIR is replaced only if it holds nothing but such files.
    #[arg(long, value_name = "DIR")]
    pub report: Option<PathBuf>,
}

/// `--duration`: a scenario-format duration that is not zero.
pub(crate) fn parse_positive_duration(text: &str) -> Result<SimDuration, String> {
    let d = scenario::units::parse_duration(text)?;
    if d.is_zero() {
        return Err("the simulated duration must be greater than 0s".to_string());
    }
    Ok(d)
}

/// The scenario the command line asks for: the base or a variant, with `--seed` and
/// `--duration` applied.
pub fn plan(args: &RunArgs) -> Result<Scenario, CliError> {
    plan_of(
        &args.scenario,
        args.variant.as_deref(),
        args.seed,
        args.duration,
    )
}

/// [`plan`] from its parts, for the commands that run one scenario as `run` does
/// (`watch`).
pub(crate) fn plan_of(
    scenario: &str,
    variant: Option<&str>,
    seed: Option<u64>,
    duration: Option<SimDuration>,
) -> Result<Scenario, CliError> {
    let loaded = scenario::load(scenario)?;
    let mut s = match variant {
        Some(name) => loaded.variant(name)?,
        None => loaded.base,
    };
    if let Some(seed) = seed {
        s.seed = seed;
    }
    if let Some(d) = duration {
        set_duration(&mut s, d);
    }
    Ok(s)
}

/// Sets the simulated duration. A producer whose `end` was the old duration (the
/// default, "until the end") keeps writing until the new end when the run is made
/// longer; a shorter run simply stops earlier, so nothing else changes.
pub(crate) fn set_duration(s: &mut Scenario, d: SimDuration) {
    let old_end = SimTime::ZERO + s.duration;
    let new_end = SimTime::ZERO + d;
    if new_end > old_end {
        for p in &mut s.producers {
            if let ProducerKind::Rate(r) = &mut p.kind
                && r.end == old_end
            {
                r.end = new_end;
            }
        }
    }
    s.duration = d;
}

pub fn run(args: &RunArgs, out: &mut Out<'_>) -> Result<(), CliError> {
    let s = plan(args)?;
    let variant = args.variant.as_deref();
    // Every output file is written beside its target and moved into place only when
    // the whole run succeeded.
    let mut outputs = Outputs::default();
    let mut temps = vec![];
    for (flag, path, slot) in [
        ("--trace", &args.trace, &mut outputs.trace),
        ("--destination", &args.destination, &mut outputs.destination),
        ("--events", &args.events, &mut outputs.events),
    ] {
        if let Some(path) = path {
            let (tmp, file) =
                TempFile::beside(path).map_err(|source| file_error(flag, path, source))?;
            *slot = Some(Box::new(BufWriter::new(file)) as Box<dyn Write>);
            temps.push((flag, path, tmp));
        }
    }
    // Checked and staged before the run, so that a bad DIR costs no simulation.
    let staged = match &args.report {
        Some(dir) => {
            Some(StagedDir::beside(dir).map_err(|source| file_error("--report", dir, source))?)
        }
        None => None,
    };
    // The text summary ends with the shard timeline, and a report charts the run: both
    // need the time series (a row per shard per sample, small next to the run itself).
    let with_series = args.format == Format::Text || staged.is_some();
    // Long runs show how far they are, in simulated seconds (a terminal only).
    let bar = super::progress_bar(
        s.duration.0 / US_PER_S,
        "simulating {pos}/{len} s {wide_bar} {elapsed} eta {eta}",
    );
    let progress = |now: SimTime, _end: SimTime| bar.set_position(now.0 / US_PER_S);
    let result = if with_series {
        crate::simulate_reporting(&s, variant, outputs, progress)
    } else {
        let mut world = crate::World::new(&s, outputs);
        world
            .run_reporting(progress)
            .map(|()| (Summary::of(&world, variant), vec![]))
    };
    bar.finish_and_clear();
    let (summary, series) = result.map_err(|e| match e {
        RunError::Limit(l) => CliError::Limit(l),
        RunError::Output(source) => CliError::File {
            flag: "output",
            path: "files".into(),
            source,
        },
    })?;
    if let (Some(dir), Some(staged)) = (&args.report, &staged) {
        let run = ReportRun {
            summary: &summary,
            samples: &series,
            retention_ms: crate::report::files::retention_steps(&s),
        };
        let json = render(&summary, &[], Format::Json, false);
        write_report(staged, files::files(&run), json)
            .map_err(|source| file_error("--report", dir, source))?;
    }
    // The world, and with it every writer, is gone: the files are flushed and closed.
    for (flag, path, tmp) in temps {
        tmp.persist(path)
            .map_err(|source| file_error(flag, path, source))?;
    }
    if let (Some(dir), Some(staged)) = (&args.report, staged) {
        staged
            .persist(dir)
            .map_err(|source| file_error("--report", dir, source))?;
    }
    out.emit(&render(&summary, &series, args.format, out.colour))
}

/// The names a report writes; a directory holding only these may be replaced.
fn is_report_file(name: &str) -> bool {
    matches!(
        name,
        "report.html" | "report.md" | "summary.json" | "timeseries.csv"
    ) || name.ends_with(".svg")
}

/// Writes every file of a report and its `summary.json` (the command's own
/// `--format json`) into the staging directory.
pub(crate) fn write_report(
    staged: &StagedDir,
    mut all: files::Files,
    summary_json: Vec<u8>,
) -> io::Result<()> {
    all.push(("summary.json".to_string(), summary_json));
    for (name, bytes) in all {
        fs::write(staged.path().join(name), bytes)?;
    }
    Ok(())
}

/// The summary in `format`, whole, so that it is printed in one write or not at all.
/// The text form ends with the shard timeline of `series`.
fn render(summary: &Summary, series: &[ShardSample], format: Format, colour: bool) -> Vec<u8> {
    let mut buf = Vec::new();
    match format {
        Format::Text => text::write_text_styled(summary, &mut buf, colour)
            .and_then(|()| timeline::write_text(summary, series, &mut buf, colour)),
        Format::Markdown => markdown::write_markdown(summary, &mut buf),
        Format::Json => serde_json::to_writer_pretty(&mut buf, summary)
            .map_err(io::Error::from)
            .and_then(|()| writeln!(buf)),
    }
    .expect("writing into memory cannot fail");
    buf
}

pub(crate) fn file_error(flag: &'static str, path: &Path, source: io::Error) -> CliError {
    CliError::File {
        flag,
        path: path.display().to_string(),
        source,
    }
}

/// The path of a file being written beside its final path; removed on drop unless
/// persisted (an error, a run limit or a panic all leave nothing behind).
struct TempFile {
    path: Option<PathBuf>,
}

impl TempFile {
    /// Creates `.NAME.PID-N.tmp` beside `target`.
    fn beside(target: &Path) -> io::Result<(TempFile, File)> {
        let mut file = None;
        let path = free_name_beside(target, "tmp", |p| {
            file = Some(File::options().write(true).create_new(true).open(p)?);
            Ok(())
        })?;
        let file = file.expect("created with the name");
        Ok((TempFile { path: Some(path) }, file))
    }

    /// Moves the file over `target` (replacing it) and keeps it. Every handle to it must
    /// be closed first.
    fn persist(mut self, target: &Path) -> io::Result<()> {
        let path = self.path.take().expect("persisted once");
        match fs::rename(&path, target) {
            Ok(()) => Ok(()),
            Err(e) => {
                let _ = fs::remove_file(&path);
                Err(e)
            }
        }
    }
}

/// A directory being filled beside its final path (`.NAME.PID-N.tmp`), removed with
/// everything in it on drop unless persisted.
pub(crate) struct StagedDir {
    path: Option<PathBuf>,
}

impl StagedDir {
    /// Checks that `target` is absent, or a directory of report files only (so that a
    /// report never replaces anything else), and creates the staging directory.
    pub(crate) fn beside(target: &Path) -> io::Result<StagedDir> {
        if let Some(kept) = foreign_entry(target)? {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!(
                    "exists and holds {kept}, which is not a report file; remove it or choose another directory"
                ),
            ));
        }
        let path = free_name_beside(target, "tmp", |p| fs::create_dir(p))?;
        Ok(StagedDir { path: Some(path) })
    }

    fn path(&self) -> &Path {
        self.path.as_deref().expect("not yet persisted")
    }

    /// Moves the directory to `target`. An earlier report there is moved aside first and
    /// removed once the new one is in place (put back if the move fails).
    pub(crate) fn persist(mut self, target: &Path) -> io::Result<()> {
        let path = self.path.take().expect("persisted once");
        let result = (|| {
            let old = match fs::symlink_metadata(target) {
                Ok(_) => {
                    // Checked again: the directory may have changed during the run.
                    if let Some(kept) = foreign_entry(target)? {
                        return Err(io::Error::new(
                            io::ErrorKind::AlreadyExists,
                            format!("now holds {kept}, which is not a report file"),
                        ));
                    }
                    let old = free_name_beside(target, "old", |_| Ok(()))?;
                    fs::rename(target, &old)?;
                    Some(old)
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => None,
                Err(e) => return Err(e),
            };
            if let Err(e) = fs::rename(&path, target) {
                if let Some(old) = &old {
                    let _ = fs::rename(old, target);
                }
                return Err(e);
            }
            if let Some(old) = old {
                // Only report files are in it (checked above).
                let _ = fs::remove_dir_all(old);
            }
            Ok(())
        })();
        if result.is_err() {
            let _ = fs::remove_dir_all(&path);
        }
        result
    }
}

impl Drop for StagedDir {
    fn drop(&mut self) {
        if let Some(path) = self.path.take() {
            let _ = fs::remove_dir_all(path);
        }
    }
}

/// The first entry of directory `target` that a report would not have written, if any;
/// `target` being something other than a directory counts as one. Nothing: `None`.
fn foreign_entry(target: &Path) -> io::Result<Option<String>> {
    let meta = match fs::symlink_metadata(target) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    if !meta.is_dir() {
        return Ok(Some("a file (not a directory)".into()));
    }
    let mut names: Vec<String> = fs::read_dir(target)?
        .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect::<io::Result<_>>()?;
    names.sort();
    Ok(names
        .into_iter()
        .find(|n| !is_report_file(n))
        .map(|n| format!("`{n}`")))
}

/// `.NAME.PID-N.SUFFIX` in the directory of `target`, for the first N that does not exist
/// yet and that `create` accepts: beside it, so that the final rename stays on one file
/// system and replaces the target in one step.
fn free_name_beside(
    target: &Path,
    suffix: &str,
    mut create: impl FnMut(&Path) -> io::Result<()>,
) -> io::Result<PathBuf> {
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = target
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?
        .to_string_lossy();
    let pid = std::process::id();
    for n in 0..100 {
        let path = dir.join(format!(".{name}.{pid}-{n}.{suffix}"));
        if fs::symlink_metadata(&path).is_ok() {
            continue;
        }
        match create(&path) {
            Ok(()) => return Ok(path),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        "no free temporary file name",
    ))
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(path) = self.path.take() {
            let _ = fs::remove_file(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duration_must_be_positive_and_have_a_unit() {
        assert_eq!(
            parse_positive_duration("2h"),
            Ok(SimDuration::from_hours(2))
        );
        assert!(parse_positive_duration("0s").is_err());
        assert!(parse_positive_duration("10").is_err());
    }

    #[test]
    fn temp_file_is_removed_unless_persisted() {
        let dir = std::env::temp_dir().join(format!("kinesim-run-test-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let target = dir.join("trace.jsonl");
        let (tmp, file) = TempFile::beside(&target).unwrap();
        let tmp_path = tmp.path.clone().unwrap();
        assert!(tmp_path.exists());
        drop(file);
        drop(tmp);
        assert!(!tmp_path.exists());
        assert!(!target.exists());

        let (tmp, mut file) = TempFile::beside(&target).unwrap();
        io::Write::write_all(&mut file, b"x\n").unwrap();
        drop(file);
        tmp.persist(&target).unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"x\n");
        fs::remove_dir_all(&dir).unwrap();
    }
}
