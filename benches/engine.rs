//! The event queue alone: schedule-and-pop throughput with 1k, 10k and 100k events
//! pending, the sizes a run of 10, 100 and 1,000 shards keeps in flight; global events
//! (one heap), and shard events (a queue per shard under an index).
//!
//! `cargo bench --bench engine`

use divan::Bencher;
use kinesim::engine::{Engine, Owner};
use kinesim::time::{SimDuration, SimTime};

fn main() {
    divan::main();
}

/// An event numbered `n`, of one of a thousand shards, as polls and lane timers are.
#[derive(Clone, Copy)]
struct ShardEvent(u64);

impl Owner for ShardEvent {
    fn shard(&self) -> Option<u32> {
        Some((self.0 % 1_000) as u32)
    }
}

/// Pops the earliest event and schedules its follower up to a second later, as polls and
/// invocation ends do: the queue stays at `pending` events, `event(n)` each.
fn pop_and_reschedule_with<E: Owner + Copy>(
    bencher: Bencher,
    pending: u64,
    event: fn(u64) -> E,
    number: fn(E) -> u64,
) {
    const OPS: u64 = 100_000;
    bencher
        .counter(divan::counter::ItemsCount::new(OPS))
        .with_inputs(|| {
            let mut e: Engine<E> = Engine::new(u64::MAX);
            for i in 0..pending {
                // Spread over the first second, as shards' poll phases are.
                e.schedule(SimTime((i * 7_919) % 1_000_000), event(i));
            }
            e
        })
        .bench_local_values(|mut e| {
            for k in 0..OPS {
                let ev = e
                    .pop_until(SimTime(u64::MAX))
                    .expect("no limit")
                    .expect("the queue is never empty");
                // A pseudo-random delay under a second, cheap and deterministic.
                let delay = (number(ev).wrapping_mul(6_364_136_223_846_793_005) ^ k) % 1_000_000;
                e.schedule_in(SimDuration(delay + 1), ev);
            }
            e
        });
}

/// Global events: one binary heap.
#[divan::bench(args = [1_000, 10_000, 100_000])]
fn pop_and_reschedule(bencher: Bencher, pending: u64) {
    pop_and_reschedule_with(bencher, pending, |n| n, |n| n);
}

/// The same with every event in one of 1,000 shards' queues.
#[divan::bench(args = [1_000, 10_000, 100_000])]
fn pop_and_reschedule_shard_events(bencher: Bencher, pending: u64) {
    pop_and_reschedule_with(bencher, pending, ShardEvent, |e| e.0);
}
