//! The side-by-side comparison of a scenario's runs (`kinesim compare`, design.md §5):
//! one column per run, the base first and then the variants in file order, one row per
//! number a choice between them rests on.
//!
//! Written only from the summaries, so every number is the one `run --format json`
//! gives. Where a row has a better direction (fewer lost, lower age, lower cost, more
//! delivered) and the runs differ, its best value is marked: `*` in text (green on a
//! terminal), bold in Markdown. Rows without a direction (records written, invocations,
//! shards) are left unmarked: more or fewer of them is neither good nor bad by itself.
//! The JSON form is `{"base": summary, "variants": {"NAME": summary, ...}}`.

use std::io::{self, Write};

use serde::{Serialize, Serializer};

use super::Summary;
use super::markdown::md;
use super::paint::Paint;
use super::text::{dollars, human_ms, thousands, variant_label};

/// How a row's values are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Unit {
    Count,
    Ms,
    Usd,
}

/// Which value of a row is the best one, if any is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Better {
    Lower,
    Higher,
    Neither,
}

/// One row: where it is read from in the summary and how it is judged.
struct Metric {
    section: &'static str,
    label: &'static str,
    unit: Unit,
    better: Better,
    get: fn(&Summary) -> f64,
}

// Counts and milliseconds stay exact as f64 up to 2^53; no run comes near that.
const METRICS: &[Metric] = &[
    Metric {
        section: "Records",
        label: "written",
        unit: Unit::Count,
        better: Better::Neither,
        get: |s| s.records.written as f64,
    },
    // Refused by the shard write limit (R-STREAM-3): a hot shard or key.
    Metric {
        section: "Records",
        label: "rejected writes",
        unit: Unit::Count,
        better: Better::Lower,
        get: |s| s.records.rejected as f64,
    },
    Metric {
        section: "Records",
        label: "delivered",
        unit: Unit::Count,
        better: Better::Higher,
        get: |s| s.records.delivered as f64,
    },
    Metric {
        section: "Records",
        label: "lost (discarded + expired)",
        unit: Unit::Count,
        better: Better::Lower,
        get: |s| s.records.lost as f64,
    },
    // Sent to the on-failure destination: not lost, not processed either. A run that
    // loses records instead would look better here, so no direction.
    Metric {
        section: "Records",
        label: "to destination",
        unit: Unit::Count,
        better: Better::Neither,
        get: |s| s.records.to_destination as f64,
    },
    Metric {
        section: "Records",
        label: "duplicates",
        unit: Unit::Count,
        better: Better::Lower,
        get: |s| s.records.duplicates as f64,
    },
    // GetRecords calls refused by the shared read limit (R-STREAM-5).
    Metric {
        section: "Records",
        label: "read throttles",
        unit: Unit::Count,
        better: Better::Lower,
        get: |s| s.reads.throttled as f64,
    },
    Metric {
        section: "Iterator age",
        label: "p50",
        unit: Unit::Ms,
        better: Better::Lower,
        get: |s| s.iterator_age_ms.p50 as f64,
    },
    Metric {
        section: "Iterator age",
        label: "p99",
        unit: Unit::Ms,
        better: Better::Lower,
        get: |s| s.iterator_age_ms.p99 as f64,
    },
    Metric {
        section: "Iterator age",
        label: "max",
        unit: Unit::Ms,
        better: Better::Lower,
        get: |s| s.iterator_age_ms.max as f64,
    },
    Metric {
        section: "Latency (write to processed)",
        label: "p50",
        unit: Unit::Ms,
        better: Better::Lower,
        get: |s| s.latency_ms.p50 as f64,
    },
    Metric {
        section: "Latency (write to processed)",
        label: "p99",
        unit: Unit::Ms,
        better: Better::Lower,
        get: |s| s.latency_ms.p99 as f64,
    },
    Metric {
        section: "Latency (write to processed)",
        label: "max",
        unit: Unit::Ms,
        better: Better::Lower,
        get: |s| s.latency_ms.max as f64,
    },
    // Errors and throttles are symptoms, not outcomes: bisecting to drop a poison
    // record takes more failed invocations and loses less. No direction.
    Metric {
        section: "Invocations",
        label: "total",
        unit: Unit::Count,
        better: Better::Neither,
        get: |s| s.invocations.total as f64,
    },
    Metric {
        section: "Invocations",
        label: "errors",
        unit: Unit::Count,
        better: Better::Neither,
        get: |s| s.invocations.errors as f64,
    },
    Metric {
        section: "Invocations",
        label: "timeouts",
        unit: Unit::Count,
        better: Better::Neither,
        get: |s| s.invocations.timeouts as f64,
    },
    Metric {
        section: "Invocations",
        label: "throttles",
        unit: Unit::Count,
        better: Better::Neither,
        get: |s| s.invocations.throttles as f64,
    },
    Metric {
        section: "Invocations",
        label: "peak concurrency",
        unit: Unit::Count,
        better: Better::Neither,
        get: |s| f64::from(s.concurrency.max),
    },
    Metric {
        section: "Stream",
        label: "shards that existed",
        unit: Unit::Count,
        better: Better::Neither,
        get: |s| s.shards.len() as f64,
    },
    Metric {
        section: "Cost (USD)",
        label: "Lambda requests",
        unit: Unit::Usd,
        better: Better::Neither,
        get: |s| s.cost_usd.lambda_requests,
    },
    Metric {
        section: "Cost (USD)",
        label: "Lambda duration",
        unit: Unit::Usd,
        better: Better::Neither,
        get: |s| s.cost_usd.lambda_duration,
    },
    Metric {
        section: "Cost (USD)",
        label: "Kinesis",
        unit: Unit::Usd,
        better: Better::Neither,
        get: |s| s.cost_usd.kinesis,
    },
    Metric {
        section: "Cost (USD)",
        label: "total",
        unit: Unit::Usd,
        better: Better::Lower,
        get: |s| s.cost_usd.total,
    },
];

