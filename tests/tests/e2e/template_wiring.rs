//! `template.yaml` held to the local stack's wiring (`apviso_infra::wiring`, the route table and
//! the table key design): functions, routes, the authorizer, queues and consumers, the
//! scheduler and tables. Needs no AWS and no emulator. Variables, IAM and the rest are checked
//! in `template_access.rs`.

use std::collections::{BTreeMap, BTreeSet};

use apviso_core::pipeline::retry::parse_duration;
use apviso_infra::{
    queues::MAX_RECEIVE_COUNT,
    tables::{table_specs, ttl_attributes},
    wiring::{self, DEFAULT_PREFIX},
};
use apviso_service::{config::Tables, store::schema::TableKeys};
use serde_yaml_ng::Value;

use crate::common::template::*;

#[test]
fn functions_are_the_wired_ones_built_by_cargo_lambda_for_al2023_arm64() {
    let t = Template::load();
    let names: BTreeSet<String> = t.functions().into_keys().collect();
    let wired: BTreeSet<String> = wiring::functions().into_iter().map(str::to_owned).collect();
    assert_eq!(names, wired, "template functions vs wiring::functions()");
    for (name, id) in t.functions() {
        let r = t.resource(&id);
        assert_eq!(r["Metadata"]["BuildMethod"].as_str(), Some("rust-cargolambda"), "{name}");
        assert_eq!(t.binary(&id), wiring::binary_of(&name), "{name}: binary");
        assert_eq!(t.function_setting(&id, "Runtime").and_then(Value::as_str), Some("provided.al2023"), "{name}");
        assert_eq!(t.function_setting(&id, "Handler").and_then(Value::as_str), Some("bootstrap"), "{name}");
        assert_eq!(string_list(t.function_setting(&id, "Architectures")), ["arm64"], "{name}");
        let memory = number(t.function_setting(&id, "MemorySize"), &format!("{name} MemorySize"));
        assert!((128..=10_240).contains(&memory), "{name} memory {memory}");
        assert!((1..=900).contains(&t.timeout(&id)), "{name} timeout");
    }
}

/// `sam build` builds a binary once for all the functions that run it only when their build
/// settings are identical (same CodeUri and Metadata).
#[test]
fn functions_sharing_a_binary_share_their_build() {
    let t = Template::load();
    let mut builds: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for id in t.functions().into_values() {
        let r = t.resource(&id);
        let code = t.function_setting(&id, "CodeUri").map(|c| format!("{c:?}")).unwrap_or_default();
        builds.entry(t.binary(&id)).or_default().insert(format!("{code} {:?}", r["Metadata"]));
    }
    for (binary, variants) in &builds {
        assert_eq!(variants.len(), 1, "functions running {binary} are built differently: {variants:?}");
    }
    let binaries: Vec<&str> = builds.keys().map(String::as_str).collect();
    assert_eq!(binaries, wiring::binaries());
}

#[test]
fn every_binary_is_a_workspace_crate_of_the_same_name() {
    let binaries = wiring::binaries();
    for binary in &binaries {
        let dir = root().join("functions").join(binary);
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml"))
            .unwrap_or_else(|e| panic!("functions/{binary}/Cargo.toml: {e}"));
        let name = manifest.lines().find_map(|l| l.trim().strip_prefix("name = ")).map(|n| n.trim_matches('"'));
        assert_eq!(name, Some(*binary), "package name of functions/{binary}");
        assert!(dir.join("src/main.rs").is_file(), "functions/{binary}/src/main.rs");
    }
    for entry in std::fs::read_dir(root().join("functions")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(binaries.contains(&name.as_str()), "functions/{name} is not deployed by template.yaml");
    }
}

// ------------------------------------------------------------------ HTTP API

