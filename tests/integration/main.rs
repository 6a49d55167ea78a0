//! The one integration-test binary (design.md §7): a module per area.

mod cli;
mod rules;
mod support;