/// Rows shown only when some run has a value: they are zero in most scenarios.
const RARE: &[&str] = &[
    "rejected writes",
    "to destination",
    "timeouts",
    "read throttles",
];

/// What the marks mean, under the table.
const LEGEND: &str = "best where the runs differ: fewer lost or duplicates, more delivered, lower age, latency, cost";

/// One row ready to write: its cells in run order and which of them are the best.
struct Line {
    section: &'static str,
    label: &'static str,
    cells: Vec<String>,
    best: Vec<bool>,
}

fn lines(runs: &[&Summary]) -> Vec<Line> {
    METRICS
        .iter()
        .filter_map(|m| {
            let values: Vec<f64> = runs.iter().map(|s| (m.get)(s)).collect();
            if RARE.contains(&m.label) && values.iter().all(|v| *v == 0.0) {
                return None;
            }
            let cells: Vec<String> = values
                .iter()
                .map(|&v| match m.unit {
                    Unit::Count => thousands(v as u64),
                    Unit::Ms => human_ms(v as u64),
                    Unit::Usd => dollars(v),
                })
                .collect();
            Some(Line {
                section: m.section,
                label: m.label,
                best: best_of(&values, &cells, m.better),
                cells,
            })
        })
        .collect()
}

/// Which values are the best: each one shown as the best is. Values are compared as
/// written, so two costs that both read `$0.0137` tie; when every value reads the same,
/// none is marked (a mark on every column would say nothing).
fn best_of(values: &[f64], cells: &[String], better: Better) -> Vec<bool> {
    let none = vec![false; values.len()];
    let pick = match better {
        Better::Neither => return none,
        Better::Lower => f64::min,
        Better::Higher => f64::max,
    };
    let Some(best) = values.iter().copied().reduce(pick) else {
        return none;
    };
    let Some(shown) = values.iter().position(|v| *v == best).map(|i| &cells[i]) else {
        return none;
    };
    if cells.iter().all(|c| c == shown) {
        return none;
    }
    cells.iter().map(|c| c == shown).collect()
}

/// The base and the variants, in column order.
fn columns<'a>(base: &'a Summary, variants: &'a [Summary]) -> Vec<&'a Summary> {
    std::iter::once(base).chain(variants).collect()
}

