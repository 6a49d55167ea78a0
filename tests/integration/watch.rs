//! `kinesim watch` with stdout piped: plain periodic lines, not paced, ending with the
//! totals that `kinesim run` reports for the same run.

use crate::binary::{assert_exit, run, stderr, stdout};

/// The `key=value` of a line, as a number.
fn field(line: &str, key: &str) -> u64 {
    let prefix = format!("{key}=");
    let value = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {key} in {line:?}"));
    value
        .parse()
        .unwrap_or_else(|_| panic!("{key}={value} in {line:?}"))
}

/// `1h2m3s`, `4m5s`, `6s` as milliseconds (the forms `t=` takes on a sample boundary).
fn t_ms(line: &str) -> u64 {
    let t = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix("t="))
        .expect("a t=");
    let mut ms = 0;
    let mut number = 0;
    for c in t.chars() {
        match c {
            '0'..='9' => number = number * 10 + u64::from(c.to_digit(10).unwrap()),
            'h' => (ms, number) = (ms + number * 3_600_000, 0),
            'm' => (ms, number) = (ms + number * 60_000, 0),
            's' => (ms, number) = (ms + number * 1_000, 0),
            _ => panic!("unexpected {c} in t={t}"),
        }
    }
    ms
}

const ARGS: [&str; 4] = ["poison-pill", "--duration", "3h", "--seed"];

#[test]
fn piped_watch_prints_periodic_lines_then_the_run_totals() {
    let o = run(&[&["watch"][..], &ARGS, &["7"]].concat());
    assert_exit(&o, 0);
    let text = stdout(&o);
    let lines: Vec<&str> = text.lines().collect();
    let (last, periodic) = lines.split_last().expect("some output");
    assert!(periodic.len() >= 5, "{text}");
    assert!(periodic.len() <= 21, "{text}");
    let times: Vec<u64> = periodic.iter().map(|l| t_ms(l)).collect();
    assert!(times.windows(2).all(|w| w[0] < w[1]), "{text}");
    for l in periodic {
        assert!(
            l.contains(" max_iterator_age=") && l.contains(" blocked="),
            "{l}"
        );
    }
    // The poison record blocks its shard, and the lines say so.
    assert!(
        periodic
            .iter()
            .any(|l| l.contains("blocked=shardId-000000000000")),
        "{text}"
    );

    assert!(last.starts_with("done t=3h0m0s "), "{last}");
    let json = run(&[&["run"][..], &ARGS, &["7", "--format", "json"]].concat());
    assert_exit(&json, 0);
    let summary: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    for key in ["written", "delivered", "lost"] {
        assert_eq!(
            field(last, key),
            summary["records"][key].as_u64().unwrap(),
            "{key}: {last}"
        );
    }
    assert_eq!(
        field(last, "invocations"),
        summary["invocations"]["total"].as_u64().unwrap()
    );
    // Counts only grow, and the last periodic line never exceeds the totals.
    let written: Vec<u64> = periodic.iter().map(|l| field(l, "written")).collect();
    assert!(written.windows(2).all(|w| w[0] <= w[1]), "{text}");
    assert!(*written.last().unwrap() <= field(last, "written"));
}

#[test]
fn piped_watch_is_deterministic() {
    let args = [&["watch"][..], &ARGS, &["11"]].concat();
    let a = run(&args);
    let b = run(&args);
    assert_exit(&a, 0);
    assert_eq!(stdout(&a), stdout(&b));
}

#[test]
fn a_bad_scenario_or_speed_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "name: x\nduration: soon\n").unwrap();
    for args in [
        vec!["watch", bad.to_str().unwrap()],
        vec!["watch", "no-such-scenario"],
        vec!["watch", "steady", "--variant", "no-such-variant"],
        vec!["watch", "steady", "--speed", "0s"],
    ] {
        let o = run(&args);
        assert_exit(&o, 2);
        assert!(stdout(&o).is_empty(), "{args:?}");
    }
}

#[test]
fn a_time_series_too_large_to_keep_exits_3_before_running() {
    // watch keeps every sample: 1,000 shards every second for a day are 86.4 million.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("rows.yaml");
    let text = "name: rows\nduration: 24h\nstream: {shards: 1000}\nproducers: [{rate: 10/s}]\n\
                simulation: {sample_every: 1s}\nevent_source_mapping: {StartingPosition: TRIM_HORIZON}\n";
    std::fs::write(&file, text).unwrap();
    let o = run(&["watch", file.to_str().unwrap()]);
    assert_exit(&o, 3);
    assert!(stderr(&o).contains("86400000 rows"), "{}", stderr(&o));
}

/// The terminal view, driven in a real terminal (tmux): it draws a row per shard, pauses
/// on space, quits on `q`, and leaves the screen as it found it with the last totals.
/// Needs tmux; CI installs it (.ci/run), elsewhere the test says it was skipped.
#[test]
fn the_terminal_view_draws_pauses_and_quits() {
    use std::process::Command;
    use std::time::{Duration, Instant};

    let tmux = |args: &[&str]| {
        Command::new("tmux")
            .args(args)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
    };
    if tmux(&["-V"]).is_err() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install tmux for this test"
        );
        eprintln!("tmux is not installed: the terminal view test is skipped");
        return;
    }
    let session = format!("kinesim-watch-{}", std::process::id());
    let command = format!(
        "{} watch poison-pill --speed 30m; echo EXITED $?; sleep 60",
        env!("CARGO_BIN_EXE_kinesim")
    );
    tmux(&[
        "new-session",
        "-d",
        "-s",
        &session,
        "-x",
        "120",
        "-y",
        "30",
        &command,
    ])
    .expect("tmux starts");
    let screen = || tmux(&["capture-pane", "-p", "-t", &session]).unwrap_or_default();
    let wait_for = |what: &str| {
        let start = Instant::now();
        loop {
            let text = screen();
            if text.contains(what) {
                return text;
            }
            if start.elapsed() > Duration::from_secs(30) {
                let _ = tmux(&["kill-session", "-t", &session]);
                panic!("no {what:?} on the screen after 30 s:\n{text}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    };
    let frame = wait_for("shardId-000000000003");
    assert!(frame.contains("kinesim watch poison-pill"), "{frame}");
    assert!(frame.contains("q quit"), "{frame}");
    assert_eq!(frame.matches("shardId-").count(), 4, "{frame}");
    for row in frame.lines().filter(|l| l.starts_with("shardId-")) {
        // A row that ran past the terminal's width would wrap its tail onto the next line.
        let ends_with_count = row.trim_end().ends_with(|c: char| c.is_ascii_digit());
        assert!(ends_with_count, "a row wider than the terminal:\n{frame}");
    }
    tmux(&["send-keys", "-t", &session, " "]).expect("a key");
    wait_for("paused");
    tmux(&["send-keys", "-t", &session, "q"]).expect("a key");
    let after = wait_for("EXITED 0");
    let _ = tmux(&["kill-session", "-t", &session]);
    // Back on the normal screen: the frame is gone and the last totals stay.
    assert!(
        !after.contains("q quit"),
        "the view should be gone:\n{after}"
    );
    assert!(after.contains("written="), "the last totals:\n{after}");
}
