//! `template.yaml` held to the local stack's wiring (`apviso_infra::wiring`, the route table, the
//! typed configuration and the table key design): any difference in routes, handlers, the
//! authorizer, queues, consumers, tables, environment variables or IAM actions fails here. Needs
//! no AWS and no emulator.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::{
    cell::RefCell,
    collections::{BTreeMap, BTreeSet},
    path::PathBuf,
};

use apviso_infra::{
    queues::{MAX_RECEIVE_COUNT, QueuePair},
    stack::Provisioned,
    tables::{table_specs, ttl_attributes},
    wiring::{self, DEFAULT_PREFIX},
};
use apviso_shared::{
    config::{Config, Tables},
    pipeline::retry::parse_duration,
    store::schema::TableKeys,
};
use serde_yaml_ng::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

// ------------------------------------------------------------------ reading the template

/// `!Name value` or its long form `{"Fn::Name": value}` (`{"Ref": value}`).
fn intrinsic<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    match v {
        Value::Tagged(t) if t.tag == name => Some(&t.value),
        Value::Mapping(m) if m.len() == 1 => {
            let long = if name == "Ref" { "Ref".to_owned() } else { format!("Fn::{name}") };
            m.get(long.as_str())
        }
        _ => None,
    }
}

fn ref_of(v: &Value) -> Option<&str> {
    intrinsic(v, "Ref")?.as_str()
}

/// `(logical id, attribute)` of a `!GetAtt`.
fn getatt_of(v: &Value) -> Option<(String, String)> {
    match intrinsic(v, "GetAtt")? {
        Value::String(s) => s.split_once('.').map(|(a, b)| (a.to_owned(), b.to_owned())),
        Value::Sequence(seq) if seq.len() == 2 => Some((seq[0].as_str()?.to_owned(), seq[1].as_str()?.to_owned())),
        _ => None,
    }
}

fn string_list(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Sequence(seq)) => seq.iter().map(|s| s.as_str().expect("a list of strings").to_owned()).collect(),
        _ => Vec::new(),
    }
}

fn number(v: Option<&Value>, what: &str) -> u64 {
    v.and_then(Value::as_u64).unwrap_or_else(|| panic!("{what} must be a whole number, got {v:?}"))
}

struct Template {
    doc: Value,
    /// Parameter defaults, the values a plain `sam deploy` uses.
    params: BTreeMap<String, String>,
}

