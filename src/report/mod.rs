//! Reports: the one `Summary` of a run (design.md §6.1) and its writers.

pub mod compare;
pub mod files;
pub mod html;
pub mod markdown;
pub mod paint;
pub mod summary;
pub mod svg;
pub mod text;
pub mod timeline;

pub use summary::Summary;
