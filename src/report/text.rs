//! The human summary of a run (`kinesim run --format text`): what a newcomer reads first.
//!
//! Written only from the [`Summary`], in a fixed order: header, records, invocations,
//! timing, one row per shard, cost, the conservation check, the assumptions. Durations
//! are humanised (`850ms`, `12.3s`, `24h0m3s`), counts get thousands separators. Colour is
//! optional and only ever added around text that is already padded, so the plain and
//! coloured outputs line up the same. The rows and wording here are shared with the
//! Markdown writer, so both say the same thing.

use std::io::{self, Write};

use super::paint::Paint;

use crate::observe::metrics::{InvocationCounts, RecordCounts};
use crate::report::Summary;
use crate::report::summary::{ReadStats, ShardSummary};

/// One labelled count, with an optional short explanation.
pub(crate) struct Row {
    pub label: &'static str,
    pub value: u64,
    pub note: Option<&'static str>,
    /// Worth the reader's attention (records lost, invocations failing).
    pub alarm: bool,
}

fn row(label: &'static str, value: u64, note: Option<&'static str>, alarm: bool) -> Row {
    Row {
        label,
        value,
        note,
        alarm: alarm && value > 0,
    }
}

/// The record counters: the common fates always, the rare ones only when they happened.
pub(crate) fn record_rows(r: &RecordCounts) -> Vec<Row> {
    let mut rows = vec![
        row("written", r.written, None, false),
        row(
            "delivered",
            r.delivered,
            Some("processed by the function"),
            false,
        ),
        row("lost", r.lost, Some("expired + discarded"), true),
        row(
            "expired",
            r.expired,
            Some("trimmed by retention before being processed"),
            true,
        ),
        row(
            "discarded",
            r.discarded,
            Some("dropped by the retry or record-age limit, no destination"),
            true,
        ),
        row(
            "pending",
            r.pending,
            Some("not yet past the checkpoint when the run ended"),
            false,
        ),
        row(
            "duplicates",
            r.duplicates,
            Some("processed successfully more than once"),
            false,
        ),
        row(
            "redeliveries",
            r.redeliveries,
            Some("sent to the function again after a failure"),
            false,
        ),
    ];
    let rare = [
        row(
            "to destination",
            r.to_destination,
            Some("sent to the on-failure destination"),
            false,
        ),
        row(
            "filtered",
            r.filtered,
            Some("dropped by FilterCriteria"),
            false,
        ),
        row(
            "skipped",
            r.skipped,
            Some("passed over without being read"),
            false,
        ),
        row(
            "rejected",
            r.rejected,
            Some("writes refused by the shard write limit"),
            true,
        ),
        row(
            "acknowledged unprocessed",
            r.acknowledged_unprocessed,
            Some("failures the mapping never read (R-PBR-1): silently lost"),
            true,
        ),
    ];
    rows.extend(rare.into_iter().filter(|r| r.value > 0));
    rows
}

/// The mapping's GetRecords calls, shown only when the shared read limit refused some
/// (R-STREAM-5): then they explain a backlog the function did not cause.
pub(crate) fn read_rows(r: &ReadStats) -> Vec<Row> {
    if r.throttled == 0 {
        return vec![];
    }
    vec![
        row("GetRecords calls", r.calls, None, false),
        row(
            "throttled",
            r.throttled,
            Some("refused by the shard's shared 2 MiB/s (ReadProvisionedThroughputExceeded)"),
            true,
        ),
    ]
}

