//! `kinesim watch`: a live view of a run. The simulation steps on its own thread, paced
//! against the wall clock, and sends snapshots over a channel; the view (this thread)
//! draws them and sends control messages back (pause, faster, slower, quit).
//!
//! On a terminal the view is a full screen redrawn each frame: a row per shard scrolling
//! in time with the glyphs and colours of the text timeline, the iterator age per shard
//! and the running totals. Anywhere else (a pipe, a file, CI) the run is not paced and
//! the view prints plain periodic lines, which depend on simulated time only, so they
//! are the same on every run.

use std::collections::BTreeMap;
use std::io::{self, IsTerminal};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::thread;
use std::time::{Duration, Instant};

use clap::Args;
use crossterm::event::{self, Event as TermEvent, KeyCode, KeyEventKind, KeyModifiers};
use crossterm::{cursor, execute, queue, terminal};

use super::{CliError, Out, run};
use crate::model::{Outputs, RunError};
use crate::observe::timeseries::{ShardSample, ShardState};
use crate::report::Summary;
use crate::report::paint::Paint;
use crate::report::text::{human_ms, thousands};
use crate::report::timeline::{STATES, glyph, paint_state, state_label};
use crate::scenario::Scenario;
use crate::time::SimDuration;

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// A scenario file (.yaml, .yml, .json) or the name of a built-in scenario.
    pub scenario: String,
    /// Simulated time per wall-clock second (e.g. 10m); default: the whole run in about
    /// 30 s. Ignored when stdout is not a terminal: the run then goes as fast as it can.
    #[arg(long, value_name = "D", value_parser = run::parse_positive_duration)]
    pub speed: Option<SimDuration>,
    /// Watch this variant instead of the base scenario.
    #[arg(long, value_name = "NAME")]
    pub variant: Option<String>,
    /// Seed the run with N instead of the scenario's `seed`.
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Simulate D (e.g. 90m, 2h, 7d) instead of the scenario's `duration`.
    #[arg(long, value_name = "D", value_parser = run::parse_positive_duration)]
    pub duration: Option<SimDuration>,
}

/// How long the whole run takes on screen without `--speed`.
const DEFAULT_WALL_SECONDS: u64 = 30;
/// The shortest wall time between two snapshots of a paced run (about 10 a second).
const SNAPSHOT_EVERY: Duration = Duration::from_millis(100);
/// The longest the simulation thread sleeps before looking at its control messages, so
/// that a key takes effect at once even at a slow speed.
const CONTROL_LATENCY: Duration = Duration::from_millis(50);
/// Piped output: at most about this many periodic lines per run.
const PIPED_LINES: u64 = 20;

/// The default speed: the whole run in about [`DEFAULT_WALL_SECONDS`].
pub fn default_speed(duration: SimDuration) -> SimDuration {
    SimDuration((duration.0 / DEFAULT_WALL_SECONDS).max(1))
}

/// The wall time in which `ahead` of simulated time passes at `speed` (simulated time
/// per wall second). Integer arithmetic, so that no speed or run length loses precision.
pub fn wall_time_for(ahead: SimDuration, speed: SimDuration) -> Duration {
    let nanos = u128::from(ahead.0) * 1_000_000_000 / u128::from(speed.0.max(1));
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

/// `speed` doubled (`faster`) or halved, never below a microsecond per second.
pub fn change_speed(speed: SimDuration, faster: bool) -> SimDuration {
    if faster {
        SimDuration(speed.0.saturating_mul(2))
    } else {
        SimDuration((speed.0 / 2).max(1))
    }
}

/// From the view to the simulation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Control {
    /// Pause, or resume if paused.
    Pause,
    Faster,
    Slower,
    Quit,
}

/// A shard as of its latest sample.
#[derive(Clone, Copy, Debug)]
struct ShardNow {
    shard: u32,
    state: ShardState,
    iterator_age_ms: u64,
    pending: u64,
}

/// Counts since the start of the run, summed over the samples so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Totals {
    written: u64,
    delivered: u64,
    lost: u64,
    invocations: u64,
    errors: u64,
}

