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
use crate::report::{Summary, markdown, text};
use crate::scenario::{self, ProducerKind, Scenario};
use crate::time::{SimDuration, SimTime};

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
    let loaded = scenario::load(&args.scenario)?;
    let mut s = match &args.variant {
        Some(name) => loaded.variant(name)?,
        None => loaded.base,
    };
    if let Some(seed) = args.seed {
        s.seed = seed;
    }
    if let Some(d) = args.duration {
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
    let summary = crate::simulate(&s, variant, outputs).map_err(|e| match e {
        RunError::Limit(l) => CliError::Limit(l),
        RunError::Output(source) => CliError::File {
            flag: "output",
            path: "files".into(),
            source,
        },
    })?;
    // The world, and with it every writer, is gone: the files are flushed and closed.
    for (flag, path, tmp) in temps {
        tmp.persist(path)
            .map_err(|source| file_error(flag, path, source))?;
    }
    out.emit(&render(&summary, args.format, out.colour))
}

/// The summary in `format`, whole, so that it is printed in one write or not at all.
fn render(summary: &Summary, format: Format, colour: bool) -> Vec<u8> {
    let mut buf = Vec::new();
    match format {
        Format::Text => text::write_text_styled(summary, &mut buf, colour),
        Format::Markdown => markdown::write_markdown(summary, &mut buf),
        Format::Json => serde_json::to_writer_pretty(&mut buf, summary)
            .map_err(io::Error::from)
            .and_then(|()| writeln!(buf)),
    }
    .expect("writing into memory cannot fail");
    buf
}

fn file_error(flag: &'static str, path: &Path, source: io::Error) -> CliError {
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
    /// Creates `.NAME.PID-N.tmp` in the directory of `target`, so that the final rename
    /// stays on one file system and replaces the target in one step.
    fn beside(target: &Path) -> io::Result<(TempFile, File)> {
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
            let path = dir.join(format!(".{name}.{pid}-{n}.tmp"));
            match File::options().write(true).create_new(true).open(&path) {
                Ok(file) => return Ok((TempFile { path: Some(path) }, file)),
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
        Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "no free temporary file name",
        ))
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
