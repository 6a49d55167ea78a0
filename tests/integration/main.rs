//! The one integration-test binary (design.md §7): a module per area.

mod arbitrary;
mod cli;
mod error_handling;
mod invariants;
mod lifecycle;
mod rules;
mod support;
