//! Start-up: hashing partition keys to route them to shards (R-STREAM-1), eight at a
//! time (`model::keyhash`) against the `md-5` crate one key at a time.
//!
//! `cargo bench --bench keys`: the time for eight keys of the shape a rate producer
//! generates (`fleet-123456`); a run with a million keys hashes 125,000 such groups.

use kinesim::model::keyhash::{LANES, hash_keys};
use kinesim::model::stream::hash_key;

fn main() {
    divan::main();
}

fn keys() -> [Vec<u8>; LANES] {
    std::array::from_fn(|l| format!("fleet-{}", 123_456 + l).into_bytes())
}

#[divan::bench]
fn eight_at_a_time(bencher: divan::Bencher) {
    let keys = keys();
    bencher.bench(|| {
        hash_keys(std::array::from_fn(|l| {
            divan::black_box(keys[l].as_slice())
        }))
    });
}

#[divan::bench]
fn one_by_one(bencher: divan::Bencher) {
    let keys = keys();
    bencher.bench(|| {
        keys.each_ref()
            .map(|k| hash_key(divan::black_box(k.as_slice())))
    });
}
