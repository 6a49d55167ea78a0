//! The human summary as Markdown (`kinesim run --format markdown`, `report.md`): the same
//! content and order as the text summary (its rows and wording are shared), as tables
//! that paste into an issue or a pull request.

use std::io::{self, Write};

use super::files::{Chart, ReportRun};
use super::paint::Paint;
use super::timeline;
use crate::report::Summary;
use crate::report::text::{
    Row, SHARD_HEADS, conservation, dollars, human_ms, invocation_rows, read_rows, record_rows,
    shard_cells, shard_notes, thousands, variant_label,
};

/// Escapes what Markdown (GitHub's dialect included) would read as markup in free text:
/// `|` would end a table cell and a pair of `$` would start a formula.
pub(crate) fn md(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '|' | '$' | '*' | '_' | '`' | '<' | '>' | '[' | ']'
        ) {
            s.push('\\');
        }
        s.push(c);
    }
    s
}

fn table_of_rows(out: &mut dyn Write, what: &str, rows: &[Row]) -> io::Result<()> {
    writeln!(out, "| {what} | count | |")?;
    writeln!(out, "|---|---:|---|")?;
    for r in rows {
        let value = thousands(r.value);
        let value = if r.alarm {
            format!("**{value}**")
        } else {
            value
        };
        writeln!(
            out,
            "| {} | {value} | {} |",
            r.label,
            r.note.map(md).unwrap_or_default()
        )?;
    }
    Ok(())
}

/// `report.md`: the summary, the shard timeline as a text grid, and the charts, which
/// are the `.svg` files written beside it.
pub fn report(run: &ReportRun<'_>, charts: &[Chart]) -> String {
    let mut buf = Vec::new();
    write_markdown(run.summary, &mut buf).expect("writing into memory cannot fail");
    pictures(&mut buf, run, charts, "", "##");
    buf.extend_from_slice(b"\nThe numbers behind the charts: [timeseries.csv](timeseries.csv); the summary: [summary.json](summary.json).\n");
    String::from_utf8(buf).expect("the writers write UTF-8")
}

