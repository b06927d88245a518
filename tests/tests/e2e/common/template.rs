//! Reading `template.yaml` for the tests that hold it to the local wiring: CloudFormation's
//! short and long intrinsic forms, parameters with their defaults, and resources by type.

use std::{collections::BTreeMap, path::PathBuf};

use serde_yaml_ng::Value;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

// ------------------------------------------------------------------ reading the template

/// `!Name value` or its long form `{"Fn::Name": value}` (`{"Ref": value}`).
pub fn intrinsic<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    match v {
        Value::Tagged(t) if t.tag == name => Some(&t.value),
        Value::Mapping(m) if m.len() == 1 => {
            let long = if name == "Ref" { "Ref".to_owned() } else { format!("Fn::{name}") };
            m.get(long.as_str())
        }
        _ => None,
    }
}

pub fn ref_of(v: &Value) -> Option<&str> {
    intrinsic(v, "Ref")?.as_str()
}

/// `(logical id, attribute)` of a `!GetAtt`.
pub fn getatt_of(v: &Value) -> Option<(String, String)> {
    match intrinsic(v, "GetAtt")? {
        Value::String(s) => s.split_once('.').map(|(a, b)| (a.to_owned(), b.to_owned())),
        Value::Sequence(seq) if seq.len() == 2 => Some((seq[0].as_str()?.to_owned(), seq[1].as_str()?.to_owned())),
        _ => None,
    }
}

pub fn string_list(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Sequence(seq)) => seq.iter().map(|s| s.as_str().expect("a list of strings").to_owned()).collect(),
        _ => Vec::new(),
    }
}

pub fn number(v: Option<&Value>, what: &str) -> u64 {
    v.and_then(Value::as_u64).unwrap_or_else(|| panic!("{what} must be a whole number, got {v:?}"))
}

pub struct Template {
    pub doc: Value,
    /// Parameter defaults, the values a plain `sam deploy` uses.
    pub params: BTreeMap<String, String>,
}

