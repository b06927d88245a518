//! `template.yaml` held to the code for what each function may read and do: environment
//! variables against the typed configuration, per-function IAM against what the code calls, and
//! that every sample event is used by a test (alarms, outputs and samconfig: `template_operations`).

use std::{
    cell::RefCell,
    collections::{BTreeMap, BTreeSet},
};

use apviso_infra::{
    queues::QueuePair,
    stack::Provisioned,
    wiring::{self, DEFAULT_PREFIX},
};
use apviso_service::config::{Config, Tables};
use serde_yaml_ng::Value;

use crate::common::template::*;

/// The variable names `Config::from_lookup` asks for, with every required one answered.
fn names_the_config_reads() -> BTreeSet<String> {
    let asked = RefCell::new(BTreeSet::new());
    let config = Config::from_lookup(|name| {
        asked.borrow_mut().insert(name.to_owned());
        match name {
            n if n.ends_with("_URL") => Some(format!("http://127.0.0.1:1/123456789012/{n}")),
            n if n.ends_with("_ARN") => Some("arn:aws:sqs:us-east-1:123456789012:q".to_owned()),
            n if n.ends_with("_BUCKET") => Some("apviso-payloads".to_owned()),
            _ => None,
        }
    });
    config.unwrap_or_else(|e| panic!("{e}: answer it in names_the_config_reads"));
    asked.into_inner()
}

#[test]
fn the_wiring_names_every_variable_the_config_reads() {
    let mut wired: BTreeSet<String> = wiring::env_vars().into_iter().map(str::to_owned).collect();
    assert_eq!(wired.len(), wiring::env_vars().len(), "no variable twice");
    wired.extend(wiring::LOCAL_ONLY_VARS.map(str::to_owned));
    assert_eq!(names_the_config_reads(), wired, "Config::from_env reads vs wiring::env_vars() + LOCAL_ONLY_VARS");
}

#[test]
fn the_local_stack_sets_the_same_resource_variables() {
    let pair = |name: &str| QueuePair {
        url: format!("http://127.0.0.1:1/123456789012/{name}"),
        arn: format!("arn:aws:sqs:us-east-1:123456789012:{name}"),
        dlq_url: format!("http://127.0.0.1:1/123456789012/{name}-dlq"),
    };
    let stack = Provisioned {
        tables: Tables::default(),
        events: pair("apviso-events"),
        deliveries: pair("apviso-deliveries"),
        slow_deliveries: pair("apviso-deliveries-slow"),
        schedule_group: "apviso-retries".into(),
        payload_bucket: "apviso-payloads".into(),
        secrets_key_arn: "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000".into(),
        event_bus: "apviso-operational".into(),
    };
    let local: BTreeSet<&str> = stack.env().into_iter().map(|(name, _)| name).collect();
    let settings: BTreeSet<&str> = wiring::SETTINGS.iter().map(|(name, _)| *name).collect();
    let resources: BTreeSet<&str> = wiring::env_vars().into_iter().filter(|v| !settings.contains(v)).collect();
    assert_eq!(local, resources, "Provisioned::env() vs the wired resource variables");
}

