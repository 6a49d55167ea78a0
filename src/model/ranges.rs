//! A set of sequence indexes as sorted, disjoint, non-adjacent ranges.
//!
//! Holds per-record state of in-flight records (which were processed successfully,
//! which were delivered) without one entry per record: a batch adds one range, a
//! partial response a few. Pruned as the checkpoint passes, so it stays bounded by what
//! is in flight (design.md §3).

use std::collections::VecDeque;

use crate::model::stream::SeqIndex;

/// A deque, because the checkpoint prunes from the front while batches add at the back.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RangeSet {
    ranges: VecDeque<(SeqIndex, SeqIndex)>,
}

impl RangeSet {
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// How many indexes of `[a, b)` are in the set.
    pub fn count_in(&self, a: SeqIndex, b: SeqIndex) -> u64 {
        // The ranges are sorted and disjoint: skip those ending at or before `a` by
        // binary search, so a set that grows while a lane is blocked costs log n.
        let from = self.ranges.partition_point(|&(_, y)| y <= a);
        self.ranges
            .range(from..)
            .take_while(|&&(x, _)| x < b)
            .map(|&(x, y)| y.min(b).saturating_sub(x.max(a)))
            .sum()
    }

    /// Adds `[a, b)`.
    pub fn insert(&mut self, a: SeqIndex, b: SeqIndex) {
        if a >= b {
            return;
        }
        // The common case, batches following each other: at or after the last range.
        match self.ranges.back_mut() {
            None => return self.ranges.push_back((a, b)),
            Some(last) if a > last.1 => return self.ranges.push_back((a, b)),
            Some(last) if a >= last.0 => {
                last.1 = last.1.max(b);
                return;
            }
            _ => {}
        }
        let (mut a, mut b) = (a, b);
        let mut out = VecDeque::with_capacity(self.ranges.len() + 1);
        let mut placed = false;
        for &(x, y) in &self.ranges {
            if y < a {
                out.push_back((x, y));
            } else if x > b {
                if !placed {
                    out.push_back((a, b));
                    placed = true;
                }
                out.push_back((x, y));
            } else {
                a = a.min(x);
                b = b.max(y);
            }
        }
        if !placed {
            out.push_back((a, b));
        }
        self.ranges = out;
    }

    /// Forgets every index below `upto`.
    pub fn prune_below(&mut self, upto: SeqIndex) {
        // From the front only: costs what it removes, not what the set holds.
        while self.ranges.front().is_some_and(|&(_, y)| y <= upto) {
            self.ranges.pop_front();
        }
        if let Some(first) = self.ranges.front_mut() {
            first.0 = first.0.max(upto);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserts_merge_and_counts_intersect() {
        let mut r = RangeSet::default();
        r.insert(10, 20);
        r.insert(30, 40);
        assert_eq!(r.count_in(0, 100), 20);
        assert_eq!(r.count_in(15, 35), 10);
        r.insert(20, 30);
        assert_eq!(r.ranges, vec![(10, 40)]);
        r.insert(0, 5);
        r.insert(50, 60);
        assert_eq!(r.ranges, vec![(0, 5), (10, 40), (50, 60)]);
        r.prune_below(12);
        assert_eq!(r.ranges, vec![(12, 40), (50, 60)]);
        assert_eq!(r.count_in(0, 100), 38);
    }
}
