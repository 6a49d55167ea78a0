//! The closed set of events a run schedules. Matched exhaustively by `World::handle`.

/// Which lane of which shard (position in the world's shard list; lane < 10).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LaneRef {
    pub shard: u32,
    pub lane: u8,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// Producers write the records of the whole second starting now.
    WriteTick,
    /// The mapping's poll of a shard: `tick` polls recur every second at the shard's
    /// phase; other polls are catch-up polls after a full GetRecords (R-POLL-1).
    Poll { shard: u32, tick: bool },
    /// The lane's one timer: invocation end, retry due, or batching window end,
    /// whichever its state says. Stale if `generation` is not the lane's current one.
    LaneTimer { lane: LaneRef, generation: u32 },
    /// The mapping becomes Enabled (R-POLL-2).
    MappingEnabled { generation: u32 },
    /// Periodic sample of checkpoint lag (R-METRIC-1).
    Sample,
    /// The scenario's `actions[index]` is due.
    Action { index: u32 },
    /// A resharding plan completes (R-RESHARD-4).
    ReshardDone { plan: u32 },
    /// The autoscale strategy looks at its metric.
    Autoscale,
}

impl crate::engine::Owner for Event {
    /// A shard's polls and its lanes' timers wait in its own queue.
    fn shard(&self) -> Option<u32> {
        match *self {
            Event::Poll { shard, .. } => Some(shard),
            Event::LaneTimer { lane, .. } => Some(lane.shard),
            _ => None,
        }
    }
}
