//! Fair delivery in the delivery worker: a webhook that does not answer within the shared
//! lane's budget moves to the slow lane unlogged; later deliveries of it move without a
//! request; the slow lane attempts, logs and retries exactly as the shared one, in its lane.
#![allow(clippy::unwrap_used, reason = "a test fails loudly on purpose")]

use std::time::{Duration, Instant};

use aws_lambda_events::sqs::SqsEvent;
use serde_json::{Value, json};

use super::{
    delivery::{Disposition, deliver, deliver_in, handle_batch},
    delivery_tests::{SLOW_QUEUE_ARN, body, deps, hook, task},
    lanes::Lanes,
};
use crate::test_support::{ID_1, ID_2, ID_3, ID_4, clock, id, webhook};
use apviso_core::{
    domain::{delivery_log::ErrorCode, events::EventType, integration::DeliveryStatus},
    fakes::{Answer, ScriptedSender},
    pipeline::{lanes::Lane, outcome::FailureKind, retry::RetryTransport},
    ports::clock::Clock,
};

const SHARED_QUEUE_ARN: &str = "arn:aws:sqs:us-east-1:123456789012:apviso-deliveries";

fn batch(source_arn: &str, bodies: &[String]) -> SqsEvent {
    let records: Vec<Value> = bodies
        .iter()
        .enumerate()
        .map(|(i, b)| {
            json!({"messageId": format!("m{i}"), "body": b, "eventSourceARN": source_arn,
                             "attributes": {"ApproximateReceiveCount": "1"}})
        })
        .collect();
    serde_json::from_value(json!({ "Records": records })).unwrap()
}

#[tokio::test]
async fn a_webhook_without_an_answer_within_the_budget_moves_to_the_slow_lane_unlogged() {
    let deps = deps([hook()], ScriptedSender::always(Answer::Hang));
    let first = body(&task(EventType::FindingNew, 1));
    assert_eq!(deliver(&deps, &first).await.unwrap(), Disposition::MovedToSlowLane);
    assert_eq!(
        deps.slow_queue.forwarded(),
        std::slice::from_ref(&first),
        "moved unchanged: same attempt, same delivery id"
    );
    assert!(deps.logs.all().is_empty(), "the cut-off attempt is made again in the slow lane, and logged there");
    assert!(deps.queue.delayed().is_empty() && deps.slow_queue.delayed().is_empty(), "no retry was used up");
    assert_eq!(deps.lanes.lane(id(ID_1), clock().now()), Lane::Slow);

    // The next delivery of that integration moves without a request.
    let second = body(&task(EventType::FindingNew, 2));
    assert_eq!(deliver(&deps, &second).await.unwrap(), Disposition::MovedToSlowLane);
    assert_eq!(deps.providers.http.requests().len(), 1, "no second request in the shared lane");
    assert_eq!(deps.slow_queue.forwarded(), [first, second]);
}

#[tokio::test]
async fn the_slow_lane_logs_and_retries_as_the_shared_one_and_keeps_the_retry_in_its_lane() {
    let deps =
        deps([hook()], ScriptedSender::answering([Answer::failure(FailureKind::Timeout, "Timed out after 10 s")]));
    let first = task(EventType::FindingNew, 1);
    let disposition = deliver_in(&deps, Lane::Slow, &body(&first)).await.unwrap();
    assert_eq!(disposition, Disposition::RetryQueued { attempt: 2, transport: RetryTransport::SqsDelay });

    let logs = deps.logs.all();
    assert_eq!(logs.len(), 1);
    assert_eq!(
        (logs[0].attempt, logs[0].status, logs[0].error_code),
        (1, DeliveryStatus::Failed, Some(ErrorCode::Timeout))
    );
    assert!(deps.queue.delayed().is_empty(), "not back to the shared lane while it times out");
    let delayed = deps.slow_queue.delayed();
    assert_eq!(delayed.len(), 1);
    assert_eq!(delayed[0].1, Duration::from_secs(60), "the retry schedule is unchanged: 1 minute");
    assert_eq!((delayed[0].0.task().attempt, delayed[0].0.task().delivery_id), (2, first.delivery_id));
}

#[tokio::test]
async fn an_answer_within_the_budget_in_the_slow_lane_sends_the_next_retry_to_the_shared_lane() {
    let deps = deps([hook()], ScriptedSender::answering([Answer::status(503)]));
    deps.lanes.remember(&hook(), clock().now());
    let disposition = deliver_in(&deps, Lane::Slow, &body(&task(EventType::FindingNew, 1))).await.unwrap();
    assert_eq!(disposition, Disposition::RetryQueued { attempt: 2, transport: RetryTransport::SqsDelay });
    assert_eq!(deps.queue.delayed().len(), 1, "answered quickly: back in the shared lane");
    assert!(deps.slow_queue.delayed().is_empty());
    assert_eq!(deps.lanes.lane(id(ID_1), clock().now()), Lane::Shared);
}

#[tokio::test]
async fn a_shared_batch_moves_known_slow_deliveries_in_one_call_without_reading_them() {
    let deps = deps([hook()], ScriptedSender::answering([]));
    deps.lanes.remember(&hook(), clock().now());
    let bodies: Vec<String> = (1..=3).map(|a| body(&task(EventType::FindingNew, a))).collect();
    let response = handle_batch(&deps, &batch(SHARED_QUEUE_ARN, &bodies)).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(deps.slow_queue.forwarded(), bodies);
    assert!(deps.providers.http.requests().is_empty() && deps.logs.all().is_empty());
}