impl Totals {
    fn add(&mut self, r: &ShardSample) {
        self.written += r.written;
        self.delivered += r.delivered;
        self.lost += r.lost;
        self.invocations += r.invocations;
        self.errors += r.errors;
    }
}

/// What the view is sent: the run as of a sample.
#[derive(Clone, Debug)]
struct Snapshot {
    /// Time of the latest sample.
    t_ms: u64,
    /// The sample rows since the previous snapshot (the view keeps the history).
    rows: Vec<ShardSample>,
    /// Every shard sampled so far, by shard number.
    shards: Vec<ShardNow>,
    totals: Totals,
    /// The pace of the run (`None`: as fast as it goes), and whether it is paused.
    speed: Option<SimDuration>,
}

/// Turns the time series, a stretch at a time, into snapshots: each shard as of its latest
/// row, and the totals so far.
#[derive(Default)]
struct SnapshotBuilder {
    latest: BTreeMap<u32, ShardNow>,
    totals: Totals,
}

impl SnapshotBuilder {
    /// The snapshot after `rows`, the rows since the previous one (not empty).
    fn next(&mut self, rows: &[ShardSample], speed: Option<SimDuration>) -> Snapshot {
        for r in rows {
            self.totals.add(r);
            self.latest.insert(
                r.shard,
                ShardNow {
                    shard: r.shard,
                    state: r.state,
                    iterator_age_ms: r.iterator_age_ms,
                    pending: r.pending,
                },
            );
        }
        Snapshot {
            t_ms: rows.last().map_or(0, |r| r.t_ms),
            rows: rows.to_vec(),
            shards: self.latest.values().copied().collect(),
            totals: self.totals,
            speed,
        }
    }
}

enum ToView {
    Snapshot(Snapshot),
    /// The run ended (its summary) or stopped at a limit.
    Done(Box<Result<Summary, RunError>>),
}

pub fn watch(args: &WatchArgs, out: &mut Out<'_>) -> Result<(), CliError> {
    let s = run::plan_of(
        &args.scenario,
        args.variant.as_deref(),
        args.seed,
        args.duration,
    )?;
    let live = io::stdout().is_terminal();
    let speed = live.then(|| args.speed.unwrap_or_else(|| default_speed(s.duration)));
    // A bounded channel: a slow reader (a pipe) holds the simulation back instead of
    // letting snapshots pile up in memory.
    let (to_view, from_sim) = mpsc::sync_channel(64);
    let (to_sim, from_view) = mpsc::channel();
    let variant = args.variant.clone();
    let s = &s;
    thread::scope(|scope| {
        let sim = thread::Builder::new()
            .stack_size(super::RUN_STACK_BYTES)
            .spawn_scoped(scope, move || {
                simulate(s, variant.as_deref(), speed, &to_view, &from_view)
            })
            .map_err(CliError::Output)?;
        let result = if live {
            view_terminal(s, out, &from_sim, &to_sim)
        } else {
            view_piped(s, out, &from_sim)
        };
        // Whatever the view did, the simulation stops: quit, and no one is listening.
        let _ = to_sim.send(Control::Quit);
        drop(from_sim);
        sim.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
        result
    })
}

