//! The pitfall guides (`docs/pitfalls.md` and its Brazilian Portuguese edition
//! `docs/pitfalls.pt-BR.md`) stay in step with the built-in library.
//!
//! The convention, stated at the top of each guide: every scenario has one section whose
//! `###` heading starts with the scenario's name in backticks (``### `poison-pill`: ...``),
//! and commands name scenarios as `kinesim run NAME`, `kinesim check NAME`,
//! `kinesim scenarios NAME` (or `cargo run --release -- run NAME`). So:
//!
//! - every built-in has exactly one section in each guide, and the sections come in the
//!   same order in both;
//! - no heading and no command names a scenario that is not built in, and every
//!   `--variant V` is a variant of the scenario on the same command line;
//! - the commands in the fenced `sh` blocks are the same, in the same order, in both
//!   guides (commands are not translated; comments after `#` may be).

use std::collections::BTreeSet;
use std::path::Path;

use kinesim::scenario::{self, builtin};

const GUIDES: [&str; 2] = ["docs/pitfalls.md", "docs/pitfalls.pt-BR.md"];

fn read(guide: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(guide);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{guide}: cannot read: {e}"))
}

/// The lines outside fenced code blocks.
fn prose_lines(text: &str) -> Vec<&str> {
    let mut fenced = false;
    let mut out = vec![];
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced {
            out.push(line);
        }
    }
    out
}

/// The scenario names of the section headings, in order: `### `name`...`.
fn section_names(text: &str) -> Vec<String> {
    prose_lines(text)
        .into_iter()
        .filter_map(|line| line.strip_prefix("### `"))
        .filter_map(|rest| rest.split_once('`').map(|(name, _)| name.to_string()))
        .collect()
}

/// The commands of the fenced `sh` blocks, comments removed, in order.
fn sh_commands(text: &str) -> Vec<String> {
    let mut in_sh = false;
    let mut fenced = false;
    let mut out = vec![];
    for line in text.lines() {
        let t = line.trim_start();
        if t.starts_with("```") {
            fenced = !fenced;
            in_sh = fenced && t == "```sh";
            continue;
        }
        if in_sh {
            let command = match t.find(" #") {
                Some(i) => &t[..i],
                None => t,
            };
            let command = command.trim();
            if !command.is_empty() && !command.starts_with('#') {
                out.push(command.to_string());
            }
        }
    }
    out
}

/// A scenario argument that is not a name: a placeholder (`NAME`), an option, a path.
fn is_not_a_name(arg: &str) -> bool {
    arg.is_empty()
        || arg.starts_with('-')
        || arg.contains('/')
        || arg.contains('.')
        || arg.chars().all(|c| c.is_ascii_uppercase() || c == '_')
}

/// Every (scenario, variant) that a command in the text names, wherever it appears
/// (code blocks and inline code alike): `kinesim run NAME [--variant V]`, ...
fn named_in_commands(text: &str) -> Vec<(String, Option<String>)> {
    const VERBS: [&str; 5] = [
        "kinesim run ",
        "kinesim check ",
        "kinesim scenarios ",
        "-- run ",
        "-- check ",
    ];
    let mut out = vec![];
    for line in text.lines() {
        for verb in VERBS {
            let mut rest = line;
            while let Some(i) = rest.find(verb) {
                rest = &rest[i + verb.len()..];
                let words: Vec<&str> = rest
                    .split(|c: char| c.is_whitespace() || c == '`')
                    .take_while(|w| !w.is_empty() && *w != "#")
                    .collect();
                let Some(first) = words.first() else { continue };
                let name = first.trim_end_matches([',', ';', ':', ')']);
                if is_not_a_name(name) {
                    continue;
                }
                let variant = words
                    .iter()
                    .position(|w| *w == "--variant")
                    .and_then(|i| words.get(i + 1))
                    .map(|v| v.trim_end_matches([',', ';', ':', ')']).to_string());
                out.push((name.to_string(), variant));
            }
        }
    }
    out
}

#[test]
fn every_built_in_has_one_section_in_each_guide() {
    let builtins: BTreeSet<String> = builtin::names().iter().map(|s| s.to_string()).collect();
    for guide in GUIDES {
        let sections = section_names(&read(guide));
        let mut seen = BTreeSet::new();
        for name in &sections {
            assert!(
                seen.insert(name.clone()),
                "{guide}: scenario `{name}` has more than one section"
            );
        }
        let missing: Vec<_> = builtins.difference(&seen).collect();
        assert!(
            missing.is_empty(),
            "{guide}: no section (a `### `NAME`` heading) for the built-in scenarios {missing:?}"
        );
        let unknown: Vec<_> = seen.difference(&builtins).collect();
        assert!(
            unknown.is_empty(),
            "{guide}: sections for scenarios that are not built in: {unknown:?} (built in: {builtins:?})"
        );
    }
}

#[test]
fn the_guides_have_the_same_sections_in_the_same_order() {
    let english = section_names(&read(GUIDES[0]));
    let portuguese = section_names(&read(GUIDES[1]));
    assert_eq!(
        english, portuguese,
        "{} and {} list their scenario sections differently",
        GUIDES[0], GUIDES[1]
    );
}

#[test]
fn the_guides_have_the_same_commands_in_the_same_order() {
    let english = sh_commands(&read(GUIDES[0]));
    let portuguese = sh_commands(&read(GUIDES[1]));
    assert!(!english.is_empty(), "{}: no commands found", GUIDES[0]);
    for (i, (e, p)) in english.iter().zip(&portuguese).enumerate() {
        assert_eq!(e, p, "command {} differs between the guides", i + 1);
    }
    assert_eq!(
        english.len(),
        portuguese.len(),
        "{} has {} commands, {} has {}",
        GUIDES[0],
        english.len(),
        GUIDES[1],
        portuguese.len()
    );
}

#[test]
fn the_guides_name_only_built_in_scenarios_and_their_variants() {
    let builtins: BTreeSet<String> = builtin::names().iter().map(|s| s.to_string()).collect();
    for guide in GUIDES {
        let named = named_in_commands(&read(guide));
        assert!(
            !named.is_empty(),
            "{guide}: no `kinesim run NAME` command found"
        );
        for (name, variant) in named {
            assert!(
                builtins.contains(&name),
                "{guide}: a command names `{name}`, which is not a built-in scenario"
            );
            if let Some(variant) = variant {
                let text = builtin::get(&name).expect("a built-in has a text");
                let loaded = scenario::parse_str(text, &format!("builtin:{name}"), false)
                    .unwrap_or_else(|e| panic!("built-in `{name}` does not load: {e:?}"));
                let variants = loaded.variant_names();
                assert!(
                    variants.contains(&variant),
                    "{guide}: `{name}` has no variant `{variant}` (it has {variants:?})"
                );
            }
        }
    }
}
