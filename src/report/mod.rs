//! Reports: the one `Summary` of a run (design.md §6.1) and its writers.

pub mod compare;
pub mod markdown;
pub mod paint;
pub mod summary;
pub mod text;

pub use summary::Summary;
