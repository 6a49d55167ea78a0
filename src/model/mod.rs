//! The AWS model: the stream and its shards, producers, the event source mapping and
//! the function. `World` owns all of it and handles the events of `event.rs`.

pub mod actions;
pub mod autoscale;
pub mod destination;
pub mod event;
pub mod filter;
pub mod function;
pub mod keyhash;
pub mod mapping;
pub mod payload;
pub mod producer;
pub mod ranges;
pub mod reads;
pub mod records;
pub mod reshard;
pub mod retry;
pub mod steady;
pub mod stream;
pub mod world;

pub use world::{Outputs, RunError, World};