#[test]
fn every_function_gets_every_variable_naming_the_right_resource() {
    let t = Template::load();
    let deliveries = t.queue(&wiring::DELIVERIES_QUEUE.name(DEFAULT_PREFIX));
    let group = t.of_type("AWS::Scheduler::ScheduleGroup")[0].0.to_owned();
    let role = scheduler_role(&t);
    // What each variable's value must be: a reference to the resource it names.
    let mut expected: BTreeMap<&str, (&str, String)> = BTreeMap::new();
    for w in wiring::TABLES {
        expected.insert(w.var, ("Ref", t.table(&w.name(DEFAULT_PREFIX))));
    }
    expected.insert(wiring::DELIVERIES_QUEUE_URL_VAR, ("Ref", deliveries.clone()));
    expected.insert(wiring::DELIVERIES_QUEUE_ARN_VAR, ("GetAtt", format!("{deliveries}.Arn")));
    let slow = t.queue(&wiring::SLOW_DELIVERIES_QUEUE.name(DEFAULT_PREFIX));
    expected.insert(wiring::SLOW_DELIVERIES_QUEUE_URL_VAR, ("Ref", slow.clone()));
    expected.insert(wiring::SLOW_DELIVERIES_QUEUE_ARN_VAR, ("GetAtt", format!("{slow}.Arn")));
    for q in wiring::QUEUES {
        if let Some(var) = q.dlq_url_var {
            expected.insert(var, ("Ref", t.queue(&q.dlq_name(DEFAULT_PREFIX))));
        }
    }
    expected.insert(wiring::SCHEDULE_GROUP_VAR, ("Ref", group));
    expected.insert(wiring::SCHEDULER_ROLE_ARN_VAR, ("GetAtt", format!("{role}.Arn")));
    expected.insert(wiring::PAYLOAD_BUCKET_VAR, ("Ref", payload_bucket(&t)));
    expected.insert(wiring::SECRETS_KEY_ARN_VAR, ("GetAtt", format!("{}.Arn", secrets_key(&t))));
    expected.insert(wiring::EVENT_BUS_NAME_VAR, ("Ref", event_bus(&t)));
    for (var, _) in wiring::SETTINGS {
        expected.insert(var, ("Ref", setting_parameter(&t, var)));
    }
    assert_eq!(expected.keys().copied().collect::<Vec<_>>().len(), wiring::env_vars().len());

    for (name, id) in t.functions() {
        let env = t.env(&id);
        for var in wiring::LOCAL_ONLY_VARS {
            assert!(!env.contains_key(var), "{name}: {var} must never be set in AWS");
        }
        let names: BTreeSet<&str> = env.keys().map(String::as_str).collect();
        assert_eq!(names, expected.keys().copied().collect(), "{name}: environment variables");
        for (var, (kind, target)) in &expected {
            let value = &env[*var];
            let actual = match *kind {
                "Ref" => ref_of(value).map(str::to_owned),
                _ => getatt_of(value).map(|(a, b)| format!("{a}.{b}")),
            };
            assert_eq!(actual.as_ref(), Some(target), "{name}: {var} = {value:?}");
        }
    }
}

/// The template's one bucket: claim-checked event data.
fn payload_bucket(t: &Template) -> String {
    let buckets = t.of_type("AWS::S3::Bucket");
    assert_eq!(buckets.len(), 1, "one bucket");
    buckets[0].0.to_owned()
}

/// The template's one KMS key: it seals integration secrets, rotates, and outlives the stack.
fn secrets_key(t: &Template) -> String {
    let keys = t.of_type("AWS::KMS::Key");
    assert_eq!(keys.len(), 1, "one KMS key");
    let (id, key) = keys[0];
    assert_eq!(key["Properties"]["EnableKeyRotation"].as_bool(), Some(true), "{id}: key rotation");
    assert_eq!(key["DeletionPolicy"].as_str(), Some("Retain"), "{id}: secrets stay readable");
    id.to_owned()
}

/// The template's one event bus: the operational events.
fn event_bus(t: &Template) -> String {
    let buses = t.of_type("AWS::Events::EventBus");
    assert_eq!(buses.len(), 1, "one event bus");
    buses[0].0.to_owned()
}

/// The parameter a setting variable is bound to; its default must be the code's default.
fn setting_parameter(t: &Template, var: &str) -> String {
    let value = &t.doc["Globals"]["Function"]["Environment"]["Variables"][var];
    let param = ref_of(value).unwrap_or_else(|| panic!("{var}: !Ref a parameter"));
    let code_default = wiring::SETTINGS.iter().find(|(v, _)| *v == var).unwrap().1;
    assert_eq!(t.param(param), code_default, "default of parameter {param} ({var})");
    param.to_owned()
}

// ------------------------------------------------------------------ IAM