/// The simulation thread: steps the world, paced at `speed` (none: as fast as it goes),
/// sends snapshots and finally the summary. Stops early on `Quit` or when the view is
/// gone.
fn simulate(
    s: &Scenario,
    variant: Option<&str>,
    mut speed: Option<SimDuration>,
    to_view: &SyncSender<ToView>,
    from_view: &Receiver<Control>,
) {
    let mut world = crate::World::new(
        s,
        Outputs {
            timeseries: true,
            ..Outputs::default()
        },
    );
    if let Err(limit) = world.check_series_rows() {
        let _ = to_view.send(ToView::Done(Box::new(Err(limit.into()))));
        return;
    }
    let mut seen = 0;
    let mut builder = SnapshotBuilder::default();
    let mut paused = false;
    // Simulated time is due at `anchor.0 + wall_time_for(t - anchor.1)`; moved on each
    // pause and change of speed so that neither makes the run jump.
    let mut anchor = (Instant::now(), world.now());
    let mut last_sent: Option<Instant> = None;
    let mut snapshot = |world: &crate::World, speed: Option<SimDuration>, force: bool| {
        let rows = &world.timeseries()[seen..];
        let throttled =
            speed.is_some() && last_sent.is_some_and(|t: Instant| t.elapsed() < SNAPSHOT_EVERY);
        if rows.is_empty() || (throttled && !force) {
            return None;
        }
        seen = world.timeseries().len();
        last_sent = Some(Instant::now());
        Some(builder.next(rows, speed))
    };
    loop {
        for c in from_view.try_iter() {
            match c {
                Control::Quit => return,
                Control::Pause => paused = !paused,
                Control::Faster | Control::Slower => {
                    speed = speed.map(|v| change_speed(v, c == Control::Faster));
                }
            }
            anchor = (Instant::now(), world.now());
        }
        if paused {
            thread::sleep(CONTROL_LATENCY);
            continue;
        }
        if let Some(v) = speed {
            // The event just handled is shown only once its time is due on the wall.
            let due = anchor.0 + wall_time_for(world.now().saturating_since(anchor.1), v);
            let now = Instant::now();
            if due > now {
                thread::sleep((due - now).min(CONTROL_LATENCY));
                continue;
            }
        }
        match world.step() {
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(e) => {
                let _ = to_view.send(ToView::Done(Box::new(Err(e))));
                return;
            }
        }
        if let Some(snap) = snapshot(&world, speed, false)
            && to_view.send(ToView::Snapshot(snap)).is_err()
        {
            return;
        }
    }
    let result = world.finish().map(|()| Summary::of(&world, variant));
    if let Some(snap) = snapshot(&world, speed, true) {
        let _ = to_view.send(ToView::Snapshot(snap));
    }
    let _ = to_view.send(ToView::Done(Box::new(result)));
}

fn run_error(e: RunError) -> CliError {
    match e {
        RunError::Limit(l) => CliError::Limit(l),
        RunError::Output(source) => CliError::Output(source),
    }
}

/// `shardId-` and the 12 digits of a shard number.
fn shard_id(n: u32) -> String {
    format!("shardId-{n:012}")
}

/// One periodic line of the piped view.
fn piped_line(snap: &Snapshot) -> String {
    let t = &snap.totals;
    let max_age = snap
        .shards
        .iter()
        .map(|s| s.iterator_age_ms)
        .max()
        .unwrap_or(0);
    let blocked: Vec<String> = snap
        .shards
        .iter()
        .filter(|s| s.state == ShardState::Failing)
        .map(|s| shard_id(s.shard))
        .collect();
    let blocked = if blocked.is_empty() {
        "-".to_string()
    } else {
        blocked.join(",")
    };
    format!(
        "t={} written={} delivered={} lost={} invocations={} errors={} max_iterator_age={} blocked={blocked}\n",
        human_ms(snap.t_ms),
        t.written,
        t.delivered,
        t.lost,
        t.invocations,
        t.errors,
        human_ms(max_age),
    )
}

/// The last line: the totals of the summary, as `kinesim run` counts them.
fn final_line(summary: &Summary) -> String {
    format!(
        "done t={} written={} delivered={} lost={} invocations={} errors={}\n",
        human_ms(summary.simulated_ms),
        summary.records.written,
        summary.records.delivered,
        summary.records.lost,
        summary.invocations.total,
        summary.invocations.cloudwatch_errors,
    )
}

/// Not a terminal: a line per sample, or per about 1/20 of the run if samples are more
/// frequent, then the final totals.
fn view_piped(
    s: &Scenario,
    out: &mut Out<'_>,
    from_sim: &Receiver<ToView>,
) -> Result<(), CliError> {
    let sample_ms = s.simulation.sample_every.as_millis().max(1);
    let every_ms = (s.duration.as_millis() / PIPED_LINES).max(sample_ms);
    let mut next_ms = every_ms;
    for msg in from_sim {
        match msg {
            ToView::Snapshot(snap) => {
                if snap.t_ms >= next_ms {
                    while next_ms <= snap.t_ms {
                        next_ms += every_ms;
                    }
                    out.emit(piped_line(&snap).as_bytes())?;
                }
            }
            ToView::Done(result) => {
                let summary = result.map_err(run_error)?;
                return out.emit(final_line(&summary).as_bytes());
            }
        }
    }
    Ok(())
}

