//! End-to-end runs of built-in scenarios, summary included: what a user waits for.
//!
//! `cargo bench --bench scenarios`; the larger fleet runs are measured by hand
//! (BENCHMARKS.md), they take too long for a statistical harness.

use kinesim::{Outputs, simulate};

fn main() {
    divan::main();
}

#[divan::bench(args = ["steady", "poison-pill", "shards-vs-parallelization", "scale-out-by-resharding"], sample_count = 10)]
fn builtin(name: &str) -> kinesim::Summary {
    let loaded = kinesim::scenario::load(name).expect("a built-in scenario");
    simulate(&loaded.base, None, Outputs::default()).expect("the run completes")
}