/// The invocation counters: the common outcomes always, the rare ones when they happened.
/// (CloudWatch's Errors metric is errors + timeouts, R-METRIC-2: the JSON has it.)
pub(crate) fn invocation_rows(i: &InvocationCounts) -> Vec<Row> {
    let mut rows = vec![
        row("total", i.total, None, false),
        row("ok", i.ok, None, false),
        row("errors", i.errors, Some("the function threw"), true),
        row(
            "timeouts",
            i.timeouts,
            Some("the function ran past its timeout"),
            true,
        ),
        row(
            "throttles",
            i.throttles,
            Some("no concurrency; retried without using an attempt"),
            true,
        ),
        row("cold starts", i.cold_starts, None, false),
    ];
    let rare = [
        row(
            "partial",
            i.partial,
            Some("answered with batchItemFailures"),
            false,
        ),
        row(
            "invalid responses",
            i.invalid_response,
            Some("a response the mapping could not read"),
            true,
        ),
        row(
            "bisections",
            i.bisections,
            Some("batches split on error"),
            false,
        ),
    ];
    rows.extend(rare.into_iter().filter(|r| r.value > 0));
    rows
}

/// `written = sum of fates`, and whether it holds (invariant I-1).
pub(crate) fn conservation(r: &RecordCounts) -> (bool, String) {
    let fates = r.fates();
    let ok = fates == r.written;
    let text = format!(
        "written {} {} delivered + to destination + discarded + filtered + skipped + expired + pending = {}",
        thousands(r.written),
        if ok { "=" } else { "!=" },
        thousands(fates)
    );
    (ok, text)
}

/// What is unusual about a shard: blocked time, being closed, having parents.
pub(crate) fn shard_notes(sh: &ShardSummary) -> Vec<String> {
    let mut notes = vec![];
    if sh.blocked_ms > 0 {
        notes.push("blocked".to_string());
    }
    if let Some(closed) = sh.open_ms.1 {
        notes.push(format!("closed at {}", human_ms(closed)));
    }
    if sh.open_ms.0 > 0 {
        let parents = sh
            .parents
            .iter()
            .map(|p| p.trim_start_matches("shardId-").trim_start_matches('0'))
            .map(|n| if n.is_empty() { "0" } else { n })
            .collect::<Vec<_>>()
            .join("+");
        let plural = if sh.parents.len() > 1 { "s" } else { "" };
        notes.push(format!(
            "opened at {} from shard{plural} {parents}",
            human_ms(sh.open_ms.0)
        ));
    }
    if sh.waiting_for_parents_ms >= 1_000 {
        notes.push(format!(
            "waited {} for its parents",
            human_ms(sh.waiting_for_parents_ms)
        ));
    }
    notes
}

/// The column heads of the shard table and each shard's cells (notes apart).
pub(crate) const SHARD_HEADS: [&str; 7] = [
    "shard",
    "delivered",
    "expired",
    "invocations",
    "failed",
    "max iterator age",
    "blocked",
];

pub(crate) fn shard_cells(sh: &ShardSummary) -> [String; 7] {
    [
        sh.id.clone(),
        thousands(sh.records.delivered),
        thousands(sh.records.expired),
        thousands(sh.invocations.total),
        // Every invocation the ESM counts as a failure: throws, timeouts, invalid responses.
        thousands(
            sh.invocations.errors + sh.invocations.timeouts + sh.invocations.invalid_response,
        ),
        human_ms(sh.iterator_age_ms.max),
        human_ms(sh.blocked_ms),
    ]
}

/// A span of milliseconds for people: `850ms`, `12.3s`, `5m3s`, `24h0m3s`. Hours are the
/// largest unit, so that a retention of 24h reads as such. Truncates, never rounds up.
pub fn human_ms(ms: u64) -> String {
    const S: u64 = 1_000;
    const M: u64 = 60 * S;
    const H: u64 = 60 * M;
    match ms {
        0 => "0s".to_string(),
        1..S => format!("{ms}ms"),
        S..M => match (ms % S) / 100 {
            0 => format!("{}s", ms / S),
            tenths => format!("{}.{tenths}s", ms / S),
        },
        M..H => format!("{}m{}s", ms / M, ms % M / S),
        _ => format!("{}h{}m{}s", ms / H, ms % H / M, ms % M / S),
    }
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut s = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            s.push(',');
        }
        s.push(c);
    }
    s
}