/// Puts the terminal back as it was: on drop, and from the panic hook.
fn restore_terminal() {
    let _ = terminal::disable_raw_mode();
    let _ = execute!(io::stdout(), terminal::LeaveAlternateScreen, cursor::Show);
}

/// Raw mode and the alternate screen while alive; restored on drop, including when the
/// view returns early with an error.
struct TerminalGuard;

impl TerminalGuard {
    fn enter() -> io::Result<TerminalGuard> {
        // A panic anywhere must not leave the shell in raw mode with no cursor.
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore_terminal();
            previous(info);
        }));
        terminal::enable_raw_mode()?;
        let guard = TerminalGuard;
        execute!(io::stdout(), terminal::EnterAlternateScreen, cursor::Hide)?;
        Ok(guard)
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// What the terminal view remembers of the run.
struct History {
    /// Distinct sample times seen so far.
    samples: usize,
    last_t_ms: Option<u64>,
    /// Per shard: the index of its first sample, then a state per sample.
    states: BTreeMap<u32, (usize, Vec<ShardState>)>,
    latest: Option<Snapshot>,
}

impl History {
    fn add(&mut self, snap: Snapshot) {
        for r in &snap.rows {
            if self.last_t_ms != Some(r.t_ms) {
                self.last_t_ms = Some(r.t_ms);
                self.samples += 1;
            }
            let index = self.samples - 1;
            self.states
                .entry(r.shard)
                .or_insert_with(|| (index, vec![]))
                .1
                .push(r.state);
        }
        self.latest = Some(snap);
    }
}

/// The full-screen view; returns when the user quits.
fn view_terminal(
    s: &Scenario,
    out: &mut Out<'_>,
    from_sim: &Receiver<ToView>,
    to_sim: &Sender<Control>,
) -> Result<(), CliError> {
    let guard = TerminalGuard::enter().map_err(CliError::Output)?;
    let mut history = History {
        samples: 0,
        last_t_ms: None,
        states: BTreeMap::new(),
        latest: None,
    };
    let mut paused = false;
    let mut finished: Option<Summary> = None;
    loop {
        loop {
            match from_sim.try_recv() {
                Ok(ToView::Snapshot(snap)) => history.add(snap),
                Ok(ToView::Done(result)) => {
                    // An error returns through the guard, which restores the terminal
                    // before the message is printed.
                    finished = Some(result.map_err(run_error)?);
                }
                Err(_) => break,
            }
        }
        // Home and clear, then the frame, in one write so that it never flickers half-drawn.
        let mut frame = Vec::new();
        queue!(
            frame,
            cursor::MoveTo(0, 0),
            terminal::Clear(terminal::ClearType::All)
        )
        .map_err(CliError::Output)?;
        let (width, height) = terminal::size().unwrap_or((80, 24));
        let shape = Frame {
            width: usize::from(width),
            height: usize::from(height),
            paused,
            finished: finished.is_some(),
        };
        frame.extend(draw(s, &history, &shape, Paint(out.colour)).into_bytes());
        out.emit(&frame)?;
        if event::poll(Duration::from_millis(100)).map_err(CliError::Output)?
            && let TermEvent::Key(key) = event::read().map_err(CliError::Output)?
            && key.kind == KeyEventKind::Press
        {
            let control = match key.code {
                KeyCode::Char('q') | KeyCode::Esc => Some(Control::Quit),
                // Raw mode turns Ctrl-C into a key, so it quits like `q`.
                KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                    Some(Control::Quit)
                }
                KeyCode::Char(' ') => Some(Control::Pause),
                KeyCode::Char('+') | KeyCode::Char('=') => Some(Control::Faster),
                KeyCode::Char('-') | KeyCode::Char('_') => Some(Control::Slower),
                _ => None,
            };
            match control {
                Some(Control::Quit) => break,
                Some(c) => {
                    if c == Control::Pause {
                        paused = !paused;
                    }
                    // The simulation may already be gone (the run ended): nothing to do.
                    let _ = to_sim.send(c);
                }
                None => {}
            }
        }
    }
    drop(guard);
    // What was reached stays on the screen after the view is gone.
    let last = match (&finished, &history.latest) {
        (Some(summary), _) => final_line(summary),
        (None, Some(snap)) => piped_line(snap),
        (None, None) => String::new(),
    };
    out.emit(last.as_bytes())
}

