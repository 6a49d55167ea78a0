//! Records as the function sees them: the event of an invocation (`--events`) and the
//! records an S3 destination message carries (R-DEST-4), in the exact shape of
//! aws-evidence.md §8 and with exactly the size R-BATCH-2 counts.
//!
//! Scripted records carry their own partition key and data. A rate producer's records
//! are not stored one by one, so they carry a placeholder: data of the modelled size and
//! a key `P-i` of the modelled length; their sizes, and so the payload cap, are exact.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::model::stream::{Run, SeqIndex};
use crate::model::world::World;

impl World {
    /// The event of lane `l`'s records in `[first, end)` of shard `s`, as compact JSON:
    /// `{"Records":[...]}`.
    pub(crate) fn event_json(&self, s: usize, l: usize, first: SeqIndex, end: SeqIndex) -> String {
        let mut out = String::from(r#"{"Records":["#);
        self.write_entries(s, l, first, end, &mut out);
        out.push_str("]}");
        out
    }

    fn write_entries(&self, s: usize, l: usize, first: SeqIndex, end: SeqIndex, out: &mut String) {
        let shard = &self.shards[s];
        let start_ms = self.scenario.simulation.start_time_unix_ms;
        let mut sep = false;
        shard
            .log
            .for_each_in_lane(first, end, shard.lanes[l].index, |a, b, run| {
                for i in a..b {
                    if sep {
                        out.push(',');
                    }
                    sep = true;
                    let (key, data) = self.record_content(run, i);
                    let arrival_ms = start_ms + run.arrival(i).as_millis() as i64;
                    self.ctx.write_entry(
                        out,
                        shard.number,
                        i,
                        &key,
                        &BASE64.encode(&data),
                        arrival_ms,
                    );
                }
            });
    }

    /// Partition key and data of record `i` of `run`.
    fn record_content(&self, run: &Run, i: SeqIndex) -> (String, Vec<u8>) {
        if run.tag.scripted != u32::MAX
            && let Some(r) = self.traffic.scripted(run.tag.producer, run.tag.scripted)
        {
            return (r.partition_key.clone(), r.data.clone());
        }
        let name = self.traffic.producer_name(run.tag.producer);
        (
            placeholder_key(name, i, usize::from(run.key_json_len)),
            placeholder_data(i, run.data_bytes as usize),
        )
    }
}

/// A key `name-j` of exactly `len` bytes (j varies with the record), or `k…k` if the
/// name alone is too long.
fn placeholder_key(name: &str, i: SeqIndex, len: usize) -> String {
    let prefix = name.len() + 1;
    if len > prefix && len - prefix <= 18 {
        let digits = (len - prefix) as u32;
        let low = if digits == 1 {
            0
        } else {
            10u64.pow(digits - 1)
        };
        let span = 10u64.pow(digits) - low;
        return format!("{name}-{}", low + i % span);
    }
    "k".repeat(len.max(1))
}

/// `len` bytes of readable filler naming the record.
fn placeholder_data(i: SeqIndex, len: usize) -> Vec<u8> {
    let stamp = format!("record {i} ");
    stamp.bytes().cycle().take(len).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_have_the_modelled_sizes() {
        for (name, len) in [
            ("clicks", 11usize),
            ("p", 3),
            ("p", 2),
            ("averyveryverylongname", 4),
        ] {
            assert_eq!(placeholder_key(name, 12345, len).len(), len, "{name} {len}");
        }
        assert_eq!(placeholder_key("clicks", 7, 11), "clicks-1007");
        assert_eq!(placeholder_data(3, 20).len(), 20);
    }
}
