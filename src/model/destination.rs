//! On-failure destination messages in the exact AWS shape (R-DEST-1..4,
//! aws-evidence.md §2.4).
//!
//! Request ids are UUIDs drawn from the run's own sub-stream, and timestamps come from
//! the simulated clock and `simulation.start_time`, so the same run writes the same
//! messages byte for byte (I-5).

use rand::Rng;
use serde_json::{Value, json};

use crate::rng::{Concern, SimRng, substream};
use crate::scenario::DestinationKind;
use crate::wallclock::format_iso8601_ms;

/// Why records were discarded (R-DEST-2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Condition {
    RetryAttemptsExhausted,
    RecordAgeExceeded,
}

impl Condition {
    pub fn as_str(self) -> &'static str {
        match self {
            Condition::RetryAttemptsExhausted => "RetryAttemptsExhausted",
            Condition::RecordAgeExceeded => "RecordAgeExceeded",
        }
    }
}

/// The function error a RetryAttemptsExhausted message reports: `"Unhandled"` for a
/// throw or a timeout, null for a complete failure by response (R-DEST-2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FunctionError {
    Unhandled,
    None,
}

/// What a message says about the records it covers.
#[derive(Clone, Debug)]
pub struct BatchInfo {
    pub shard_id: String,
    pub start_sequence_number: String,
    pub end_sequence_number: String,
    pub first_arrival_unix_ms: i64,
    pub last_arrival_unix_ms: i64,
    pub batch_size: u64,
}

/// Builds the messages of one run.
pub struct Destinations {
    kind: DestinationKind,
    function_arn: String,
    stream_arn: String,
    esm_uuid: String,
    ids: SimRng,
}

