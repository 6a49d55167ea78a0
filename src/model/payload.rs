//! The Kinesis event the function receives, and its size (R-BATCH-2, aws-evidence §8).
//!
//! The payload cap counts the compact JSON of the event, so the size of a record's entry
//! must be exact: it depends on the data size (base64), the partition key length and the
//! fixed-length parts (sequence number twice, shard id, timestamp, ARNs). Every record
//! of a run has the same entry size, which is why a batch cut at the cap is O(runs).

use crate::model::stream::{SEQUENCE_NUMBER_LEN, sequence_number, shard_id};

/// The 6 MiB synchronous invocation payload cap.
pub const PAYLOAD_CAP_BYTES: u64 = 6_291_456;

/// Bytes of `{"Records":[` plus `]}` around the entries.
pub const EVENT_ENVELOPE_BYTES: u64 = 14;

/// Names that appear in every record of the event.
#[derive(Clone, Debug)]
pub struct EventContext {
    pub region: String,
    pub stream_arn: String,
    pub role_arn: String,
    pub function_arn: String,
}

pub const REGION: &str = "us-east-1";
pub const ACCOUNT: &str = "123456789012";

impl EventContext {
    pub fn new(stream_name: &str, stream_arn: Option<&str>, function_name: &str) -> Self {
        EventContext {
            region: REGION.to_string(),
            stream_arn: stream_arn.map(str::to_string).unwrap_or_else(|| {
                format!("arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{stream_name}")
            }),
            role_arn: format!("arn:aws:iam::{ACCOUNT}:role/{function_name}-role"),
            function_arn: format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function_name}"),
        }
    }

    /// Bytes of one record's entry in the event, for a record of `data_bytes` bytes whose
    /// partition key takes `key_json_len` bytes inside its JSON string.
    pub fn entry_bytes(&self, data_bytes: u64, key_json_len: u64) -> u64 {
        let b64 = data_bytes.div_ceil(3) * 4;
        let fixed = ENTRY_TEMPLATE_BYTES
            + 2 * SEQUENCE_NUMBER_LEN as u64
            + SHARD_ID_LEN
            + TIMESTAMP_LEN
            + self.role_arn.len() as u64
            + self.region.len() as u64
            + self.stream_arn.len() as u64;
        fixed + key_json_len + b64
    }

    /// Writes one record's entry, exactly as the function receives it. `arrival_ms` is
    /// Unix milliseconds.
    pub fn write_entry(
        &self,
        out: &mut String,
        shard: u32,
        index: u64,
        partition_key: &str,
        data_base64: &str,
        arrival_ms: i64,
    ) {
        use std::fmt::Write;
        let seq = sequence_number(shard, index);
        let key = serde_json::to_string(partition_key).expect("a string serialises");
        let _ = write!(
            out,
            r#"{{"kinesis":{{"kinesisSchemaVersion":"1.0","partitionKey":{key},"sequenceNumber":"{seq}","data":"{data_base64}","approximateArrivalTimestamp":{}.{:03}}},"eventSource":"aws:kinesis","eventVersion":"1.0","eventID":"{}:{seq}","eventName":"aws:kinesis:record","invokeIdentityArn":"{}","awsRegion":"{}","eventSourceARN":"{}"}}"#,
            arrival_ms.div_euclid(1000),
            arrival_ms.rem_euclid(1000),
            shard_id(shard),
            self.role_arn,
            self.region,
            self.stream_arn,
        );
    }
}

/// Length of `shardId-000000000000`.
const SHARD_ID_LEN: u64 = 20;
/// `1767225600.123`: ten digits of seconds, a dot, three of milliseconds (2001..2286).
const TIMESTAMP_LEN: u64 = 14;
/// The entry's literal characters: everything but the variable fields.
const ENTRY_TEMPLATE_BYTES: u64 = (r#"{"kinesis":{"kinesisSchemaVersion":"1.0","partitionKey":"","sequenceNumber":"","data":"","approximateArrivalTimestamp":},"eventSource":"aws:kinesis","eventVersion":"1.0","eventID":":","eventName":"aws:kinesis:record","invokeIdentityArn":"","awsRegion":"","eventSourceARN":""}"#).len() as u64;

/// Bytes of the event holding `n` entries totalling `entries_bytes`.
pub fn event_bytes(n: u64, entries_bytes: u64) -> u64 {
    EVENT_ENVELOPE_BYTES + entries_bytes + n.saturating_sub(1)
}

/// Length of `s` inside a JSON string (escapes counted), without the quotes.
pub fn json_string_len(s: &str) -> u64 {
    serde_json::to_string(s)
        .map(|j| j.len() as u64 - 2)
        .unwrap_or(s.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_batch_2_entry_size_matches_the_written_json() {
        let ctx = EventContext::new("orders", None, "processor");
        for (key, data_len) in [("k", 0u64), ("clicks-9999", 1024), ("a\"b", 5), ("x", 3)] {
            let data = "A".repeat(data_len as usize);
            let b64 = base64_len_string(&data);
            let mut out = String::new();
            ctx.write_entry(&mut out, 3, 42, key, &b64, 1_767_225_600_123);
            assert_eq!(
                out.len() as u64,
                ctx.entry_bytes(data_len, json_string_len(key)),
                "{out}"
            );
            let v: serde_json::Value = serde_json::from_str(&out).unwrap();
            assert_eq!(
                v["eventID"],
                format!("shardId-000000000003:{}", sequence_number(3, 42))
            );
            assert_eq!(
                v["kinesis"]["approximateArrivalTimestamp"].as_f64(),
                Some(1767225600.123)
            );
        }
    }

    /// A stand-in base64 string of the right length (the content is not what is measured).
    fn base64_len_string(data: &str) -> String {
        "Q".repeat(data.len().div_ceil(3) * 4)
    }

    #[test]
    fn r_batch_2_a_kib_record_fits_about_three_thousand_times() {
        let ctx = EventContext::new("orders", None, "processor");
        let e = ctx.entry_bytes(1024, json_string_len("clicks-9999"));
        let n = (PAYLOAD_CAP_BYTES - EVENT_ENVELOPE_BYTES + 1) / (e + 1);
        assert!(event_bytes(n, n * e) <= PAYLOAD_CAP_BYTES);
        assert!(event_bytes(n + 1, (n + 1) * e) > PAYLOAD_CAP_BYTES);
        assert!((3000..3600).contains(&n), "{n} records of {e} bytes");
    }
}