/// Least privilege, per function: exactly these actions on exactly these resources, derived
/// from what each handler calls (service/src/store, service/src/queue).
fn expected_access(t: &Template) -> BTreeMap<&'static str, BTreeSet<(String, String)>> {
    let table = |suffix: &str| format!("table:{}", t.table(&format!("{DEFAULT_PREFIX}{suffix}")));
    let queue = |name: String| format!("queue:{}", t.queue(&name));
    let (integrations, keys, logs) = (table("integrations"), table("api-keys"), table("delivery-logs"));
    let digests = table("digests");
    // Secrets at rest: writers may only seal, senders may only open.
    let secrets_key = format!("key:{}", secrets_key(t));
    let ses = "ses-identities";
    let deliveries = queue(wiring::DELIVERIES_QUEUE.name(DEFAULT_PREFIX));
    let deliveries_dlq = queue(wiring::DELIVERIES_QUEUE.dlq_name(DEFAULT_PREFIX));
    let slow_deliveries = queue(wiring::SLOW_DELIVERIES_QUEUE.name(DEFAULT_PREFIX));
    let events = queue(wiring::EVENTS_QUEUE.name(DEFAULT_PREFIX));
    let events_dlq = queue(wiring::EVENTS_QUEUE.dlq_name(DEFAULT_PREFIX));
    let group = t.of_type("AWS::Scheduler::ScheduleGroup")[0].0.to_owned();
    let poll = |q: &str| {
        ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"].map(|a| (a.to_owned(), q.to_owned()))
    };
    let g = |pairs: &[(&str, &str)]| -> BTreeSet<(String, String)> {
        pairs.iter().map(|(a, r)| ((*a).to_owned(), (*r).to_owned())).collect()
    };
    let bucket = payload_bucket(t);
    let (stored_events, stored_dead_letters) =
        (format!("objects:{bucket}/events/*"), format!("objects:{bucket}/dead-letters/*"));
    let mut fanout = g(&[
        ("dynamodb:Query", &integrations),
        ("dynamodb:PutItem", &logs),
        ("sqs:SendMessage", &deliveries),
        ("sqs:SendMessage", &events_dlq),
        ("s3:PutObject", &stored_events),
        ("s3:PutObject", &stored_dead_letters),
    ]);
    fanout.extend(poll(&events));
    let mut delivery = g(&[
        ("dynamodb:BatchGetItem", &integrations),
        ("dynamodb:GetItem", &integrations),
        ("dynamodb:UpdateItem", &integrations),
        ("dynamodb:BatchWriteItem", &logs),
        ("dynamodb:PutItem", &logs),
        ("kms:Decrypt", &secrets_key),
        ("dynamodb:UpdateItem", &logs),
        ("dynamodb:PutItem", &digests),
        ("dynamodb:Query", &digests),
        ("dynamodb:BatchWriteItem", &digests),
        ("dynamodb:UpdateItem", &digests),
        ("ses:SendEmail", ses),
        ("sqs:SendMessage", &deliveries),
        ("sqs:SendMessage", &slow_deliveries),
        ("sqs:SendMessage", &deliveries_dlq),
        ("dynamodb:Query", &integrations),
        ("events:PutEvents", &format!("bus:{}", event_bus(t))),
        ("s3:GetObject", &stored_events),
        ("s3:PutObject", &stored_dead_letters),
        ("scheduler:CreateSchedule", &format!("schedules:{group}")),
        ("iam:PassRole", &format!("role:{}", scheduler_role(t))),
    ]);
    delivery.extend(poll(&deliveries));
    delivery.extend(poll(&slow_deliveries));
    BTreeMap::from([
        ("authorizer", g(&[("dynamodb:GetItem", &keys)])),
        ("api-openapi", g(&[])),
        ("api-list-providers", g(&[])),
        ("api-fallback", g(&[])),
        ("api-list-integrations", g(&[("dynamodb:Query", &integrations)])),
        (
            "api-create-integration",
            g(&[
                ("dynamodb:GetItem", &integrations),
                ("dynamodb:PutItem", &integrations),
                ("dynamodb:Query", &integrations),
                ("dynamodb:UpdateItem", &integrations),
                ("kms:GenerateDataKey", &secrets_key),
                ("sqs:SendMessage", &deliveries),
            ]),
        ),
        ("api-get-integration", g(&[("dynamodb:GetItem", &integrations)])),
        (
            "api-update-integration",
            g(&[
                ("dynamodb:GetItem", &integrations),
                ("dynamodb:UpdateItem", &integrations),
                ("dynamodb:Query", &integrations),
                ("kms:GenerateDataKey", &secrets_key),
                ("sqs:SendMessage", &deliveries),
            ]),
        ),
        (
            "api-delete-integration",
            g(&[
                ("dynamodb:DeleteItem", &integrations),
                ("dynamodb:GetItem", &integrations),
                ("dynamodb:PutItem", &integrations),
                ("dynamodb:Query", &integrations),
                ("dynamodb:UpdateItem", &integrations),
            ]),
        ),
        (
            "api-test-integration",
            g(&[
                ("dynamodb:GetItem", &integrations),
                ("dynamodb:UpdateItem", &integrations),
                ("dynamodb:PutItem", &logs),
                ("dynamodb:UpdateItem", &logs),
                ("dynamodb:UpdateItem", &digests),
                ("kms:Decrypt", &secrets_key),
                ("ses:SendEmail", ses),
            ]),
        ),
        (
            "api-rotate-secret",
            g(&[
                ("dynamodb:GetItem", &integrations),
                ("dynamodb:UpdateItem", &integrations),
                ("kms:Decrypt", &secrets_key),
                ("kms:GenerateDataKey", &secrets_key),
                ("sqs:SendMessage", &deliveries),
            ]),
        ),
        ("api-list-delivery-logs", g(&[("dynamodb:GetItem", &integrations), ("dynamodb:Query", &logs)])),
        (
            "api-get-delivery-log",
            g(&[("dynamodb:GetItem", &integrations), ("dynamodb:Query", &logs), ("dynamodb:GetItem", &logs)]),
        ),
        (
            "api-redeliver-delivery-log",
            g(&[
                ("dynamodb:GetItem", &integrations),
                ("dynamodb:GetItem", &logs),
                ("dynamodb:UpdateItem", &logs),
                ("sqs:SendMessage", &deliveries),
            ]),
        ),
        (
            "api-recover-deliveries",
            g(&[
                ("dynamodb:GetItem", &integrations),
                ("dynamodb:Query", &logs),
                ("dynamodb:GetItem", &logs),
                ("dynamodb:UpdateItem", &logs),
                ("sqs:SendMessage", &deliveries),
            ]),
        ),
        ("fanout", fanout),
        ("delivery", delivery),
    ])
}

