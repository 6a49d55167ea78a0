//! What a run observes: counters, histograms, the trace.

pub mod metrics;
pub mod timeseries;
pub mod trace;
