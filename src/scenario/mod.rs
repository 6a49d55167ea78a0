//! Scenario files: parsing (YAML or JSON), validation into the typed `Scenario`,
//! variants, and the built-in library.

mod types;
pub use types::*;