/// A UUID (version 4 layout) from 16 random bytes.
fn uuid(rng: &mut SimRng) -> String {
    let mut b = [0u8; 16];
    rng.fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

impl Destinations {
    pub fn new(seed: u64, kind: DestinationKind, function_arn: &str, stream_arn: &str) -> Self {
        let mut ids = substream(seed, Concern::RequestIds);
        let esm_uuid = uuid(&mut ids);
        Destinations {
            kind,
            function_arn: function_arn.to_string(),
            stream_arn: stream_arn.to_string(),
            esm_uuid,
            ids,
        }
    }

    /// A new destination of another kind (UpdateEventSourceMapping); the ids go on.
    pub fn set_kind(&mut self, kind: DestinationKind) {
        self.kind = kind;
    }

    /// Whether messages carry the records themselves (S3 only, R-DEST-4).
    pub fn carries_payload(&self) -> bool {
        self.kind == DestinationKind::S3
    }

    /// One message, as a line of compact JSON. `payload_event` (the event exactly as the
    /// function got it, `{"Records":[...]}`) is only written for an S3 destination
    /// (R-DEST-4), byte for byte. Returns the message and, for S3, the object key it would
    /// be stored under.
    pub fn message(
        &mut self,
        now_unix_ms: i64,
        condition: Condition,
        invoke_count: u32,
        function_error: FunctionError,
        info: &BatchInfo,
        payload_event: Option<&str>,
    ) -> (String, Option<String>) {
        let request_id = uuid(&mut self.ids);
        let mut m = serde_json::Map::new();
        m.insert(
            "requestContext".into(),
            json!({
                "requestId": request_id,
                "functionArn": self.function_arn,
                "condition": condition.as_str(),
                // R-DEST-3: an age discard that was never invoked still says 1.
                "approximateInvokeCount": invoke_count.max(1),
            }),
        );
        if condition == Condition::RetryAttemptsExhausted {
            m.insert(
                "responseContext".into(),
                json!({
                    "statusCode": 200,
                    "executedVersion": "$LATEST",
                    "functionError": match function_error {
                        FunctionError::Unhandled => json!("Unhandled"),
                        FunctionError::None => Value::Null,
                    },
                }),
            );
        }
        m.insert("version".into(), json!("1.0"));
        m.insert("timestamp".into(), json!(format_iso8601_ms(now_unix_ms)));
        m.insert(
            "KinesisBatchInfo".into(),
            json!({
                "shardId": info.shard_id,
                "startSequenceNumber": info.start_sequence_number,
                "endSequenceNumber": info.end_sequence_number,
                "approximateArrivalOfFirstRecord": format_iso8601_ms(info.first_arrival_unix_ms),
                "approximateArrivalOfLastRecord": format_iso8601_ms(info.last_arrival_unix_ms),
                "batchSize": info.batch_size,
                "streamArn": self.stream_arn,
            }),
        );
        let mut text = serde_json::to_string(&Value::Object(m)).expect("JSON values serialise");
        let mut key = None;
        if self.kind == DestinationKind::S3 {
            if let Some(event) = payload_event {
                // Spliced in as text: the records keep the exact bytes the function got.
                text.pop();
                text.push_str(r#","payload":"#);
                text.push_str(event);
                text.push('}');
            }
            // aws/lambda/<ESM-UUID>/<shardId>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<uuid>
            let ts = format_iso8601_ms(now_unix_ms);
            let (date, time) = (&ts[0..10], &ts[11..19]);
            key = Some(format!(
                "aws/lambda/{}/{}/{}/{}T{}-{}",
                self.esm_uuid,
                info.shard_id,
                date.replace('-', "/"),
                date,
                time.replace(':', "."),
                uuid(&mut self.ids)
            ));
        }
        (text, key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed((text, key): (String, Option<String>)) -> (Value, Option<String>) {
        (serde_json::from_str(&text).expect("a message is JSON"), key)
    }

    fn info() -> BatchInfo {
        BatchInfo {
            shard_id: "shardId-000000000001".into(),
            start_sequence_number: "4960".into(),
            end_sequence_number: "4961".into(),
            first_arrival_unix_ms: 1_767_225_600_000,
            last_arrival_unix_ms: 1_767_225_600_500,
            batch_size: 2,
        }
    }

    #[test]
    fn r_dest_1_the_message_has_the_aws_keys_in_order() {
        let mut d = Destinations::new(1, DestinationKind::Sqs, "arn:f", "arn:s");
        let (m, key) = parsed(d.message(
            1_767_225_661_021,
            Condition::RetryAttemptsExhausted,
            3,
            FunctionError::Unhandled,
            &info(),
            None,
        ));
        assert_eq!(key, None);
        let keys: Vec<&String> = m.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "requestContext",
                "responseContext",
                "version",
                "timestamp",
                "KinesisBatchInfo"
            ]
        );
        let rc: Vec<&String> = m["requestContext"].as_object().unwrap().keys().collect();
        assert_eq!(
            rc,
            [
                "requestId",
                "functionArn",
                "condition",
                "approximateInvokeCount"
            ]
        );
        assert_eq!(m["requestContext"]["approximateInvokeCount"], 3);
        assert_eq!(m["responseContext"]["functionError"], "Unhandled");
        assert_eq!(m["timestamp"], "2026-01-01T00:01:01.021Z");
        let kb: Vec<&String> = m["KinesisBatchInfo"].as_object().unwrap().keys().collect();
        assert_eq!(
            kb,
            [
                "shardId",
                "startSequenceNumber",
                "endSequenceNumber",
                "approximateArrivalOfFirstRecord",
                "approximateArrivalOfLastRecord",
                "batchSize",
                "streamArn"
            ]
        );
        assert_eq!(
            m["KinesisBatchInfo"]["approximateArrivalOfLastRecord"],
            "2026-01-01T00:00:00.500Z"
        );
        let id = m["requestContext"]["requestId"].as_str().unwrap();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
    }

    #[test]
    fn r_dest_2_record_age_messages_have_no_response_context() {
        let mut d = Destinations::new(1, DestinationKind::Sns, "arn:f", "arn:s");
        let (m, _) = parsed(d.message(
            0,
            Condition::RecordAgeExceeded,
            0,
            FunctionError::Unhandled,
            &info(),
            None,
        ));
        assert!(m.get("responseContext").is_none());
        assert_eq!(
            m["requestContext"]["approximateInvokeCount"], 1,
            "R-DEST-3: at least 1"
        );
        let (m, _) = parsed(d.message(
            0,
            Condition::RetryAttemptsExhausted,
            2,
            FunctionError::None,
            &info(),
            None,
        ));
        assert_eq!(m["responseContext"]["functionError"], Value::Null);
    }

    #[test]
    fn r_dest_4_s3_messages_carry_the_payload_and_a_key() {
        let mut d = Destinations::new(1, DestinationKind::S3, "arn:f", "arn:s");
        let (m, key) = parsed(d.message(
            1_767_225_661_021,
            Condition::RetryAttemptsExhausted,
            1,
            FunctionError::Unhandled,
            &info(),
            Some(r#"{"Records":[{"a":1.500}]}"#),
        ));
        assert_eq!(m["payload"]["Records"][0]["a"], 1.5);
        let key = key.unwrap();
        assert!(key.starts_with("aws/lambda/"), "{key}");
        assert!(
            key.contains("/shardId-000000000001/2026/01/01/2026-01-01T00.01.01-"),
            "{key}"
        );
    }
}