/// What a frame shows besides the run: the terminal's size and the run's state.
struct Frame {
    width: usize,
    height: usize,
    paused: bool,
    finished: bool,
}

/// One frame of the terminal view, lines ending in `\r\n` (raw mode does not return the
/// carriage).
fn draw(s: &Scenario, h: &History, f: &Frame, p: Paint) -> String {
    let (width, height, paused, finished) = (f.width, f.height, f.paused, f.finished);
    let mut lines = vec![];
    let (t_ms, speed, totals) = match &h.latest {
        Some(snap) => (snap.t_ms, snap.speed, snap.totals),
        None => (0, None, Totals::default()),
    };
    let status = if finished {
        "finished".to_string()
    } else if paused {
        "paused".to_string()
    } else {
        speed.map_or(String::new(), |v| format!("{v} per second"))
    };
    lines.push(format!(
        "{}  t={} of {}  {}",
        p.bold(&format!("kinesim watch {}", s.name)),
        human_ms(t_ms),
        human_ms(s.duration.as_millis()),
        status
    ));
    lines.push(format!(
        "written {}  delivered {}  lost {}  invocations {}  errors {}",
        thousands(totals.written),
        thousands(totals.delivered),
        thousands(totals.lost),
        thousands(totals.invocations),
        thousands(totals.errors),
    ));
    lines.push(String::new());
    // Label, space, the scrolling columns, then the age and pending.
    let label = 21;
    // "  age " and 9, "  pending " and 9.
    let tail = 34;
    let columns = width.saturating_sub(label + tail).max(1);
    let rows_room = height.saturating_sub(lines.len() + 3);
    let shards = h.latest.as_ref().map_or(&[][..], |snap| &snap.shards[..]);
    let first_col = h.samples.saturating_sub(columns);
    for now in shards.iter().take(rows_room) {
        let mut row = format!("{:<label$}", shard_id(now.shard));
        if let Some((start, states)) = h.states.get(&now.shard) {
            for col in first_col..first_col + columns {
                match col.checked_sub(*start).and_then(|i| states.get(i)) {
                    Some(&st) => row.push_str(&paint_state(p, st, &glyph(st).to_string())),
                    None => row.push(' '),
                }
            }
        }
        row.push_str(&format!(
            "  age {:>9}  pending {:>9}",
            human_ms(now.iterator_age_ms),
            thousands(now.pending)
        ));
        lines.push(row);
    }
    if shards.len() > rows_room {
        lines.push(format!("… {} more shards", shards.len() - rows_room));
    }
    lines.push(String::new());
    let legend: Vec<String> = STATES
        .iter()
        .map(|&st| paint_state(p, st, &format!("{} {}", glyph(st), state_label(st))))
        .collect();
    lines.push(legend.join("  "));
    lines.push(p.dim("space pause  + faster  - slower  q quit"));
    let mut frame = lines.join("\r\n");
    frame.push_str("\r\n");
    frame
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The view's history of a whole run of `name`, fed one sample time at a time as the
    /// simulation thread feeds it.
    fn history_of(name: &str) -> (Scenario, History) {
        let s = crate::scenario::load(name).expect("a built-in").base;
        let mut world = crate::World::new(
            &s,
            Outputs {
                timeseries: true,
                ..Outputs::default()
            },
        );
        world.run().expect("runs");
        let mut builder = SnapshotBuilder::default();
        let mut history = History {
            samples: 0,
            last_t_ms: None,
            states: BTreeMap::new(),
            latest: None,
        };
        for rows in world.timeseries().chunk_by(|a, b| a.t_ms == b.t_ms) {
            history.add(builder.next(rows, Some(SimDuration::from_secs(60))));
        }
        (s, history)
    }

    fn frame(width: usize, height: usize, paused: bool, finished: bool) -> Frame {
        Frame {
            width,
            height,
            paused,
            finished,
        }
    }

    #[test]
    fn a_frame_shows_each_shard_scrolling_in_the_timeline_glyphs() {
        let (s, h) = history_of("poison-pill");
        let text = draw(&s, &h, &frame(200, 30, false, true), Paint(false));
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert!(
            text.ends_with("\r\n"),
            "raw mode needs the carriage returns"
        );
        assert!(
            lines[0].starts_with("kinesim watch poison-pill  t=26h"),
            "{}",
            lines[0]
        );
        assert!(lines[0].ends_with("finished"), "{}", lines[0]);
        assert!(
            lines[1].starts_with("written 37,440,000  delivered "),
            "{}",
            lines[1]
        );
        let rows: Vec<&str> = lines
            .iter()
            .copied()
            .filter(|l| l.starts_with("shardId-"))
            .collect();
        assert_eq!(rows.len(), 4, "a row per shard: {text}");
        // 200 columns less the label (21) and the age and pending (34): the latest 145
        // samples, a minute each; a row fills the width, never more.
        let glyphs = |row: &str| {
            row[21..]
                .chars()
                .take_while(|c| "·─█▒░x".contains(*c))
                .count()
        };
        for row in &rows {
            assert_eq!(glyphs(row), 145, "{row}");
            assert_eq!(row.chars().count(), 200, "{row}");
            assert!(
                row.contains("  age ") && row.contains("  pending "),
                "{row}"
            );
        }
        // The poison batch holds shard 0 until retention trims it at 25 h, then the shard
        // catches up: its last two and a half hours show both; the others only process.
        assert!(
            rows[0].contains('█') && rows[0].contains('─'),
            "{}",
            rows[0]
        );
        for row in &rows[1..] {
            assert!(!row.contains('█'), "{row}");
        }
        assert!(lines.iter().any(|l| l.contains("█ failing")), "the legend");
        assert!(lines.iter().any(|l| l.contains("q quit")), "the keys");
    }

    #[test]
    fn a_short_terminal_says_how_many_shards_it_leaves_out() {
        let (s, h) = history_of("poison-pill");
        // Three lines of header and three of legend leave room for two shards.
        let text = draw(&s, &h, &frame(100, 8, true, false), Paint(false));
        assert_eq!(text.matches("shardId-").count(), 2, "{text}");
        assert!(text.contains("… 2 more shards"), "{text}");
        assert!(text.lines().next().unwrap().ends_with("paused"), "{text}");
    }

    #[test]
    fn pacing_turns_simulated_time_into_wall_time() {
        let ten_minutes = SimDuration::from_secs(600);
        assert_eq!(
            wall_time_for(ten_minutes, ten_minutes),
            Duration::from_secs(1)
        );
        assert_eq!(
            wall_time_for(SimDuration::from_secs(60), ten_minutes),
            Duration::from_millis(100)
        );
        assert_eq!(
            wall_time_for(SimDuration::from_hours(1), SimDuration::from_secs(1)),
            Duration::from_secs(3600)
        );
        // A huge lead at the slowest speed saturates instead of overflowing.
        assert_eq!(
            wall_time_for(SimDuration(u64::MAX), SimDuration(1)),
            Duration::from_nanos(u64::MAX)
        );
    }

    #[test]
    fn the_default_speed_shows_the_run_in_about_thirty_seconds() {
        let two_hours = SimDuration::from_hours(2);
        let speed = default_speed(two_hours);
        assert_eq!(speed, SimDuration::from_secs(240));
        assert_eq!(wall_time_for(two_hours, speed), Duration::from_secs(30));
        assert_eq!(default_speed(SimDuration(5)), SimDuration(1));
    }

    #[test]
    fn speed_doubles_and_halves_within_bounds() {
        let v = SimDuration::from_secs(60);
        assert_eq!(change_speed(v, true), SimDuration::from_secs(120));
        assert_eq!(change_speed(v, false), SimDuration::from_secs(30));
        assert_eq!(change_speed(SimDuration(1), false), SimDuration(1));
        assert_eq!(
            change_speed(SimDuration(u64::MAX), true),
            SimDuration(u64::MAX)
        );
    }
}
