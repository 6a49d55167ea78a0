//! The one integration-test binary (design.md §7): a module per area.

mod alone;
mod arbitrary;
mod binary;
mod check;
mod cli;
mod compare_sweep;
mod docs;
mod error_handling;
mod golden;
mod invariants;
mod lifecycle;
mod parallelization;
mod reads;
mod report;
mod resharding;
mod rules;
mod scaling;
mod support;
mod timeseries;
mod watch;
