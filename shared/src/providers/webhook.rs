//! The generic webhook provider: reads the integration's URL, secret and custom headers.

use serde_json::Value;
use time::OffsetDateTime;

use super::{Rendered, logged_request, url_without_query_values};
use crate::{
    domain::{integration::Integration, secret::Secret},
    pipeline::{message::DeliveryTask, webhook::render_webhook},
};

pub fn render(integration: &Integration, task: &DeliveryTask, now: OffsetDateTime) -> Result<Rendered, String> {
    let credentials = &integration.credentials.0;
    let url = credentials
        .get("url")
        .and_then(Value::as_str)
        .ok_or_else(|| "The integration has no webhook URL; set credentials.url".to_owned())?;
    let secret = credentials.get("secret").and_then(Value::as_str).map(Secret::new);
    let headers: Vec<(String, String)> = integration
        .config
        .0
        .get("headers")
        .and_then(Value::as_object)
        .map(|h| h.iter().filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned()))).collect())
        .unwrap_or_default();
    let request = render_webhook(task, url, secret.as_ref(), &headers, now.unix_timestamp());
    let logged = logged_request(&request, url_without_query_values(url));
    Ok(Rendered { request, logged })
}