/// Dollars with enough decimals for small runs: `$12.35`, `$0.0123`, `$0.000004`.
pub fn dollars(x: f64) -> String {
    if x == 0.0 {
        "$0".to_string()
    } else if x >= 1.0 {
        format!("${x:.2}")
    } else if x >= 0.01 {
        format!("${x:.4}")
    } else {
        format!("${x:.6}")
    }
}

/// The variant's name, or `base`.
pub(crate) fn variant_label(s: &Summary) -> &str {
    s.variant.as_deref().unwrap_or("base")
}

/// Writes the plain (uncoloured) human summary.
pub fn write_text(summary: &Summary, out: &mut impl Write) -> io::Result<()> {
    write_text_styled(summary, out, false)
}

/// Writes the human summary, with ANSI colour if `colour` (the caller decides: a
/// terminal, and `NO_COLOR` unset).
pub fn write_text_styled(summary: &Summary, out: &mut impl Write, colour: bool) -> io::Result<()> {
    let p = Paint(colour);
    let s = summary;

    writeln!(
        out,
        "{}  variant {}  seed {}  simulated {}  {} events  kinesim {}",
        p.bold(&s.scenario),
        variant_label(s),
        s.seed,
        human_ms(s.simulated_ms),
        thousands(s.run.events),
        s.run.kinesim
    )?;

    let label_width = 26;
    let write_rows = |out: &mut dyn Write, title: &str, rows: &[Row]| -> io::Result<()> {
        writeln!(out, "\n{}", p.bold(title))?;
        let value_width = rows
            .iter()
            .map(|r| thousands(r.value).len())
            .max()
            .unwrap_or(0);
        for r in rows {
            let cell = format!(
                "{:<label_width$}{:>value_width$}",
                r.label,
                thousands(r.value)
            );
            let cell = if r.alarm { p.yellow(&cell) } else { cell };
            match r.note {
                Some(n) => writeln!(out, "  {cell}  {}", p.dim(n))?,
                None => writeln!(out, "  {cell}")?,
            }
        }
        Ok(())
    };
    write_rows(out, "Records", &record_rows(&s.records))?;
    write_rows(out, "Invocations", &invocation_rows(&s.invocations))?;
    let reads = read_rows(&s.reads);
    if !reads.is_empty() {
        write_rows(out, "Reads", &reads)?;
    }

    writeln!(out, "\n{}", p.bold("Timing"))?;
    let a = &s.iterator_age_ms;
    let timing = [
        (
            "iterator age",
            vec![
                ("p50", a.p50),
                ("p90", a.p90),
                ("p99", a.p99),
                ("max", a.max),
            ],
        ),
        (
            "checkpoint lag",
            vec![
                ("p99", s.checkpoint_lag_ms.p99),
                ("max", s.checkpoint_lag_ms.max),
            ],
        ),
        (
            "latency",
            vec![
                ("p50", s.latency_ms.p50),
                ("p99", s.latency_ms.p99),
                ("max", s.latency_ms.max),
            ],
        ),
    ];
    for (label, stats) in timing {
        let cells: Vec<String> = stats
            .iter()
            .map(|(q, v)| format!("{q} {:<9}", human_ms(*v)))
            .collect();
        writeln!(out, "  {label:<label_width$}{}", cells.join(" ").trim_end())?;
    }
    writeln!(
        out,
        "  {:<label_width$}mean {} records, max {}",
        "batch size",
        s.batch_records.mean,
        thousands(s.batch_records.max)
    )?;
    writeln!(
        out,
        "  {:<label_width$}{}",
        "max concurrency", s.concurrency.max
    )?;

    if s.destination.messages > 0 {
        writeln!(
            out,
            "  {:<label_width$}{} messages covering {} records",
            "on-failure destination",
            thousands(s.destination.messages),
            thousands(s.destination.records)
        )?;
    }

    write_shards(out, p, &s.shards)?;

    if !s.actions.is_empty() {
        writeln!(out, "\n{}", p.bold("Actions"))?;
        for a in &s.actions {
            // A refusal says why; a resharding says when its shards opened.
            let reason = match (&a.reason, a.completed_ms) {
                (Some(r), _) => format!(": {r}"),
                (None, Some(done)) => format!(" at {}", human_ms(done)),
                (None, None) => String::new(),
            };
            writeln!(
                out,
                "  at {:<10}{}  {}{reason}",
                human_ms(a.at_ms),
                a.action,
                a.outcome
            )?;
        }
    }

    let c = &s.cost_usd;
    writeln!(out, "\n{}", p.bold("Cost"))?;
    writeln!(
        out,
        "  {}  (Lambda requests {}, Lambda duration {}, Kinesis {})",
        dollars(c.total),
        dollars(c.lambda_requests),
        dollars(c.lambda_duration),
        dollars(c.kinesis)
    )?;

    let (ok, text) = conservation(&s.records);
    let mark = if ok {
        p.green("ok")
    } else {
        p.red("MISMATCH: invariant I-1 does not hold")
    };
    writeln!(out, "\n{} {text}  {mark}", p.bold("Check"))?;

    writeln!(out, "\n{}", p.bold("Assumptions"))?;
    for a in &s.assumptions {
        writeln!(out, "  - {a}")?;
    }
    Ok(())
}

