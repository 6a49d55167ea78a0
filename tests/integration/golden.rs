//! Golden outputs, reviewed as diffs (`cargo insta review`): the on-failure messages and
//! events of a scripted scenario, key for key in the AWS shapes, and the JSON summary of
//! every built-in scenario. A change in behaviour shows up here as a diff to read.

use kinesim::scenario::*;
use kinesim::{Outputs, simulate};

use crate::support::*;

/// A scripted scenario that exercises every kind of on-failure message: a batch that
/// exhausts its retries after bisecting, an invalid partial response, and records cut by
/// age; to an S3 destination, so the messages carry the records too.
fn failures() -> Scenario {
    let mut s = base("golden-failures", 1, secs(400));
    s.producers.push(scripted("p", 6, at(0), ms(250), "hello"));
    s.simulation.mapping_start_delay = secs(2);
    s.mapping.batch_size = 4;
    s.mapping.bisect_on_error = true;
    s.mapping.max_retry_attempts = Some(1);
    s.mapping.max_record_age = Some(secs(60));
    s.mapping.report_batch_item_failures = true;
    s.mapping.on_failure = Some(Destination {
        arn: "arn:aws:s3:::failures".into(),
        kind: DestinationKind::S3,
    });
    s.function.behaviours.push(Behaviour::Poison {
        target: PoisonTarget::PartitionKey("k2".into()),
        effect: Effect::Error,
        times: None,
    });
    s.function.behaviours.push(Behaviour::Poison {
        target: PoisonTarget::PartitionKey("k5".into()),
        effect: Effect::Respond(serde_json::json!({"batchItemFailures": [{"itemIdentifier": ""}]})),
        times: None,
    });
    s
}

#[test]
fn golden_destination_messages_and_events_of_a_scripted_scenario() {
    let (dest, events) = (Captured::default(), Captured::default());
    let out = Outputs {
        destination: Some(Box::new(dest.clone())),
        events: Some(Box::new(events.clone())),
        ..Default::default()
    };
    let sum = simulate(&failures(), None, out).unwrap();
    assert_conservation(&sum);
    insta::assert_snapshot!("destination_messages", dest.text());
    insta::assert_snapshot!("events", events.text());
}

#[test]
fn golden_summaries_of_the_builtin_library() {
    for name in kinesim::scenario::builtin::names() {
        let loaded = kinesim::scenario::load(name).unwrap();
        let summary = simulate(&loaded.base, None, Default::default()).unwrap();
        let json = serde_json::to_string_pretty(&summary.to_json_without_run()).unwrap();
        insta::assert_snapshot!(format!("summary_{name}"), json);
    }
}
