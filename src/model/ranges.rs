//! A set of sequence indexes as sorted, disjoint, non-adjacent ranges.
//!
//! Holds per-record state of in-flight records (which were processed successfully,
//! which were delivered) without one entry per record: a batch adds one range, a
//! partial response a few. Pruned as the checkpoint passes, so it stays bounded by what
//! is in flight (design.md §3).

use crate::model::stream::SeqIndex;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RangeSet {
    ranges: Vec<(SeqIndex, SeqIndex)>,
}

impl RangeSet {
    /// How many indexes of `[a, b)` are in the set.
    pub fn count_in(&self, a: SeqIndex, b: SeqIndex) -> u64 {
        if self.ranges.is_empty() {
            return 0;
        }
        self.ranges
            .iter()
            .map(|&(x, y)| y.min(b).saturating_sub(x.max(a)))
            .sum()
    }

    /// Adds `[a, b)`.
    pub fn insert(&mut self, a: SeqIndex, b: SeqIndex) {
        if a >= b {
            return;
        }
        // The common case, batches following each other: at or after the last range.
        match self.ranges.last_mut() {
            None => return self.ranges.push((a, b)),
            Some(last) if a > last.1 => return self.ranges.push((a, b)),
            Some(last) if a >= last.0 => {
                last.1 = last.1.max(b);
                return;
            }
            _ => {}
        }
        let (mut a, mut b) = (a, b);
        let mut out = Vec::with_capacity(self.ranges.len() + 1);
        let mut placed = false;
        for &(x, y) in &self.ranges {
            if y < a {
                out.push((x, y));
            } else if x > b {
                if !placed {
                    out.push((a, b));
                    placed = true;
                }
                out.push((x, y));
            } else {
                a = a.min(x);
                b = b.max(y);
            }
        }
        if !placed {
            out.push((a, b));
        }
        self.ranges = out;
    }

    /// Forgets every index below `upto`.
    pub fn prune_below(&mut self, upto: SeqIndex) {
        if self.ranges.first().is_none_or(|r| r.0 >= upto) {
            return;
        }
        self.ranges.retain(|&(_, y)| y > upto);
        if let Some(first) = self.ranges.first_mut() {
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