/// The shard table; rows of shards that were blocked stand out.
fn write_shards(out: &mut dyn Write, p: Paint, shards: &[ShardSummary]) -> io::Result<()> {
    writeln!(out, "\n{}", p.bold("Shards"))?;
    let rows: Vec<[String; 7]> = shards.iter().map(shard_cells).collect();
    let mut widths = SHARD_HEADS.map(str::len);
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.len());
        }
    }
    let line = |cells: &[String]| -> String {
        let mut s = String::from("  ");
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if i == 0 {
                s.push_str(&format!("{cell:<w$}"));
            } else {
                s.push_str(&format!("  {cell:>w$}"));
            }
        }
        s
    };
    let heads: Vec<String> = SHARD_HEADS.iter().map(|h| h.to_string()).collect();
    writeln!(out, "{}", p.dim(&line(&heads)))?;
    for (sh, cells) in shards.iter().zip(&rows) {
        let text = line(cells);
        let notes = shard_notes(sh);
        let note = if notes.is_empty() {
            String::new()
        } else {
            format!("  <- {}", notes.join(", "))
        };
        if sh.blocked_ms > 0 {
            writeln!(out, "{}", p.red(&format!("{text}{note}")))?;
        } else {
            writeln!(out, "{text}{note}")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_people_write_them() {
        assert_eq!(human_ms(0), "0s");
        assert_eq!(human_ms(850), "850ms");
        assert_eq!(human_ms(1_000), "1s");
        assert_eq!(human_ms(12_345), "12.3s");
        assert_eq!(human_ms(59_999), "59.9s");
        assert_eq!(human_ms(303_000), "5m3s");
        assert_eq!(human_ms(86_403_000), "24h0m3s");
        assert_eq!(human_ms(93_600_000), "26h0m0s");
    }

    #[test]
    fn thousands_and_dollars() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(dollars(0.0), "$0");
        assert_eq!(dollars(12.345), "$12.35");
        assert_eq!(dollars(0.012_34), "$0.0123");
        assert_eq!(dollars(0.000_004), "$0.000004");
    }

    #[test]
    fn conservation_line_says_whether_it_holds() {
        let mut r = RecordCounts {
            written: 10,
            delivered: 7,
            expired: 3,
            ..RecordCounts::default()
        };
        assert!(conservation(&r).0);
        r.pending = 1;
        let (ok, text) = conservation(&r);
        assert!(!ok);
        assert!(text.contains("!="), "{text}");
    }
}
