//! kinesim: a deterministic discrete-event simulator of Kinesis Data Streams feeding
//! AWS Lambda through an event source mapping.

pub mod scenario;
pub mod time;
pub mod engine;
pub mod model;
pub mod observe;
pub mod rng;
