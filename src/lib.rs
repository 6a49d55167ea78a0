//! kinesim: a deterministic discrete-event simulator of Kinesis Data Streams feeding
//! AWS Lambda through an event source mapping.
//!
//! A run goes: scenario file → [`scenario::load`] (parse, validate) → [`World`] (the
//! model, driven by the [`engine`]) → [`report::Summary`] (design.md §6.1), which every
//! output format is written from. The rules the model follows are the numbered rules of
//! `spec/esm-rules.md`, cited where they live.
//!
//! ```no_run
//! let loaded = kinesim::scenario::load("poison-pill").unwrap();
//! let summary = kinesim::simulate(&loaded.base, None, kinesim::Outputs::default()).unwrap();
//! assert!(summary.records.expired > 0);
//! ```

pub mod check;
pub mod cli;
pub mod engine;
pub mod model;
pub mod observe;
pub mod report;
pub mod rng;
pub mod scenario;
pub mod time;
pub mod wallclock;

pub use model::{Outputs, RunError, World};
pub use report::Summary;

/// Runs `scenario` to its end and returns its summary. `variant` only labels the
/// summary; `outputs` receive the trace, destination messages and events asked for.
pub fn simulate(
    scenario: &scenario::Scenario,
    variant: Option<&str>,
    outputs: Outputs,
) -> Result<Summary, RunError> {
    let mut world = World::new(scenario, outputs);
    world.run()?;
    Ok(Summary::of(&world, variant))
}

/// [`simulate`], keeping the run's time series (`Outputs::timeseries`) for reports and
/// timelines: one row per shard per `simulation.sample_every`, in time then shard order.
pub fn simulate_with_series(
    scenario: &scenario::Scenario,
    variant: Option<&str>,
    outputs: Outputs,
) -> Result<(Summary, Vec<observe::timeseries::ShardSample>), RunError> {
    simulate_reporting(scenario, variant, outputs, |_, _| {})
}

/// [`simulate_with_series`], calling `progress(now, end)` now and then (see
/// [`World::run_reporting`]): for a progress bar on long runs.
pub fn simulate_reporting(
    scenario: &scenario::Scenario,
    variant: Option<&str>,
    outputs: Outputs,
    progress: impl FnMut(time::SimTime, time::SimTime),
) -> Result<(Summary, Vec<observe::timeseries::ShardSample>), RunError> {
    let mut world = World::new(
        scenario,
        Outputs {
            timeseries: true,
            ..outputs
        },
    );
    world.run_reporting(progress)?;
    let summary = Summary::of(&world, variant);
    Ok((summary, world.timeseries().to_vec()))
}
