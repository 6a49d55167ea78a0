//! The scenario file exactly as written (design.md §4): serde structs, unknown keys
//! denied, no logic. Every field is optional here, so that a missing key is reported by
//! `validate` with the position of its parent; units stay text until `validate` reads
//! them. Where the file format takes two spellings (our key and the CloudFormation one,
//! `memory` / `MemorySize`), both are fields, so `validate` knows which one was written
//! and can refuse both at once.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, MapAccess, SeqAccess, Visitor};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawScenario {
    pub name: Option<String>,
    pub description: Option<String>,
    pub seed: Option<u64>,
    pub duration: Option<String>,
    pub stream: Option<RawStream>,
    pub producers: Option<Vec<RawProducer>>,
    pub function: Option<RawFunction>,
    pub event_source_mapping: Option<RawMapping>,
    pub actions: Option<Vec<RawAction>>,
    /// A reactive resharding strategy; `null` is none.
    pub autoscale: Option<RawAutoscale>,
    pub simulation: Option<RawSimulation>,
    pub prices: Option<RawPrices>,
    /// Merge patches, read on the document tree before this struct (see `mod.rs`);
    /// a field only so that the key is known.
    #[allow(dead_code)]
    pub variants: Option<de::IgnoredAny>,
    pub expect: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStream {
    pub name: Option<String>,
    pub shards: Option<i64>,
    #[serde(rename = "ShardCount")]
    pub shard_count: Option<i64>,
    pub retention: Option<String>,
    #[serde(rename = "RetentionPeriodHours")]
    pub retention_period_hours: Option<i64>,
    pub mode: Option<String>,
    #[serde(rename = "StreamModeDetails")]
    pub stream_mode_details: Option<RawStreamModeDetails>,
    pub consumer: Option<String>,
    pub other_consumers: Option<i64>,
    pub max_record_size: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStreamModeDetails {
    #[serde(rename = "StreamMode")]
    pub stream_mode: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawProducer {
    pub name: Option<String>,
    pub rate: Option<String>,
    pub arrival: Option<String>,
    pub record_size: Option<RawRecordSize>,
    pub partition_keys: Option<i64>,
    pub key_skew: Option<RawKeySkew>,
    pub start: Option<String>,
    pub end: Option<String>,
    pub changes: Option<Vec<RawRateChange>>,
    pub retry_rejected: Option<bool>,
    pub filter_pass: Option<String>,
    pub records: Option<Vec<RawRecord>>,
}

/// `record_size: 1KiB` or `{mean: 2KiB, sigma: 0.5}`.
#[derive(Debug)]
pub(crate) enum RawRecordSize {
    Fixed(String),
    LogNormal(RawLogNormal),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLogNormal {
    pub mean: Option<String>,
    pub sigma: Option<f64>,
}

/// `key_skew: uniform`, `zipf:1.1` or `{hot_key: k1, share: 30%}`.
#[derive(Debug)]
pub(crate) enum RawKeySkew {
    Named(String),
    HotKey(RawHotKey),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawHotKey {
    pub hot_key: Option<String>,
    pub share: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRateChange {
    pub at: Option<String>,
    pub rate: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRecord {
    pub at: Option<String>,
    pub partition_key: Option<String>,
    /// A string is the data as UTF-8; any other JSON value is written compactly.
    pub data: Option<serde_json::Value>,
    pub repeat: Option<i64>,
    pub explicit_hash_key: Option<RawScalar>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFunction {
    pub name: Option<String>,
    pub memory: Option<i64>,
    #[serde(rename = "MemorySize")]
    pub memory_size: Option<i64>,
    pub timeout: Option<String>,
    /// CloudFormation's Timeout: whole seconds.
    #[serde(rename = "Timeout")]
    pub timeout_secs: Option<RawScalar>,
    pub architecture: Option<String>,
    #[serde(rename = "Architectures")]
    pub architectures: Option<Vec<String>>,
    pub reserved_concurrency: Option<i64>,
    #[serde(rename = "ReservedConcurrentExecutions")]
    pub reserved_concurrent_executions: Option<i64>,
    pub account_concurrency: Option<i64>,
    pub cold_start: Option<String>,
    pub idle_ttl: Option<String>,
    pub duration: Option<RawDurationModel>,
    pub behaviours: Option<Vec<RawBehaviour>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDurationModel {
    pub base: Option<String>,
    pub per_record: Option<String>,
    pub per_kib: Option<String>,
    pub jitter: Option<String>,
}

/// One behaviour: exactly one of `poison`, `error_rate`, `outage`, `slowdown`
/// (`effect` and `times` go with `poison`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBehaviour {
    pub poison: Option<RawPoison>,
    pub effect: Option<RawEffect>,
    pub times: Option<i64>,
    pub error_rate: Option<String>,
    pub outage: Option<RawWindow>,
    pub slowdown: Option<RawSlowdown>,
    pub forgets_window_state: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPoison {
    pub at: Option<String>,
    pub shard: Option<i64>,
    pub partition_key: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RawEffect {
    Error,
    Timeout,
    ReportFailure,
    Respond(serde_json::Value),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWindow {
    pub from: Option<String>,
    pub to: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSlowdown {
    pub from: Option<String>,
    pub to: Option<String>,
    pub factor: Option<f64>,
}

/// The event source mapping with the AWS property names (Lambda API and CloudFormation
/// `AWS::Lambda::EventSourceMapping`, aws-evidence.md §9.1–9.3).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub(crate) struct RawMapping {
    pub event_source_arn: Option<String>,
    /// SAM's name for EventSourceArn.
    pub stream: Option<String>,
    pub function_name: Option<String>,
    pub enabled: Option<bool>,
    pub batch_size: Option<i64>,
    pub maximum_batching_window_in_seconds: Option<RawScalar>,
    pub parallelization_factor: Option<i64>,
    pub starting_position: Option<String>,
    pub starting_position_timestamp: Option<RawScalar>,
    pub maximum_record_age_in_seconds: Option<RawScalar>,
    pub maximum_retry_attempts: Option<i64>,
    pub bisect_batch_on_function_error: Option<bool>,
    pub tumbling_window_in_seconds: Option<RawScalar>,
    pub function_response_types: Option<Vec<String>>,
    pub destination_config: Option<RawDestinationConfig>,
    pub filter_criteria: Option<RawFilterCriteria>,
    pub metrics_config: Option<RawMetricsConfig>,
    /// The Lambda API spelling.
    #[serde(rename = "KMSKeyArn")]
    pub kms_key_arn_api: Option<String>,
    /// The CloudFormation spelling.
    pub kms_key_arn: Option<String>,
    pub tags: Option<RawTags>,
}

/// `update_mapping`: the UpdateEventSourceMapping members. The creation-only keys are
/// fields too, so that `validate` can say why they are refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub(crate) struct RawMappingUpdate {
    pub function_name: Option<String>,
    pub enabled: Option<bool>,
    pub batch_size: Option<i64>,
    pub maximum_batching_window_in_seconds: Option<RawScalar>,
    pub parallelization_factor: Option<i64>,
    pub maximum_record_age_in_seconds: Option<RawScalar>,
    pub maximum_retry_attempts: Option<i64>,
    pub bisect_batch_on_function_error: Option<bool>,
    pub tumbling_window_in_seconds: Option<RawScalar>,
    pub function_response_types: Option<Vec<String>>,
    pub destination_config: Option<RawDestinationConfig>,
    pub filter_criteria: Option<RawFilterCriteria>,
    pub metrics_config: Option<RawMetricsConfig>,
    #[serde(rename = "KMSKeyArn")]
    pub kms_key_arn_api: Option<String>,
    pub kms_key_arn: Option<String>,
    pub starting_position: Option<de::IgnoredAny>,
    pub starting_position_timestamp: Option<de::IgnoredAny>,
    pub event_source_arn: Option<de::IgnoredAny>,
    pub stream: Option<de::IgnoredAny>,
    pub tags: Option<de::IgnoredAny>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub(crate) struct RawDestinationConfig {
    pub on_failure: Option<RawOnFailure>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub(crate) struct RawOnFailure {
    pub destination: Option<String>,
    /// SAM: `SQS`, `SNS` or `S3`.
    #[serde(rename = "Type")]
    pub kind: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub(crate) struct RawFilterCriteria {
    pub filters: Option<Vec<RawFilter>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub(crate) struct RawFilter {
    /// A JSON string as in AWS; a mapping is accepted and written compactly.
    pub pattern: Option<serde_json::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub(crate) struct RawMetricsConfig {
    pub metrics: Option<Vec<String>>,
}

/// `Tags` as a mapping (Lambda API) or a list of `{Key, Value}` (CloudFormation).
#[derive(Debug, Default)]
pub(crate) struct RawTags(pub Vec<(String, String)>);

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "PascalCase")]
pub(crate) struct RawTag {
    pub key: Option<String>,
    pub value: Option<String>,
}

/// One operator action: `at` and exactly one of the action keys.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAction {
    pub at: Option<String>,
    pub split: Option<String>,
    /// With `split`: NewStartingHashKey (decimal); default the midpoint.
    pub at_hash_key: Option<RawScalar>,
    pub merge: Option<Vec<String>>,
    pub update_shard_count: Option<i64>,
    pub disable_mapping: Option<bool>,
    pub enable_mapping: Option<bool>,
    pub update_mapping: Option<RawMappingUpdate>,
    pub set_retention: Option<String>,
}

/// `autoscale`. The thresholds stay text: whether they are durations or percentages
/// depends on `metric`, which `validate` reads first.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAutoscale {
    pub metric: Option<String>,
    pub scale_out_above: Option<String>,
    pub scale_in_below: Option<String>,
    pub period: Option<String>,
    pub periods: Option<i64>,
    pub cooldown: Option<String>,
    pub min_shards: Option<i64>,
    pub max_shards: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSimulation {
    pub retry_backoff: Option<RawBackoff>,
    pub lane_blocking: Option<String>,
    pub reshard_step: Option<String>,
    pub mapping_start_delay: Option<String>,
    pub start_time: Option<String>,
    pub sample_every: Option<String>,
    pub max_events: Option<u64>,
    pub on_demand_split_after: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBackoff {
    pub initial: Option<String>,
    pub max: Option<String>,
}

/// A scalar read as written: AWS seconds (`60` or `1m`), Unix timestamps, hash keys.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RawScalar {
    Int(i64),
    /// Integers beyond i64 (hash keys).
    UInt(u64),
    Float(f64),
    Text(String),
}

// --- "this or that" shapes, by hand: a derived untagged enum would lose the position
// and say only "did not match any variant".

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = RawScalar;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a number or a string")
    }
    fn visit_i64<E>(self, v: i64) -> Result<RawScalar, E> {
        Ok(RawScalar::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<RawScalar, E> {
        Ok(match i64::try_from(v) {
            Ok(i) => RawScalar::Int(i),
            Err(_) => RawScalar::UInt(v),
        })
    }
    fn visit_f64<E>(self, v: f64) -> Result<RawScalar, E> {
        Ok(RawScalar::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<RawScalar, E> {
        Ok(RawScalar::Text(v.to_owned()))
    }
}

impl<'de> Deserialize<'de> for RawScalar {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
}

/// Text from a scalar visitor call (numbers keep their decimal text).
macro_rules! text_visits {
    ($ty:ty, $ctor:expr) => {
        fn visit_str<E>(self, v: &str) -> Result<$ty, E> {
            Ok($ctor(v.to_owned()))
        }
        fn visit_i64<E>(self, v: i64) -> Result<$ty, E> {
            Ok($ctor(v.to_string()))
        }
        fn visit_u64<E>(self, v: u64) -> Result<$ty, E> {
            Ok($ctor(v.to_string()))
        }
        fn visit_f64<E>(self, v: f64) -> Result<$ty, E> {
            Ok($ctor(v.to_string()))
        }
    };
}

impl<'de> Deserialize<'de> for RawRecordSize {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawRecordSize;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a size like 1KiB, or {mean: 2KiB, sigma: 0.5}")
            }
            text_visits!(RawRecordSize, RawRecordSize::Fixed);
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawRecordSize, A::Error> {
                RawLogNormal::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RawRecordSize::LogNormal)
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for RawKeySkew {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawKeySkew;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("uniform, zipf:S, or {hot_key: KEY, share: 30%}")
            }
            text_visits!(RawKeySkew, RawKeySkew::Named);
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawKeySkew, A::Error> {
                RawHotKey::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RawKeySkew::HotKey)
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for RawTags {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawTags;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping of tags, or a list of {Key, Value}")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawTags, A::Error> {
                let mut tags = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, String>()? {
                    tags.push((k, v));
                }
                Ok(RawTags(tags))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawTags, A::Error> {
                let mut tags = Vec::new();
                while let Some(t) = seq.next_element::<RawTag>()? {
                    tags.push((t.key.unwrap_or_default(), t.value.unwrap_or_default()));
                }
                Ok(RawTags(tags))
            }
        }
        d.deserialize_any(V)
    }
}

/// `prices:`: USD amounts, each optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPrices {
    pub lambda_per_million_requests: Option<f64>,
    pub lambda_gb_second_x86_64: Option<f64>,
    pub lambda_gb_second_arm64: Option<f64>,
    pub shard_hour: Option<f64>,
    pub per_million_put_units: Option<f64>,
    pub extended_retention_shard_hour: Option<f64>,
    pub efo_consumer_shard_hour: Option<f64>,
    pub efo_per_gb: Option<f64>,
    pub on_demand_stream_hour: Option<f64>,
    pub on_demand_per_gb_written: Option<f64>,
    pub on_demand_per_gb_read: Option<f64>,
}