impl Template {
    fn load() -> Self {
        let text = std::fs::read_to_string(root().join("template.yaml")).unwrap();
        let doc: Value = serde_yaml_ng::from_str(&text).unwrap();
        let mut params = BTreeMap::new();
        for (name, spec) in doc["Parameters"].as_mapping().unwrap() {
            let default = match spec.get("Default") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                other => panic!("parameter {name:?} needs a default (a plain deploy must work), got {other:?}"),
            };
            params.insert(name.as_str().unwrap().to_owned(), default);
        }
        Self { doc, params }
    }

    fn resources(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.doc["Resources"].as_mapping().unwrap().iter().map(|(k, v)| (k.as_str().unwrap(), v))
    }

    fn of_type(&self, ty: &str) -> Vec<(&str, &Value)> {
        self.resources().filter(|(_, r)| r["Type"].as_str() == Some(ty)).collect()
    }

    fn resource(&self, id: &str) -> &Value {
        self.doc["Resources"].get(id).unwrap_or_else(|| panic!("no resource {id}"))
    }

    fn props(&self, id: &str) -> &Value {
        &self.resource(id)["Properties"]
    }

    fn param(&self, name: &str) -> &str {
        self.params.get(name).unwrap_or_else(|| panic!("no parameter {name}"))
    }

    /// A string as deployed with the parameter defaults: plain, `!Ref Param` or `!Sub` over
    /// parameters only.
    fn resolve(&self, v: &Value) -> Option<String> {
        // Not `as_str`: it would read through a tag and take `!Sub "${X}y"` as the plain string.
        if let Value::String(s) = v {
            return Some(s.clone());
        }
        if let Some(name) = ref_of(v) {
            return self.params.get(name).cloned();
        }
        let mut rest = intrinsic(v, "Sub")?.as_str()?;
        let mut out = String::new();
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find('}')? + start;
            out.push_str(self.params.get(&rest[start + 2..end])?);
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        Some(out)
    }

    /// Binary name → logical id of every function.
    fn functions(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for (id, r) in self.of_type("AWS::Serverless::Function") {
            let binary = r["Metadata"]["BuildProperties"]["Binary"]
                .as_str()
                .unwrap_or_else(|| panic!("{id}: Metadata.BuildProperties.Binary names its binary"));
            assert!(out.insert(binary.to_owned(), id.to_owned()).is_none(), "binary {binary} built twice");
        }
        out
    }

    fn function_id(&self, binary: &str) -> String {
        self.functions().remove(binary).unwrap_or_else(|| panic!("no function with Binary {binary}"))
    }

    fn binary_of(&self, function_id: &str) -> String {
        self.functions().into_iter().find(|(_, id)| id == function_id).map(|(b, _)| b).unwrap()
    }

    /// A function property, or the Globals one it inherits.
    fn function_setting(&self, id: &str, key: &str) -> Option<&Value> {
        self.props(id).get(key).or_else(|| self.doc["Globals"]["Function"].get(key))
    }

    fn timeout(&self, function_id: &str) -> u64 {
        number(self.function_setting(function_id, "Timeout"), &format!("{function_id} Timeout"))
    }

    fn env(&self, function_id: &str) -> BTreeMap<String, Value> {
        let mut env = BTreeMap::new();
        for source in [&self.doc["Globals"]["Function"], self.props(function_id)] {
            if let Some(vars) = source.get("Environment").and_then(|e| e.get("Variables")) {
                for (k, v) in vars.as_mapping().unwrap() {
                    env.insert(k.as_str().unwrap().to_owned(), v.clone());
                }
            }
        }
        env
    }

    /// Logical id of the resource of `ty` whose name property resolves to `name`.
    fn named(&self, ty: &str, name_prop: &str, name: &str) -> String {
        let found: Vec<&str> = self
            .of_type(ty)
            .into_iter()
            .filter(|(_, r)| r["Properties"].get(name_prop).and_then(|n| self.resolve(n)).as_deref() == Some(name))
            .map(|(id, _)| id)
            .collect();
        assert_eq!(found.len(), 1, "exactly one {ty} named {name}, found {found:?}");
        found[0].to_owned()
    }

    fn queue(&self, name: &str) -> String {
        self.named("AWS::SQS::Queue", "QueueName", name)
    }

    fn table(&self, name: &str) -> String {
        self.named("AWS::DynamoDB::Table", "TableName", name)
    }

    fn http_api(&self) -> String {
        let apis = self.of_type("AWS::Serverless::HttpApi");
        assert_eq!(apis.len(), 1, "one HTTP API");
        apis[0].0.to_owned()
    }
}

fn is_true(v: Option<&Value>) -> bool {
    v.and_then(Value::as_bool) == Some(true)
}

// ------------------------------------------------------------------ functions

#[test]
fn functions_are_the_wired_ones_built_by_cargo_lambda_for_al2023_arm64() {
    let t = Template::load();
    let binaries: BTreeSet<String> = t.functions().into_keys().collect();
    let wired: BTreeSet<String> = wiring::functions().into_iter().map(str::to_owned).collect();
    assert_eq!(binaries, wired, "template functions vs wiring::functions()");
    for (binary, id) in t.functions() {
        let r = t.resource(&id);
        assert_eq!(r["Metadata"]["BuildMethod"].as_str(), Some("rust-cargolambda"), "{binary}");
        assert_eq!(t.function_setting(&id, "Runtime").and_then(Value::as_str), Some("provided.al2023"), "{binary}");
        assert_eq!(t.function_setting(&id, "Handler").and_then(Value::as_str), Some("bootstrap"), "{binary}");
        assert_eq!(string_list(t.function_setting(&id, "Architectures")), ["arm64"], "{binary}");
        let memory = number(t.function_setting(&id, "MemorySize"), &format!("{binary} MemorySize"));
        assert!((128..=10_240).contains(&memory), "{binary} memory {memory}");
        assert!((1..=900).contains(&t.timeout(&id)), "{binary} timeout");
    }
}

