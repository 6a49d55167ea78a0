//! The one random generator of a run, and its independent sub-streams.
//!
//! Every draw in the model comes from ChaCha8 seeded by the scenario seed, with a
//! separate ChaCha stream per concern (traffic of each producer, durations, failures,
//! poll phases). Adding a draw to one concern therefore never shifts another: a
//! variant that adds a failure behaviour sees the same traffic (R-TRAFFIC-1, I-5).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The generator used everywhere in the model.
pub type SimRng = ChaCha8Rng;

/// What a sub-stream is for. The discriminant and index pick the ChaCha stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Concern {
    /// Arrivals and record sizes of producer `i`.
    Traffic(u32),
    /// How a producer's records of one tick are split among shards.
    Routing(u32),
    /// Function durations (jitter) of invocations of shard `i`.
    Durations(u32),
    /// Transient failures (`error_rate`) of invocations of shard `i`.
    Failures(u32),
    /// The polling phases of the shards the stream starts with.
    PollPhase,
    /// The polling phase of shard `i` opened by a resharding.
    ChildPollPhase(u32),
    /// Request ids and object keys of on-failure destination messages.
    RequestIds,
}

/// A generator for `concern`, independent of every other concern's.
pub fn substream(seed: u64, concern: Concern) -> SimRng {
    let (kind, index): (u64, u64) = match concern {
        Concern::Traffic(i) => (1, u64::from(i)),
        Concern::Routing(i) => (2, u64::from(i)),
        Concern::Durations(i) => (3, u64::from(i)),
        Concern::Failures(i) => (4, u64::from(i)),
        Concern::PollPhase => (5, 0),
        Concern::RequestIds => (6, 0),
        Concern::ChildPollPhase(i) => (7, u64::from(i)),
    };
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream((kind << 32) | index);
    rng
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn same_seed_and_concern_give_the_same_draws() {
        let a: Vec<u64> = (0..4)
            .map({
                let mut r = substream(7, Concern::Traffic(0));
                move |_| r.next_u64()
            })
            .collect();
        let b: Vec<u64> = (0..4)
            .map({
                let mut r = substream(7, Concern::Traffic(0));
                move |_| r.next_u64()
            })
            .collect();
        assert_eq!(a, b);
    }

    #[test]
    fn concerns_are_independent_streams() {
        let mut t = substream(7, Concern::Traffic(0));
        let mut f = substream(7, Concern::Failures(0));
        let mut t1 = substream(7, Concern::Traffic(1));
        let x = t.next_u64();
        assert_ne!(x, f.next_u64());
        assert_ne!(x, t1.next_u64());
    }
}
