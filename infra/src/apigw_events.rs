//! Builds the exact JSON events API Gateway (HTTP API, payload format 2.0) hands to Lambda, so the
//! local gateway and in-process tests feed handlers through lambda_http's own parsing.

use std::collections::BTreeMap;

use base64::Engine;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

/// What the gateway knows about an incoming request.
#[derive(Clone, Debug, Default)]
pub struct IncomingRequest {
    pub method: String,
    pub path: String,
    pub raw_query: String,
    /// Header names lower-cased; repeated headers joined with commas, as API Gateway does.
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
    pub source_ip: String,
}

impl IncomingRequest {
    pub fn new(method: &str, path_and_query: &str) -> Self {
        let (path, query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
        Self {
            method: method.to_owned(),
            path: path.to_owned(),
            raw_query: query.to_owned(),
            source_ip: "127.0.0.1".into(),
            ..Self::default()
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers
            .entry(name.to_ascii_lowercase())
            .and_modify(|v| {
                v.push(',');
                v.push_str(value);
            })
            .or_insert_with(|| value.to_owned());
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    fn query_parameters(&self) -> Map<String, Value> {
        let mut params = Map::new();
        for (k, v) in url::form_urlencoded::parse(self.raw_query.as_bytes()) {
            match params.get_mut(k.as_ref()) {
                // API Gateway joins repeated query parameters with commas.
                Some(Value::String(existing)) => {
                    existing.push(',');
                    existing.push_str(&v);
                }
                _ => {
                    params.insert(k.into_owned(), Value::String(v.into_owned()));
                }
            }
        }
        params
    }

    fn request_context(&self, route_key: &str, request_id: &str, authorizer: Option<&Value>) -> Value {
        let now = OffsetDateTime::now_utc();
        let mut ctx = json!({
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": "127.0.0.1",
            "domainPrefix": "local",
            "http": {
                "method": self.method,
                "path": self.path,
                "protocol": "HTTP/1.1",
                "sourceIp": self.source_ip,
                "userAgent": self.headers.get("user-agent").cloned().unwrap_or_default(),
            },
            "requestId": request_id,
            "routeKey": route_key,
            "stage": "$default",
            "time": now.to_string(),
            "timeEpoch": now.unix_timestamp() * 1000,
        });
        if let Some(context) = authorizer {
            ctx["authorizer"] = json!({ "lambda": context });
        }
        ctx
    }

    /// The payload-format-2.0 request event for a matched route.
    pub fn http_event(
        &self,
        route_key: &str,
        path_parameters: &BTreeMap<String, String>,
        request_id: &str,
        authorizer: Option<&Value>,
    ) -> Value {
        let (body, is_base64) = match std::str::from_utf8(&self.body) {
            Ok(text) => (text.to_owned(), false),
            Err(_) => (base64::engine::general_purpose::STANDARD.encode(&self.body), true),
        };
        let mut event = json!({
            "version": "2.0",
            "routeKey": route_key,
            "rawPath": self.path,
            "rawQueryString": self.raw_query,
            "headers": self.headers,
            "requestContext": self.request_context(route_key, request_id, authorizer),
            "isBase64Encoded": is_base64,
        });
        let query = self.query_parameters();
        if !query.is_empty() {
            event["queryStringParameters"] = Value::Object(query);
        }
        if !path_parameters.is_empty() {
            event["pathParameters"] = json!(path_parameters);
        }
        if !self.body.is_empty() {
            event["body"] = Value::String(body);
        }
        event
    }

    /// The Lambda authorizer request event (REQUEST type, payload format 2.0).
    pub fn authorizer_event(
        &self,
        route_key: &str,
        path_parameters: &BTreeMap<String, String>,
        request_id: &str,
    ) -> Value {
        let mut event = json!({
            "version": "2.0",
            "type": "REQUEST",
            "routeArn": format!("arn:aws:execute-api:us-east-1:123456789012:local/$default/{}{}", self.method, self.path),
            "identitySource": self.headers.get("x-api-key").map(|k| vec![k.clone()]).unwrap_or_default(),
            "routeKey": route_key,
            "rawPath": self.path,
            "rawQueryString": self.raw_query,
            "headers": self.headers,
            "queryStringParameters": self.query_parameters(),
            "pathParameters": path_parameters,
            "requestContext": self.request_context(route_key, request_id, None),
        });
        if self.raw_query.is_empty() {
            event["queryStringParameters"] = json!({});
        }
        event
    }
}
