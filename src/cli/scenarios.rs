//! `kinesim scenarios [NAME]`: the built-in library, listed by topic as name and the
//! first line of its description, or one scenario's YAML text exactly as embedded.

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
        None => out.emit(listing(&all, builtin::TOPICS).as_bytes()),
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

/// Heads the group of built-ins missing from `builtin::TOPICS` (a unit test forbids them).
const OTHER: &str = "Other";

/// One group per topic: the topic on its own line, then one indented line per scenario,
/// its name padded to the longest of all groups, then its summary line. Groups are
/// separated by an empty line.
fn listing(all: &[(&str, &str)], topics: &[(&str, &[&str])]) -> String {
    let width = all.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    let yaml_of = |name: &str| all.iter().find(|(n, _)| *n == name).map(|(_, y)| *y);
    let mut groups: Vec<(&str, Vec<(&str, &str)>)> = topics
        .iter()
        .map(|(topic, names)| {
            let rows = names
                .iter()
                .filter_map(|n| yaml_of(n).map(|y| (*n, y)))
                .collect();
            (*topic, rows)
        })
        .collect();
    let other: Vec<(&str, &str)> = all
        .iter()
        .filter(|(n, _)| !topics.iter().any(|(_, names)| names.contains(n)))
        .copied()
        .collect();
    groups.push((OTHER, other));
    let mut s = String::new();
    for (topic, rows) in groups.iter().filter(|(_, rows)| !rows.is_empty()) {
        if !s.is_empty() {
            s.push('\n');
        }
        s.push_str(topic);
        s.push('\n');
        for (name, yaml) in rows {
            let line = first_description_line(yaml).unwrap_or_default();
            s.push_str(format!("  {name:<width$}  {line}").trim_end());
            s.push('\n');
        }
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
    fn listing_groups_by_topic_and_aligns_descriptions() {
        let all = [
            ("a", "description: one\n"),
            ("long-name", "description: two\n"),
            ("z", "description: three\n"),
            ("untopical", "name: u\n"),
        ];
        let topics: &[(&str, &[&str])] = &[
            ("First", &["long-name", "a"]),
            ("Empty", &[]),
            ("Second", &["z", "missing"]),
        ];
        assert_eq!(
            listing(&all, topics),
            "First\n  long-name  two\n  a          one\n\n\
             Second\n  z          three\n\n\
             Other\n  untopical\n"
        );
    }

    #[test]
    fn listing_shows_every_builtin_once_under_its_topic() {
        let all = builtin::all();
        let out = listing(&all, builtin::TOPICS);
        for (name, _) in &all {
            let rows: Vec<&str> = out
                .lines()
                .filter(|l| l.split_whitespace().next() == Some(name))
                .collect();
            assert_eq!(rows.len(), 1, "{name} in\n{out}");
        }
        assert!(!out.contains(OTHER), "a built-in has no topic:\n{out}");
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
