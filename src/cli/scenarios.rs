//! `kinesim scenarios [NAME]`: the built-in library, listed as name and the first line
//! of its description, or one scenario's YAML text exactly as embedded.

use clap::Args;

use super::{CliError, Out};
use crate::scenario::builtin;

#[derive(Debug, Args)]
pub struct ScenariosArgs {
    /// Print this built-in scenario's YAML instead of the list.
    #[arg(value_name = "NAME")]
    pub name: Option<String>,
}

pub fn scenarios(args: &ScenariosArgs, out: &mut Out<'_>) -> Result<(), CliError> {
    let all = builtin::all();
    match &args.name {
        None => out.emit(listing(&all).as_bytes()),
        Some(name) => match builtin::get(name) {
            Some(text) => {
                let mut text = text.to_string();
                if !text.ends_with('\n') {
                    text.push('\n');
                }
                out.emit(text.as_bytes())
            }
            None => Err(CliError::UnknownBuiltin {
                name: name.clone(),
                known: all.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", "),
            }),
        },
    }
}

/// One line per scenario: its name padded to the longest, then its summary line.
fn listing(all: &[(&str, &str)]) -> String {
    let width = all.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    let mut s = String::new();
    for (name, yaml) in all {
        let line = first_description_line(yaml).unwrap_or_default();
        s.push_str(format!("{name:<width$}  {line}").trim_end());
        s.push('\n');
    }
    s
}

/// The first non-empty line of the top-level `description:` of a built-in scenario's
/// YAML, read from the text so that the list shows even if a scenario is broken (which
/// `validate` then explains). Handles the forms the library uses: an inline scalar and
/// a block scalar (`|` or `>`).
fn first_description_line(yaml: &str) -> Option<String> {
    let mut lines = yaml.lines();
    while let Some(line) = lines.next() {
        let Some(rest) = line.strip_prefix("description:") else {
            continue;
        };
        let rest = rest.trim();
        if rest.is_empty() || rest.starts_with('|') || rest.starts_with('>') {
            let first = lines.map(str::trim).find(|l| !l.is_empty())?;
            return Some(first.to_string());
        }
        let unquoted = rest.trim_matches(|c| c == '"' || c == '\'');
        return Some(unquoted.to_string());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn description_line_from_block_and_inline_scalars() {
        let block = "name: a\ndescription: |\n  First line.\n  Second.\nseed: 1\n";
        assert_eq!(
            first_description_line(block).as_deref(),
            Some("First line.")
        );
        let inline = "name: b\ndescription: \"Inline one.\"\n";
        assert_eq!(
            first_description_line(inline).as_deref(),
            Some("Inline one.")
        );
        assert_eq!(first_description_line("name: c\n"), None);
    }

    #[test]
    fn listing_aligns_descriptions() {
        let all = [
            ("a", "description: one\n"),
            ("long-name", "description: two\n"),
        ];
        assert_eq!(listing(&all), "a          one\nlong-name  two\n");
    }

    #[test]
    fn listed_line_is_the_first_line_of_the_parsed_description() {
        for (name, yaml) in builtin::all() {
            let loaded = crate::scenario::load(name).unwrap();
            let parsed = loaded
                .base
                .description
                .lines()
                .map(str::trim)
                .find(|l| !l.is_empty());
            assert!(parsed.is_some(), "{name} has no description");
            assert_eq!(first_description_line(yaml).as_deref(), parsed, "{name}");
        }
    }
}