/// `seed 7  simulated 26h0m0s`: what every column shares. A variant may change the
/// duration (only seed is fixed, R-TRAFFIC-1), so each run's is given if they differ.
pub(crate) fn run_line(runs: &[&Summary]) -> String {
    let base = runs[0];
    let simulated = if runs.iter().all(|s| s.simulated_ms == base.simulated_ms) {
        human_ms(base.simulated_ms)
    } else {
        runs.iter()
            .map(|s| format!("{} {}", variant_label(s), human_ms(s.simulated_ms)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "seed {}  simulated {simulated}  {} run{}",
        base.seed,
        runs.len(),
        if runs.len() == 1 { "" } else { "s" }
    )
}

/// Writes the comparison as an aligned text table, with ANSI colour if `colour`.
pub fn write_text(
    base: &Summary,
    variants: &[Summary],
    out: &mut impl Write,
    colour: bool,
) -> io::Result<()> {
    let p = Paint(colour);
    let runs = columns(base, variants);
    let rows = lines(&runs);
    writeln!(
        out,
        "{}  {}\n",
        p.bold(&format!("compare {}", base.scenario)),
        run_line(&runs)
    )?;
    let label_width = rows.iter().map(|r| r.label.len() + 2).max().unwrap_or(0);
    let widths: Vec<usize> = runs
        .iter()
        .enumerate()
        .map(|(i, s)| {
            rows.iter()
                .map(|r| r.cells[i].len())
                .chain([variant_label(s).len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    // Each value is followed by its mark or two spaces, so marked and unmarked cells
    // line up; the heads are right-aligned over the values, not over the marks.
    let mut head = format!("{:label_width$}", "");
    for (s, w) in runs.iter().zip(&widths) {
        head.push_str(&format!("  {:>w$}  ", variant_label(s)));
    }
    writeln!(out, "{}", p.bold(head.trim_end()))?;
    let mut section = "";
    for r in &rows {
        if r.section != section {
            section = r.section;
            writeln!(out, "{}", p.bold(section))?;
        }
        let mut line = format!("  {:<w$}", r.label, w = label_width - 2);
        for ((cell, best), w) in r.cells.iter().zip(&r.best).zip(&widths) {
            let cell = format!("{cell:>w$}");
            if *best {
                line.push_str(&format!("  {} *", p.green(&cell)));
            } else {
                line.push_str(&format!("  {cell}  "));
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    if rows.iter().any(|r| r.best.contains(&true)) {
        writeln!(out, "\n{}", p.dim(&format!("* {LEGEND}")))?;
    }
    Ok(())
}

/// Writes the comparison as a Markdown table (the best values in bold).
pub fn write_markdown(
    base: &Summary,
    variants: &[Summary],
    out: &mut impl Write,
) -> io::Result<()> {
    let runs = columns(base, variants);
    let rows = lines(&runs);
    writeln!(out, "# kinesim compare: {}\n", md(&base.scenario))?;
    writeln!(out, "{}\n", md(&run_line(&runs)))?;
    let heads: Vec<String> = runs.iter().map(|s| md(variant_label(s))).collect();
    writeln!(out, "| | {} |", heads.join(" | "))?;
    writeln!(out, "|---|{}", "---:|".repeat(runs.len()))?;
    let mut section = "";
    for r in &rows {
        if r.section != section {
            section = r.section;
            writeln!(out, "| **{}** |{}", md(section), " |".repeat(runs.len()))?;
        }
        let cells: Vec<String> = r
            .cells
            .iter()
            .zip(&r.best)
            .map(|(c, best)| {
                if *best {
                    format!("**{}**", md(c))
                } else {
                    md(c)
                }
            })
            .collect();
        writeln!(out, "| {} | {} |", md(r.label), cells.join(" | "))?;
    }
    if rows.iter().any(|r| r.best.contains(&true)) {
        writeln!(out, "\n**Bold**: {}.", md(LEGEND))?;
    }
    Ok(())
}

/// Writes the comparison as an HTML table (the best values in bold on green), for
/// `compare --report`; `runs` are the base and then the variants.
pub fn write_html(runs: &[&Summary], h: &mut String) {
    use super::svg::esc;
    use std::fmt::Write as _;
    let rows = lines(runs);
    h.push_str("<table class=\"compare\">\n<tr><th></th>");
    for s in runs {
        let _ = write!(h, "<th>{}</th>", esc(variant_label(s)));
    }
    h.push_str("</tr>\n");
    let mut section = "";
    for r in &rows {
        if r.section != section {
            section = r.section;
            let _ = writeln!(
                h,
                "<tr><th colspan=\"{}\">{}</th></tr>",
                runs.len() + 1,
                esc(section)
            );
        }
        let _ = write!(h, "<tr><td>{}</td>", esc(r.label));
        for (cell, best) in r.cells.iter().zip(&r.best) {
            let class = if *best { " class=\"best\"" } else { "" };
            let _ = write!(h, "<td{class}>{}</td>", esc(cell));
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table>\n");
    if rows.iter().any(|r| r.best.contains(&true)) {
        let _ = writeln!(h, "<p class=\"meta\"><b>Bold</b>: {}.</p>", esc(LEGEND));
    }
}

/// `{"base": summary, "variants": {"NAME": summary, ...}}`, variants in file order.
#[derive(Serialize)]
struct Doc<'a> {
    base: &'a Summary,
    #[serde(serialize_with = "by_name")]
    variants: &'a [Summary],
}

fn by_name<S: Serializer>(variants: &&[Summary], s: S) -> Result<S::Ok, S::Error> {
    s.collect_map(variants.iter().map(|v| (variant_label(v), v)))
}

/// Writes the comparison as one pretty-printed JSON document and a newline.
pub fn write_json(base: &Summary, variants: &[Summary], out: &mut impl Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &Doc { base, variants })?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(variant: Option<&str>, lost: u64, cost: f64) -> Summary {
        let mut s = Summary {
            scenario: "s".into(),
            variant: variant.map(str::to_owned),
            ..Summary::default()
        };
        s.records.written = 100;
        s.records.lost = lost;
        s.cost_usd.total = cost;
        s
    }

    #[test]
    fn the_best_is_marked_only_where_runs_differ() {
        let best = |values: &[f64], better| {
            let cells: Vec<String> = values.iter().map(|v| dollars(*v)).collect();
            best_of(values, &cells, better)
        };
        assert_eq!(best(&[3.0, 1.0, 1.0], Better::Lower), [false, true, true]);
        assert_eq!(best(&[3.0, 1.0], Better::Higher), [true, false]);
        assert_eq!(best(&[2.0, 2.0], Better::Lower), [false, false]);
        assert_eq!(best(&[1.0, 9.0], Better::Neither), [false, false]);
        // $0.013743 and $0.013740 both read $0.0137: a tie, so no mark.
        assert_eq!(best(&[0.013743, 0.01374], Better::Lower), [false, false]);
    }

    #[test]
    fn text_has_a_column_per_run_and_marks_the_fewest_lost() {
        let base = summary(None, 5, 2.0);
        let variants = [summary(Some("fix"), 0, 3.0)];
        let mut buf = Vec::new();
        write_text(&base, &variants, &mut buf, false).unwrap();
        let text = String::from_utf8(buf).unwrap();
        let head = text.lines().nth(2).unwrap();
        assert_eq!(head.split_whitespace().collect::<Vec<_>>(), ["base", "fix"]);
        let lost = text.lines().find(|l| l.contains("lost")).unwrap();
        assert!(lost.ends_with("0 *"), "{lost}");
        let cost = text.lines().rev().find(|l| l.contains("total")).unwrap();
        assert!(cost.contains("$2.00 *"), "{cost}");
        // No timeouts anywhere: the rare row is left out.
        assert!(!text.contains("timeouts"));
    }

    #[test]
    fn json_is_base_and_variants_by_name_in_file_order() {
        let base = summary(None, 0, 0.0);
        let variants = [
            summary(Some("zeta"), 0, 0.0),
            summary(Some("alpha"), 1, 0.0),
        ];
        let mut buf = Vec::new();
        write_json(&base, &variants, &mut buf).unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&buf).unwrap();
        let names: Vec<&String> = doc["variants"].as_object().unwrap().keys().collect();
        assert_eq!(names, ["zeta", "alpha"]);
        assert_eq!(doc["variants"]["alpha"]["records"]["lost"], 1);
        assert!(doc["base"]["variant"].is_null());
    }
}