#[test]
fn routes_reach_the_same_handlers_through_the_same_authorizer() {
    let t = Template::load();
    let api = t.http_api();
    let default_authorizer = t.props(&api)["Auth"]["DefaultAuthorizer"].as_str().map(str::to_owned);
    let mut found: BTreeMap<String, (String, bool)> = BTreeMap::new();
    for (function, id) in t.functions() {
        let Some(events) = t.props(&id).get("Events").and_then(Value::as_mapping) else { continue };
        for (name, event) in events {
            let p = &event["Properties"];
            match event["Type"].as_str() {
                Some("HttpApi") => {}
                Some("SQS") => panic!(
                    "{function}: SAM's SQS event grants AWSLambdaSQSQueueExecutionRole on every queue; use an AWS::Lambda::EventSourceMapping"
                ),
                other => panic!("{function} event {name:?}: unexpected type {other:?}"),
            }
            assert_eq!(p.get("ApiId").and_then(ref_of), Some(api.as_str()), "{function}: route on the one HTTP API");
            assert_eq!(p["PayloadFormatVersion"].as_str(), Some("2.0"), "{function}: payload format 2.0");
            let key = match (p.get("Method").and_then(Value::as_str), p.get("Path").and_then(Value::as_str)) {
                (Some(method), Some(path)) => format!("{} {path}", method.to_uppercase()),
                (None, None) => wiring::DEFAULT_ROUTE.to_owned(),
                _ => panic!("{function}: give both Method and Path, or neither for $default"),
            };
            let authorized = match p.get("Auth").and_then(|a| a.get("Authorizer")).and_then(Value::as_str) {
                Some("NONE") => false,
                Some(other) => panic!("{function}: unknown authorizer {other}"),
                None => default_authorizer.is_some(),
            };
            let previous = found.insert(key.clone(), (function.clone(), authorized));
            assert!(previous.is_none(), "route {key} defined twice");
        }
    }
    let expected: BTreeMap<String, (String, bool)> =
        wiring::routes().into_iter().map(|r| (r.route_key, (r.function.to_owned(), r.authorized))).collect();
    assert_eq!(found, expected, "template routes (route key -> (function, authorized)) vs the route table");
}

#[test]
fn the_authorizer_is_the_cached_api_key_request_authorizer() {
    let t = Template::load();
    let api = t.props(&t.http_api());
    let auth = &api["Auth"];
    let name = auth["DefaultAuthorizer"].as_str().expect("a default authorizer");
    let authorizers = auth["Authorizers"].as_mapping().unwrap();
    assert_eq!(authorizers.len(), 1, "one authorizer");
    let a = &auth["Authorizers"][name];
    let function = t.function_id(wiring::AUTHORIZER_FUNCTION);
    assert_eq!(getatt_of(&a["FunctionArn"]), Some((function, "Arn".into())));
    assert_eq!(a["AuthorizerPayloadFormatVersion"].as_str(), Some("2.0"));
    assert!(is_true(a.get("EnableSimpleResponses")), "simple responses");
    assert!(is_true(a.get("EnableFunctionDefaultPermissions")), "API Gateway may invoke the authorizer");
    assert_eq!(string_list(a["Identity"].get("Headers")), [wiring::API_KEY_HEADER]);
    let ttl = number(a["Identity"].get("ReauthorizeEvery"), "ReauthorizeEvery");
    assert!((1..=3600).contains(&ttl), "results cached, at most an hour: {ttl}");
    for limit in ["ThrottlingBurstLimit", "ThrottlingRateLimit"] {
        assert!(api["DefaultRouteSettings"].get(limit).is_some(), "throttling default {limit}");
    }
}

// ------------------------------------------------------------------ queues and consumers