impl Template {
    pub fn load() -> Self {
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

    pub fn resources(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.doc["Resources"].as_mapping().unwrap().iter().map(|(k, v)| (k.as_str().unwrap(), v))
    }

    pub fn of_type(&self, ty: &str) -> Vec<(&str, &Value)> {
        self.resources().filter(|(_, r)| r["Type"].as_str() == Some(ty)).collect()
    }

    pub fn resource(&self, id: &str) -> &Value {
        self.doc["Resources"].get(id).unwrap_or_else(|| panic!("no resource {id}"))
    }

    pub fn props(&self, id: &str) -> &Value {
        &self.resource(id)["Properties"]
    }

    pub fn param(&self, name: &str) -> &str {
        self.params.get(name).unwrap_or_else(|| panic!("no parameter {name}"))
    }

    /// A string as deployed with the parameter defaults: plain, `!Ref Param` or `!Sub` over
    /// parameters only.
    pub fn resolve(&self, v: &Value) -> Option<String> {
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

    /// Function name → logical id of every function. The name is the logical id without its
    /// `Function` suffix, in kebab case (`ApiGetDeliveryLogFunction` is `api-get-delivery-log`),
    /// the names `wiring::functions()` uses.
    pub fn functions(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for (id, _) in self.of_type("AWS::Serverless::Function") {
            let name = function_name(id).unwrap_or_else(|| panic!("{id}: a function's logical id ends in Function"));
            assert!(out.insert(name, id.to_owned()).is_none(), "{id}: two functions of one name");
        }
        out
    }

    pub fn function_id(&self, name: &str) -> String {
        self.functions().remove(name).unwrap_or_else(|| panic!("no function {name}"))
    }

    pub fn function_name_of(&self, function_id: &str) -> String {
        self.functions().into_iter().find(|(_, id)| id == function_id).map(|(name, _)| name).unwrap()
    }

    /// The binary a function runs (`Metadata.BuildProperties.Binary`).
    pub fn binary(&self, function_id: &str) -> String {
        self.resource(function_id)["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .unwrap_or_else(|| panic!("{function_id}: Metadata.BuildProperties.Binary names its binary"))
            .to_owned()
    }

    /// A function property, or the Globals one it inherits.
    pub fn function_setting(&self, id: &str, key: &str) -> Option<&Value> {
        self.props(id).get(key).or_else(|| self.doc["Globals"]["Function"].get(key))
    }

    pub fn timeout(&self, function_id: &str) -> u64 {
        number(self.function_setting(function_id, "Timeout"), &format!("{function_id} Timeout"))
    }

    pub fn env(&self, function_id: &str) -> BTreeMap<String, Value> {
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
    pub fn named(&self, ty: &str, name_prop: &str, name: &str) -> String {
        let found: Vec<&str> = self
            .of_type(ty)
            .into_iter()
            .filter(|(_, r)| r["Properties"].get(name_prop).and_then(|n| self.resolve(n)).as_deref() == Some(name))
            .map(|(id, _)| id)
            .collect();
        assert_eq!(found.len(), 1, "exactly one {ty} named {name}, found {found:?}");
        found[0].to_owned()
    }

    pub fn queue(&self, name: &str) -> String {
        self.named("AWS::SQS::Queue", "QueueName", name)
    }

    pub fn table(&self, name: &str) -> String {
        self.named("AWS::DynamoDB::Table", "TableName", name)
    }

    pub fn http_api(&self) -> String {
        let apis = self.of_type("AWS::Serverless::HttpApi");
        assert_eq!(apis.len(), 1, "one HTTP API");
        apis[0].0.to_owned()
    }
}

/// `ApiGetDeliveryLogFunction` → `api-get-delivery-log`.
pub fn function_name(logical_id: &str) -> Option<String> {
    let stem = logical_id.strip_suffix("Function").filter(|s| !s.is_empty())?;
    let mut name = String::new();
    for c in stem.chars() {
        if c.is_ascii_uppercase() && !name.is_empty() {
            name.push('-');
        }
        name.push(c.to_ascii_lowercase());
    }
    Some(name)
}

pub fn is_true(v: Option<&Value>) -> bool {
    v.and_then(Value::as_bool) == Some(true)
}

// ------------------------------------------------------------------ functions

pub fn scheduler_role(t: &Template) -> String {
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

/// Every inline statement of a policy document.
pub fn statements(doc: &Value) -> Vec<Value> {
    match &doc["Statement"] {
        Value::Sequence(s) => s.clone(),
        other => vec![other.clone()],
    }
}

/// `(action, resource)` pairs a statement allows, resources named `table:<id>`, `queue:<id>`,
/// `role:<id>`, `key:<id>`, `bus:<id>`, `schedules:<group id>` or `ses-identities` (this account's SES identities).
pub fn grants_of(t: &Template, s: &Value) -> Vec<(String, String)> {
    assert_eq!(s["Effect"].as_str(), Some("Allow"));
    let actions = string_list(s.get("Action"));
    let resources: Vec<String> = match &s["Resource"] {
        Value::Sequence(r) => r.iter().map(|r| resource_label(t, r)).collect(),
        r => vec![resource_label(t, r)],
    };
    actions.iter().flat_map(|a| resources.iter().map(move |r| (a.clone(), r.clone()))).collect()
}

pub fn resource_label(t: &Template, r: &Value) -> String {
    if let Some((id, attr)) = getatt_of(r) {
        assert_eq!(attr, "Arn", "{id}");
        let kind = match t.resource(&id)["Type"].as_str().unwrap() {
            "AWS::DynamoDB::Table" => "table",
            "AWS::SQS::Queue" => "queue",
            "AWS::IAM::Role" => "role",
            "AWS::KMS::Key" => "key",
            "AWS::Events::EventBus" => "bus",
            other => panic!("unexpected resource type {other}"),
        };
        return format!("{kind}:{id}");
    }
    let sub = intrinsic(r, "Sub").and_then(Value::as_str).unwrap_or_else(|| panic!("resource {r:?}"));
    if sub == "arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/*" {
        return "ses-identities".into();
    }
    // Objects under one prefix of a bucket: `${Bucket.Arn}/prefix/*`.
    if let Some((bucket, prefix)) = sub.strip_prefix("${").and_then(|rest| rest.split_once(".Arn}/")) {
        assert_eq!(t.resource(bucket)["Type"].as_str(), Some("AWS::S3::Bucket"), "{sub}");
        return format!("objects:{bucket}/{prefix}");
    }
    let group = sub
        .strip_prefix("arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}:schedule/${")
        .and_then(|rest| rest.strip_suffix("}/*"))
        .unwrap_or_else(|| panic!("resource {sub}"));
    assert_eq!(t.resource(group)["Type"].as_str(), Some("AWS::Scheduler::ScheduleGroup"));
    format!("schedules:{group}")
}