/// `report.md` of `compare --report`: the comparison table, then per run its timeline
/// grid and charts (the `.svg` files beside it, named after `prefixes`, one per run).
pub fn compare_report(
    runs: &[ReportRun<'_>],
    charts: &[Vec<Chart>],
    prefixes: &[String],
) -> String {
    let mut buf = Vec::new();
    let summaries: Vec<Summary> = runs.iter().map(|r| r.summary.clone()).collect();
    let (base, variants) = summaries.split_first().expect("the base always runs");
    super::compare::write_markdown(base, variants, &mut buf)
        .expect("writing into memory cannot fail");
    for ((run, charts), prefix) in runs.iter().zip(charts).zip(prefixes) {
        buf.extend_from_slice(format!("\n## {}\n", md(variant_label(run.summary))).as_bytes());
        pictures(&mut buf, run, charts, prefix, "###");
    }
    buf.extend_from_slice(b"\nThe numbers behind the charts, a `run` column first: [timeseries.csv](timeseries.csv); the summaries: [summary.json](summary.json).\n");
    String::from_utf8(buf).expect("the writers write UTF-8")
}

/// A run's timeline as a text grid and its charts, linked as the `.svg` files named
/// after `prefix`, under `heading`s (`##`, or `###` inside a run's section).
fn pictures(buf: &mut Vec<u8>, run: &ReportRun<'_>, charts: &[Chart], prefix: &str, heading: &str) {
    buf.extend_from_slice(
        format!(
            "\n{heading} Timeline\n\nOne row per shard, children under their parents \
             ([as a picture]({prefix}timeline.svg)).\n\n```text\n"
        )
        .as_bytes(),
    );
    timeline::write_grid(run.summary, run.samples, buf, Paint(false))
        .expect("writing into memory cannot fail");
    buf.extend_from_slice(format!("```\n\n{heading} Over time\n").as_bytes());
    for c in charts {
        buf.extend_from_slice(format!("\n![{}]({prefix}{}.svg)\n", c.title, c.stem).as_bytes());
    }
}

/// Writes the summary as a Markdown document.
pub fn write_markdown(summary: &Summary, out: &mut impl Write) -> io::Result<()> {
    let s = summary;
    writeln!(out, "# kinesim run: {}\n", md(&s.scenario))?;
    writeln!(
        out,
        "| scenario | variant | seed | simulated | events | kinesim |"
    )?;
    writeln!(out, "|---|---|---:|---:|---:|---|")?;
    writeln!(
        out,
        "| {} | {} | {} | {} | {} | {} |",
        md(&s.scenario),
        md(variant_label(s)),
        s.seed,
        human_ms(s.simulated_ms),
        thousands(s.run.events),
        md(&s.run.kinesim)
    )?;

    writeln!(out, "\n## Records\n")?;
    table_of_rows(out, "records", &record_rows(&s.records))?;
    writeln!(out, "\n## Invocations\n")?;
    table_of_rows(out, "invocations", &invocation_rows(&s.invocations))?;
    let reads = read_rows(&s.reads);
    if !reads.is_empty() {
        writeln!(out, "\n## Reads\n")?;
        table_of_rows(out, "reads", &reads)?;
    }

    writeln!(out, "\n## Timing\n")?;
    writeln!(out, "| | p50 | p90 | p99 | max |")?;
    writeln!(out, "|---|---:|---:|---:|---:|")?;
    let a = &s.iterator_age_ms;
    let l = &s.latency_ms;
    let c = &s.checkpoint_lag_ms;
    let h = |v: u64| human_ms(v);
    writeln!(
        out,
        "| iterator age | {} | {} | {} | {} |",
        h(a.p50),
        h(a.p90),
        h(a.p99),
        h(a.max)
    )?;
    writeln!(out, "| checkpoint lag | | | {} | {} |", h(c.p99), h(c.max))?;
    writeln!(
        out,
        "| latency | {} | | {} | {} |",
        h(l.p50),
        h(l.p99),
        h(l.max)
    )?;
    writeln!(
        out,
        "\nBatch size: mean {} records, max {}. Max concurrency: {}.",
        s.batch_records.mean,
        thousands(s.batch_records.max),
        s.concurrency.max
    )?;
    if s.destination.messages > 0 {
        writeln!(
            out,
            "On-failure destination: {} messages covering {} records.",
            thousands(s.destination.messages),
            thousands(s.destination.records)
        )?;
    }

    writeln!(out, "\n## Shards\n")?;
    writeln!(out, "| {} | |", SHARD_HEADS.join(" | "))?;
    writeln!(out, "|---|---:|---:|---:|---:|---:|---:|---|")?;
    for sh in &s.shards {
        let mut cells = shard_cells(sh);
        if sh.blocked_ms > 0 {
            for c in &mut cells {
                *c = format!("**{c}**");
            }
        }
        writeln!(
            out,
            "| {} | {} |",
            cells.join(" | "),
            md(&shard_notes(sh).join(", "))
        )?;
    }

    if !s.actions.is_empty() {
        writeln!(out, "\n## Actions\n")?;
        writeln!(out, "| at | action | outcome | reason |")?;
        writeln!(out, "|---:|---|---|---|")?;
        for a in &s.actions {
            writeln!(
                out,
                "| {} | {} | {} | {} |",
                human_ms(a.at_ms),
                md(&a.action),
                md(&a.outcome),
                md(a.reason.as_deref().unwrap_or(""))
            )?;
        }
    }

    let c = &s.cost_usd;
    writeln!(out, "\n## Cost\n")?;
    writeln!(
        out,
        "| Lambda requests | Lambda duration | Kinesis | total |"
    )?;
    writeln!(out, "|---:|---:|---:|---:|")?;
    writeln!(
        out,
        "| {} | {} | {} | **{}** |",
        md(&dollars(c.lambda_requests)),
        md(&dollars(c.lambda_duration)),
        md(&dollars(c.kinesis)),
        md(&dollars(c.total))
    )?;

    let (ok, text) = conservation(&s.records);
    let mark = if ok {
        "ok"
    } else {
        "**MISMATCH: invariant I-1 does not hold**"
    };
    writeln!(out, "\n**Check:** {text}: {mark}")?;

    writeln!(out, "\n## Assumptions\n")?;
    for a in &s.assumptions {
        writeln!(out, "- {}", md(a))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_free_text_is_escaped() {
        assert_eq!(md("$0.20/M | x_y"), "\\$0.20/M \\| x\\_y");
    }
}