#[test]
fn the_same_queues_feed_the_same_consumers() {
    let t = Template::load();
    assert_eq!(t.param("ResourcePrefix"), DEFAULT_PREFIX);
    let all: BTreeSet<String> =
        t.of_type("AWS::SQS::Queue").iter().map(|(_, r)| t.resolve(&r["Properties"]["QueueName"]).unwrap()).collect();
    let wired: BTreeSet<String> =
        wiring::QUEUES.iter().flat_map(|q| [q.name(DEFAULT_PREFIX), q.dlq_name(DEFAULT_PREFIX)]).collect();
    assert_eq!(all, wired, "queue names");

    let mappings = t.of_type("AWS::Lambda::EventSourceMapping");
    assert_eq!(mappings.len(), wiring::QUEUES.len(), "one event source mapping per work queue");
    for q in wiring::QUEUES {
        let (queue, dlq) = (t.queue(&q.name(DEFAULT_PREFIX)), t.queue(&q.dlq_name(DEFAULT_PREFIX)));
        let props = t.props(&queue);
        let redrive = &props["RedrivePolicy"];
        assert_eq!(getatt_of(&redrive["deadLetterTargetArn"]), Some((dlq.clone(), "Arn".into())), "{queue} redrive");
        let receives = number(redrive.get("maxReceiveCount"), "maxReceiveCount");
        assert_eq!(receives, u64::from(MAX_RECEIVE_COUNT), "{queue}: maxReceiveCount as in the local stack");
        assert!(t.props(&dlq).get("RedrivePolicy").is_none(), "{dlq} is a last stop");

        let feeding: Vec<&Value> = mappings
            .iter()
            .map(|(_, m)| &m["Properties"])
            .filter(|m| getatt_of(&m["EventSourceArn"]) == Some((queue.clone(), "Arn".into())))
            .collect();
        assert_eq!(feeding.len(), 1, "{queue} feeds exactly one function");
        let m = feeding[0];
        let function = ref_of(&m["FunctionName"]).expect("FunctionName: !Ref <function>");
        assert_eq!(t.function_name_of(function), q.consumer, "consumer of {queue}");
        assert_eq!(string_list(m.get("FunctionResponseTypes")), ["ReportBatchItemFailures"], "{queue}");
        assert!((1..=10).contains(&number(m.get("BatchSize"), "BatchSize")), "{queue} batch size");
        assert!(number(m["ScalingConfig"].get("MaximumConcurrency"), "MaximumConcurrency") >= 2, "{queue}");

        let window = m.get("MaximumBatchingWindowInSeconds").and_then(Value::as_u64).unwrap_or(0);
        let visibility = number(props.get("VisibilityTimeout"), "VisibilityTimeout");
        let timeout = t.timeout(function);
        assert!(
            visibility >= 6 * timeout + window,
            "{queue}: visibility {visibility} s < 6 x {timeout} s + {window} s"
        );
    }
}

/// The local runner polls each queue as Lambda would (`apviso_infra::scaling`): the same batch
/// size and as many consumers at once as the mapping's maximum concurrency.
#[test]
fn the_local_runner_scales_consumers_as_the_template_does() {
    let t = Template::load();
    for mapping in apviso_infra::scaling::ALL {
        let props = t.props(mapping.resource);
        let batch = number(props.get("BatchSize"), "BatchSize");
        let concurrency = number(props["ScalingConfig"].get("MaximumConcurrency"), "MaximumConcurrency");
        assert_eq!(batch, u64::try_from(mapping.batch_size).unwrap(), "{}: BatchSize", mapping.resource);
        assert_eq!(
            concurrency,
            u64::try_from(mapping.max_concurrency).unwrap(),
            "{}: MaximumConcurrency",
            mapping.resource
        );
    }
    let mappings = t.of_type("AWS::Lambda::EventSourceMapping");
    assert_eq!(mappings.len(), apviso_infra::scaling::ALL.len(), "every mapping has its local settings");
}

#[test]
fn functions_that_deliver_outlive_one_delivery_attempt() {
    let t = Template::load();
    let attempt = parse_duration(t.param("DeliveryTimeout")).unwrap().as_secs();
    for name in [wiring::DELIVERIES_QUEUE.consumer, "api-test-integration"] {
        let timeout = t.timeout(&t.function_id(name));
        assert!(timeout >= 2 * attempt, "{name}: timeout {timeout} s vs a {attempt} s delivery attempt");
    }
}