#[test]
fn every_function_is_a_workspace_crate_of_the_same_name() {
    let t = Template::load();
    let functions = t.functions();
    for binary in functions.keys() {
        let dir = root().join("functions").join(binary);
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml"))
            .unwrap_or_else(|e| panic!("functions/{binary}/Cargo.toml: {e}"));
        let name = manifest.lines().find_map(|l| l.trim().strip_prefix("name = ")).map(|n| n.trim_matches('"'));
        assert_eq!(name, Some(binary.as_str()), "package name of functions/{binary}");
        assert!(dir.join("src/main.rs").is_file(), "functions/{binary}/src/main.rs");
    }
    for entry in std::fs::read_dir(root().join("functions")).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        assert!(functions.contains_key(&name), "functions/{name} is not deployed by template.yaml");
    }
}

// ------------------------------------------------------------------ HTTP API

#[test]
fn routes_reach_the_same_handlers_through_the_same_authorizer() {
    let t = Template::load();
    let api = t.http_api();
    let default_authorizer = t.props(&api)["Auth"]["DefaultAuthorizer"].as_str().map(str::to_owned);
    let mut found: BTreeMap<String, (String, bool)> = BTreeMap::new();
    for (binary, id) in t.functions() {
        let Some(events) = t.props(&id).get("Events").and_then(Value::as_mapping) else { continue };
        for (name, event) in events {
            let p = &event["Properties"];
            match event["Type"].as_str() {
                Some("HttpApi") => {}
                Some("SQS") => panic!(
                    "{binary}: SAM's SQS event grants AWSLambdaSQSQueueExecutionRole on every queue; use an AWS::Lambda::EventSourceMapping"
                ),
                other => panic!("{binary} event {name:?}: unexpected type {other:?}"),
            }
            assert_eq!(p.get("ApiId").and_then(ref_of), Some(api.as_str()), "{binary}: route on the one HTTP API");
            assert_eq!(p["PayloadFormatVersion"].as_str(), Some("2.0"), "{binary}: payload format 2.0");
            let key = match (p.get("Method").and_then(Value::as_str), p.get("Path").and_then(Value::as_str)) {
                (Some(method), Some(path)) => format!("{} {path}", method.to_uppercase()),
                (None, None) => wiring::DEFAULT_ROUTE.to_owned(),
                _ => panic!("{binary}: give both Method and Path, or neither for $default"),
            };
            let authorized = match p.get("Auth").and_then(|a| a.get("Authorizer")).and_then(Value::as_str) {
                Some("NONE") => false,
                Some(other) => panic!("{binary}: unknown authorizer {other}"),
                None => default_authorizer.is_some(),
            };
            let previous = found.insert(key.clone(), (binary.clone(), authorized));
            assert!(previous.is_none(), "route {key} defined twice");
        }
    }
    let expected: BTreeMap<String, (String, bool)> =
        wiring::routes().into_iter().map(|r| (r.route_key, (r.function.to_owned(), r.authorized))).collect();
    assert_eq!(found, expected, "template routes (route key -> (binary, authorized)) vs the route table");
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
        assert_eq!(t.binary_of(function), q.consumer, "consumer of {queue}");
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

#[test]
fn functions_that_deliver_outlive_one_delivery_attempt() {
    let t = Template::load();
    let attempt = parse_duration(t.param("DeliveryTimeout")).unwrap().as_secs();
    for binary in [wiring::DELIVERIES_QUEUE.consumer, "api-test-integration"] {
        let timeout = t.timeout(&t.function_id(binary));
        assert!(timeout >= 2 * attempt, "{binary}: timeout {timeout} s vs a {attempt} s delivery attempt");
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

fn scheduler_role(t: &Template) -> String {
    let roles: Vec<&str> = t
        .of_type("AWS::IAM::Role")
        .into_iter()
        .filter(|(_, r)| {
            r["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"].as_str()
                == Some("scheduler.amazonaws.com")
        })
        .map(|(id, _)| id)
        .collect();
    assert_eq!(roles.len(), 1, "one role for EventBridge Scheduler");
    roles[0].to_owned()
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

/// The variable names `Config::from_lookup` asks for, with every required one answered.
fn names_the_config_reads() -> BTreeSet<String> {
    let asked = RefCell::new(BTreeSet::new());
    let config = Config::from_lookup(|name| {
        asked.borrow_mut().insert(name.to_owned());
        match name {
            n if n.ends_with("_URL") => Some(format!("http://127.0.0.1:1/123456789012/{n}")),
            n if n.ends_with("_ARN") => Some("arn:aws:sqs:us-east-1:123456789012:q".to_owned()),
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
        schedule_group: "apviso-retries".into(),
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
    for q in wiring::QUEUES {
        expected.insert(q.dlq_url_var, ("Ref", t.queue(&q.dlq_name(DEFAULT_PREFIX))));
    }
    expected.insert(wiring::SCHEDULE_GROUP_VAR, ("Ref", group));
    expected.insert(wiring::SCHEDULER_ROLE_ARN_VAR, ("GetAtt", format!("{role}.Arn")));
    for (var, _) in wiring::SETTINGS {
        expected.insert(var, ("Ref", setting_parameter(&t, var)));
    }
    assert_eq!(expected.keys().copied().collect::<Vec<_>>().len(), wiring::env_vars().len());

    for (binary, id) in t.functions() {
        let env = t.env(&id);
        for var in wiring::LOCAL_ONLY_VARS {
            assert!(!env.contains_key(var), "{binary}: {var} must never be set in AWS");
        }
        let names: BTreeSet<&str> = env.keys().map(String::as_str).collect();
        assert_eq!(names, expected.keys().copied().collect(), "{binary}: environment variables");
        for (var, (kind, target)) in &expected {
            let value = &env[*var];
            let actual = match *kind {
                "Ref" => ref_of(value).map(str::to_owned),
                _ => getatt_of(value).map(|(a, b)| format!("{a}.{b}")),
            };
            assert_eq!(actual.as_ref(), Some(target), "{binary}: {var} = {value:?}");
        }
    }
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

/// Every inline statement of a policy document.
fn statements(doc: &Value) -> Vec<Value> {
    match &doc["Statement"] {
        Value::Sequence(s) => s.clone(),
        other => vec![other.clone()],
    }
}

/// `(action, resource)` pairs a statement allows, resources named `table:<id>`, `queue:<id>`,
/// `role:<id>`, `schedules:<group id>` or `ses-identities` (this account's SES identities).
fn grants_of(t: &Template, s: &Value) -> Vec<(String, String)> {
    assert_eq!(s["Effect"].as_str(), Some("Allow"));
    let actions = string_list(s.get("Action"));
    let resources: Vec<String> = match &s["Resource"] {
        Value::Sequence(r) => r.iter().map(|r| resource_label(t, r)).collect(),
        r => vec![resource_label(t, r)],
    };
    actions.iter().flat_map(|a| resources.iter().map(move |r| (a.clone(), r.clone()))).collect()
}

fn resource_label(t: &Template, r: &Value) -> String {
    if let Some((id, attr)) = getatt_of(r) {
        assert_eq!(attr, "Arn", "{id}");
        let kind = match t.resource(&id)["Type"].as_str().unwrap() {
            "AWS::DynamoDB::Table" => "table",
            "AWS::SQS::Queue" => "queue",
            "AWS::IAM::Role" => "role",
            other => panic!("unexpected resource type {other}"),
        };
        return format!("{kind}:{id}");
    }
    let sub = intrinsic(r, "Sub").and_then(Value::as_str).unwrap_or_else(|| panic!("resource {r:?}"));
    if sub == "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/*" {
        return "ses-identities".into();
    }
    let group = sub
        .strip_prefix("arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}:schedule/${")
        .and_then(|rest| rest.strip_suffix("}/*"))
        .unwrap_or_else(|| panic!("resource {sub}"));
    assert_eq!(t.resource(group)["Type"].as_str(), Some("AWS::Scheduler::ScheduleGroup"));
    format!("schedules:{group}")
}

/// Least privilege, per function: exactly these actions on exactly these resources, derived
/// from what each handler calls (shared/src/store, shared/src/queue).
fn expected_access(t: &Template) -> BTreeMap<&'static str, BTreeSet<(String, String)>> {
    let table = |suffix: &str| format!("table:{}", t.table(&format!("{DEFAULT_PREFIX}{suffix}")));
    let queue = |name: String| format!("queue:{}", t.queue(&name));
    let (integrations, keys, logs) = (table("integrations"), table("api-keys"), table("delivery-logs"));
    let digests = table("digests");
    let ses = "ses-identities";
    let deliveries = queue(wiring::DELIVERIES_QUEUE.name(DEFAULT_PREFIX));
    let deliveries_dlq = queue(wiring::DELIVERIES_QUEUE.dlq_name(DEFAULT_PREFIX));
    let events = queue(wiring::EVENTS_QUEUE.name(DEFAULT_PREFIX));
    let events_dlq = queue(wiring::EVENTS_QUEUE.dlq_name(DEFAULT_PREFIX));
    let group = t.of_type("AWS::Scheduler::ScheduleGroup")[0].0.to_owned();
    let poll = |q: &str| {
        ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"].map(|a| (a.to_owned(), q.to_owned()))
    };
    let g = |pairs: &[(&str, &str)]| -> BTreeSet<(String, String)> {
        pairs.iter().map(|(a, r)| ((*a).to_owned(), (*r).to_owned())).collect()
    };
    let mut fanout =
        g(&[("dynamodb:Query", &integrations), ("sqs:SendMessage", &deliveries), ("sqs:SendMessage", &events_dlq)]);
    fanout.extend(poll(&events));
    let mut delivery = g(&[
        ("dynamodb:GetItem", &integrations),
        ("dynamodb:UpdateItem", &integrations),
        ("dynamodb:PutItem", &logs),
        ("dynamodb:PutItem", &digests),
        ("dynamodb:Query", &digests),
        ("dynamodb:BatchWriteItem", &digests),
        ("ses:SendEmail", ses),
        ("sqs:SendMessage", &deliveries),
        ("sqs:SendMessage", &deliveries_dlq),
        ("scheduler:CreateSchedule", &format!("schedules:{group}")),
        ("iam:PassRole", &format!("role:{}", scheduler_role(t))),
    ]);
    delivery.extend(poll(&deliveries));
    BTreeMap::from([
        ("authorizer", g(&[("dynamodb:GetItem", &keys)])),
        ("api-openapi", g(&[])),
        ("api-list-providers", g(&[])),
        ("api-fallback", g(&[])),
        ("api-list-integrations", g(&[("dynamodb:Query", &integrations)])),
        ("api-create-integration", g(&[("dynamodb:PutItem", &integrations), ("sqs:SendMessage", &deliveries)])),
        ("api-get-integration", g(&[("dynamodb:GetItem", &integrations)])),
        (
            "api-update-integration",
            g(&[
                ("dynamodb:GetItem", &integrations),
                ("dynamodb:UpdateItem", &integrations),
                ("sqs:SendMessage", &deliveries),
            ]),
        ),
        ("api-delete-integration", g(&[("dynamodb:DeleteItem", &integrations)])),
        (
            "api-test-integration",
            g(&[
                ("dynamodb:GetItem", &integrations),
                ("dynamodb:UpdateItem", &integrations),
                ("dynamodb:PutItem", &logs),
                ("ses:SendEmail", ses),
            ]),
        ),
        (
            "api-list-delivery-logs",
            g(&[("dynamodb:GetItem", &integrations), ("dynamodb:Query", &logs), ("dynamodb:BatchGetItem", &logs)]),
        ),
        (
            "api-get-delivery-log",
            g(&[("dynamodb:GetItem", &integrations), ("dynamodb:Query", &logs), ("dynamodb:GetItem", &logs)]),
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
    for (binary, id) in &functions {
        let mut granted = BTreeSet::new();
        for policy in t.props(id).get("Policies").and_then(Value::as_sequence).into_iter().flatten() {
            assert!(
                policy.get("Statement").is_some(),
                "{binary}: inline statements only (a SAM policy template or managed policy grants more)"
            );
            for s in statements(policy) {
                assert!(
                    s.get("Condition").is_none() || string_list(s.get("Action")) == ["iam:PassRole"],
                    "{binary}: conditions only on iam:PassRole"
                );
                for grant in grants_of(&t, &s) {
                    assert!(granted.insert(grant.clone()), "{binary}: {grant:?} granted twice");
                }
            }
        }
        assert!(t.props(id).get("Role").is_none(), "{binary}: SAM builds the role from Policies");
        assert_eq!(granted, expected[binary.as_str()], "{binary}: IAM grants");
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

#[test]
fn alarms_watch_every_dead_letter_queue_and_every_function() {
    let t = Template::load();
    let alarms = t.of_type("AWS::CloudWatch::Alarm");
    let watched = |namespace: &str, metric: &str| -> Vec<&Value> {
        alarms
            .iter()
            .map(|(_, a)| &a["Properties"])
            .filter(|a| a["Namespace"].as_str() == Some(namespace) && a["MetricName"].as_str() == Some(metric))
            .map(|a| &a["Dimensions"][0]["Value"])
            .collect()
    };
    let dlq_alarms = watched("AWS/SQS", "ApproximateNumberOfMessagesVisible");
    for q in wiring::QUEUES {
        let dlq = t.queue(&q.dlq_name(DEFAULT_PREFIX));
        assert!(dlq_alarms.iter().any(|d| getatt_of(d) == Some((dlq.clone(), "QueueName".into()))), "alarm on {dlq}");
    }
    let error_alarms = watched("AWS/Lambda", "Errors");
    for (binary, id) in t.functions() {
        assert!(error_alarms.iter().any(|d| ref_of(d) == Some(id.as_str())), "Errors alarm on {binary}");
    }
}

#[test]
fn outputs_give_the_scanning_pipeline_what_it_needs() {
    let t = Template::load();
    let outputs = &t.doc["Outputs"];
    let events = t.queue(&wiring::EVENTS_QUEUE.name(DEFAULT_PREFIX));
    assert_eq!(getatt_of(&outputs["ApiUrl"]["Value"]), Some((t.http_api(), "ApiEndpoint".into())));
    assert_eq!(ref_of(&outputs["EventsQueueUrl"]["Value"]), Some(events.as_str()));
    assert_eq!(getatt_of(&outputs["EventsQueueArn"]["Value"]), Some((events, "Arn".into())));
}

#[test]
fn samconfig_overrides_only_template_parameters_with_their_defaults() {
    let t = Template::load();
    let text = std::fs::read_to_string(root().join("samconfig.toml")).unwrap();
    let overrides: Vec<&str> = text
        .split("parameter_overrides = [")
        .nth(1)
        .and_then(|rest| rest.split(']').next())
        .expect("samconfig.toml sets parameter_overrides = [...]")
        .split('\'')
        .skip(1)
        .step_by(2)
        .collect();
    assert!(!overrides.is_empty());
    for pair in overrides {
        let (name, value) = pair.split_once('=').unwrap();
        let value = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(value);
        assert_eq!(t.params.get(name).map(String::as_str), Some(value), "samconfig.toml {name}");
    }
    for line in ["capabilities = \"CAPABILITY_IAM\"", "resolve_s3 = true", "confirm_changeset = false"] {
        assert!(text.contains(line), "samconfig.toml: {line}");
    }
    assert!(text.contains("beta_features = true"), "rust-cargolambda needs SAM's beta features");
}

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
            } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("template_wiring.rs") {
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