#[test]
fn each_function_gets_only_the_access_it_uses() {
    let t = Template::load();
    let expected = expected_access(&t);
    let functions = t.functions();
    assert_eq!(functions.keys().map(String::as_str).collect::<BTreeSet<_>>(), expected.keys().copied().collect());
    for (name, id) in &functions {
        let mut granted = BTreeSet::new();
        for policy in t.props(id).get("Policies").and_then(Value::as_sequence).into_iter().flatten() {
            assert!(
                policy.get("Statement").is_some(),
                "{name}: inline statements only (a SAM policy template or managed policy grants more)"
            );
            for s in statements(policy) {
                assert!(
                    s.get("Condition").is_none() || string_list(s.get("Action")) == ["iam:PassRole"],
                    "{name}: conditions only on iam:PassRole"
                );
                for grant in grants_of(&t, &s) {
                    assert!(granted.insert(grant.clone()), "{name}: {grant:?} granted twice");
                }
            }
        }
        assert!(t.props(id).get("Role").is_none(), "{name}: SAM builds the role from Policies");
        assert_eq!(granted, expected[name.as_str()], "{name}: IAM grants");
    }
    // Passing the Scheduler role only to Scheduler.
    let delivery = t.props(&t.function_id("delivery"));
    let pass = statements(&delivery["Policies"][0])
        .into_iter()
        .find(|s| string_list(s.get("Action")) == ["iam:PassRole"])
        .unwrap();
    assert_eq!(pass["Condition"]["StringEquals"]["iam:PassedToService"].as_str(), Some("scheduler.amazonaws.com"));
}

// ------------------------------------------------------------------ alarms and outputs

// ------------------------------------------------------------------ sample events

#[test]
fn every_sample_event_is_exercised_by_a_test() {
    let mut sources = String::new();
    let dir = root().join("tests/tests");
    let mut stack = vec![dir];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("template_access.rs") {
                sources.push_str(&std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    let mut checked = 0;
    for entry in std::fs::read_dir(root().join("events")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(sources.contains(&name), "events/{name} is not used by any test in tests/tests");
        checked += 1;
    }
    assert!(checked > 0);
}