#[tokio::test]
async fn a_batch_from_the_slow_queue_is_attempted_without_the_budget() {
    let deps = deps([hook()], ScriptedSender::answering([Answer::status(200)]));
    deps.lanes.remember(&hook(), clock().now());
    let response = handle_batch(&deps, &batch(SLOW_QUEUE_ARN, &[body(&task(EventType::FindingNew, 1))])).await;
    assert!(response.batch_item_failures.is_empty());
    assert!(deps.slow_queue.forwarded().is_empty(), "not moved again");
    assert_eq!(deps.logs.all()[0].status, DeliveryStatus::Success);
}

#[tokio::test]
async fn another_integration_sending_to_a_slow_origin_moves_without_paying_the_budget() {
    let other = webhook("acct_a", ID_2, &["finding.new"]);
    let deps = deps([hook(), other.clone()], ScriptedSender::answering([]));
    deps.lanes.remember(&hook(), clock().now());
    let mut next = task(EventType::FindingNew, 1);
    next.integration_id = other.id;
    let message = body(&next);
    assert_eq!(deliver(&deps, &message).await.unwrap(), Disposition::MovedToSlowLane);
    assert!(deps.providers.http.requests().is_empty(), "same origin as a slow integration: no request");
    assert_eq!(deps.slow_queue.forwarded(), [message]);
    assert_eq!(deps.lanes.lane(other.id, clock().now()), Lane::Slow, "remembered itself from now on");
}

#[tokio::test]
async fn another_accounts_integration_on_a_slow_origin_is_left_in_the_shared_lane() {
    let other = webhook("acct_b", ID_2, &["finding.new"]);
    let deps = deps([hook(), other.clone()], ScriptedSender::answering([Answer::status(200)]));
    deps.lanes.remember(&hook(), clock().now());
    let mut next = task(EventType::FindingNew, 1);
    (next.account_id, next.integration_id) = (other.account_id.clone(), other.id);
    assert_eq!(deliver(&deps, &body(&next)).await.unwrap(), Disposition::Delivered);
    assert!(deps.slow_queue.forwarded().is_empty(), "one tenant's slow endpoint never moves another's");
}

/// `n` of acct_a's webhooks, all sending to the same origin, and one delivery for each.
fn same_origin_deliveries(n: usize) -> (Vec<apviso_core::domain::integration::Integration>, Vec<String>) {
    let hooks: Vec<_> = [ID_1, ID_2, ID_3, ID_4][..n].iter().map(|i| webhook("acct_a", i, &["finding.new"])).collect();
    let bodies = hooks
        .iter()
        .map(|h| {
            let mut t = task(EventType::FindingNew, 1);
            t.integration_id = h.id;
            body(&t)
        })
        .collect();
    (hooks, bodies)
}

#[tokio::test]
async fn a_crowd_of_unanswered_attempts_to_one_origin_is_cut_before_the_budget_and_moved_in_one_call() {
    let (hooks, mut bodies) = same_origin_deliveries(4);
    let sibling_body = bodies.pop().unwrap();
    let mut deps = deps(hooks, ScriptedSender::always(Answer::Hang));
    let budget = Duration::from_secs(3);
    deps.lanes = Lanes::new(SLOW_QUEUE_ARN, budget, Duration::from_secs(900));
    let started = Instant::now();
    let response = handle_batch(&deps, &batch(SHARED_QUEUE_ARN, &bodies)).await;
    let took = started.elapsed();
    assert!(response.batch_item_failures.is_empty());
    assert!(took < budget, "three attempts waiting on one origin are cut at half the budget, took {took:?}");
    assert_eq!(deps.providers.http.requests().len(), 3);
    let mut moved = deps.slow_queue.forwarded();
    moved.sort();
    let mut expected = bodies.clone();
    expected.sort();
    assert_eq!(moved, expected, "every cut-off delivery moved unchanged");
    assert_eq!(deps.slow_queue.forward_calls(), 1, "the batch moves its records together");
    assert!(deps.logs.all().is_empty());

    // The account's fourth integration on that origin was never read nor attempted: it is
    // known by id (one Query listed the account), so its deliveries move unread.
    assert_eq!(deps.store.lists(), 1, "the origin was found slow once");
    assert_eq!(deps.lanes.lane(id(ID_4), clock().now()), Lane::Slow);
    let response = handle_batch(&deps, &batch(SHARED_QUEUE_ARN, std::slice::from_ref(&sibling_body))).await;
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(deps.providers.http.requests().len(), 3, "no request for the fourth");
    assert!(deps.slow_queue.forwarded().contains(&sibling_body));
}

#[tokio::test]
async fn two_unanswered_attempts_to_one_origin_wait_for_the_budget() {
    let (hooks, bodies) = same_origin_deliveries(2);
    let mut deps = deps(hooks, ScriptedSender::always(Answer::Hang));
    let budget = Duration::from_millis(600);
    deps.lanes = Lanes::new(SLOW_QUEUE_ARN, budget, Duration::from_secs(900));
    let started = Instant::now();
    let response = handle_batch(&deps, &batch(SHARED_QUEUE_ARN, &bodies)).await;
    assert!(response.batch_item_failures.is_empty());
    assert!(started.elapsed() >= budget, "two slow answers are not a crowd: each gets the whole budget");
    assert_eq!(deps.slow_queue.forwarded().len(), 2);
}
