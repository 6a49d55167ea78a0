//! `kinesim validate`: load each scenario and each of its variants, print every problem
//! on stderr and `ok: NAME (N variants)` on stdout for the good ones. Nothing is run.

use std::fmt::Write as _;

use clap::Args;

use super::{CliError, Out, report_error};
use crate::scenario;

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Scenario files (or built-in names) to check.
    #[arg(required = true, value_name = "SCENARIO")]
    pub scenarios: Vec<String>,
}

pub fn validate(args: &ValidateArgs, out: &mut Out<'_>) -> Result<(), CliError> {
    let mut bad = 0;
    for arg in &args.scenarios {
        match check(arg) {
            Ok(line) => out.emit(line.as_bytes())?,
            Err(errors) => {
                bad += 1;
                for e in errors {
                    report_error(&CliError::Scenario(e));
                }
            }
        }
    }
    if bad > 0 {
        return Err(CliError::Invalid {
            bad,
            total: args.scenarios.len(),
        });
    }
    Ok(())
}

/// The `ok:` line of one scenario, or every error found in it and its variants.
fn check(arg: &str) -> Result<String, Vec<scenario::ScenarioError>> {
    let loaded = scenario::load(arg).map_err(|e| vec![e])?;
    let names = loaded.variant_names();
    let errors: Vec<_> = names
        .iter()
        .filter_map(|n| loaded.variant(n).err())
        .collect();
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut line = String::new();
    let plural = if names.len() == 1 { "" } else { "s" };
    writeln!(
        line,
        "ok: {} ({} variant{plural})",
        loaded.base.name,
        names.len()
    )
    .expect("a String takes any text");
    Ok(line)
}