#[test]
fn the_scheduler_role_can_only_send_to_the_deliveries_queue() {
    let t = Template::load();
    let groups = t.of_type("AWS::Scheduler::ScheduleGroup");
    assert_eq!(groups.len(), 1);
    let group_name = t.resolve(&groups[0].1["Properties"]["Name"]).unwrap();
    assert_eq!(group_name, format!("{DEFAULT_PREFIX}{}", wiring::SCHEDULE_GROUP_SUFFIX));

    let role = scheduler_role(&t);
    let trust = &t.props(&role)["AssumeRolePolicyDocument"]["Statement"];
    assert_eq!(trust.as_sequence().unwrap().len(), 1);
    assert_eq!(trust[0]["Principal"]["Service"].as_str(), Some("scheduler.amazonaws.com"));
    let deliveries = t.queue(&wiring::DELIVERIES_QUEUE.name(DEFAULT_PREFIX));
    let grants: Vec<(String, String)> = t.props(&role)["Policies"]
        .as_sequence()
        .unwrap()
        .iter()
        .flat_map(|p| statements(&p["PolicyDocument"]))
        .flat_map(|s| grants_of(&t, &s))
        .collect();
    assert_eq!(grants, [("sqs:SendMessage".to_owned(), format!("queue:{deliveries}"))]);
}

// ------------------------------------------------------------------ tables

#[test]
fn tables_have_the_local_names_and_key_schemas() {
    let t = Template::load();
    assert_eq!(t.of_type("AWS::DynamoDB::Table").len(), wiring::TABLES.len(), "no other tables");
    let local = Tables::default();
    for w in wiring::TABLES {
        let name = w.name(DEFAULT_PREFIX);
        assert_eq!(w.name_in(&local), name, "the code's default name of {}", w.var);
        let p = t.props(&t.table(&name));
        assert_eq!(key_schema(p), keys_of(w.keys), "{name} key schema");
        assert_eq!(p["BillingMode"].as_str(), Some("PAY_PER_REQUEST"), "{name} on-demand");
        assert!(is_true(p["PointInTimeRecoverySpecification"].get("PointInTimeRecoveryEnabled")), "{name} PITR");
        assert!(p.get("DeletionProtectionEnabled").is_some(), "{name} deletion protection");
        let ttl = p.get("TimeToLiveSpecification").map(|s| {
            assert!(is_true(s.get("Enabled")), "{name} TTL enabled");
            s["AttributeName"].as_str().unwrap()
        });
        assert_eq!(ttl, w.ttl, "{name} TTL attribute");
    }
    // What the local stack creates must be what the template declares.
    for (name, keys) in table_specs(&local) {
        assert_eq!(key_schema(t.props(&t.table(&name))), keys_of(keys), "local table {name}");
    }
    for (name, attr) in ttl_attributes(&local) {
        let spec = &t.props(&t.table(&name))["TimeToLiveSpecification"];
        assert_eq!(spec["AttributeName"].as_str(), Some(attr), "local TTL of {name}");
    }
}

/// `(partition, sort)` key attribute names; every key attribute a string.
fn key_schema(p: &Value) -> (String, Option<String>) {
    let definitions = p["AttributeDefinitions"].as_sequence().unwrap();
    let mut partition = None;
    let mut sort = None;
    for element in p["KeySchema"].as_sequence().unwrap() {
        let name = element["AttributeName"].as_str().unwrap().to_owned();
        let definition = definitions.iter().find(|d| d["AttributeName"].as_str() == Some(&name));
        assert_eq!(definition.and_then(|d| d["AttributeType"].as_str()), Some("S"), "key attribute {name} is a string");
        match element["KeyType"].as_str() {
            Some("HASH") => partition = Some(name),
            Some("RANGE") => sort = Some(name),
            other => panic!("key type {other:?}"),
        }
    }
    assert_eq!(definitions.len(), 1 + usize::from(sort.is_some()), "only key attributes are defined");
    (partition.expect("a partition key"), sort)
}

fn keys_of(keys: TableKeys) -> (String, Option<String>) {
    (keys.partition.to_owned(), keys.sort.map(str::to_owned))
}

// ------------------------------------------------------------------ environment
