//! `template.yaml` held to what operating the stack needs: alarms on every dead-letter queue and
//! function, the outputs the scanning pipeline is given, and samconfig's overrides.

use apviso_infra::wiring::{self, DEFAULT_PREFIX};
use serde_yaml_ng::Value;

use crate::common::template::*;

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
    for (name, id) in t.functions() {
        assert!(error_alarms.iter().any(|d| ref_of(d) == Some(id.as_str())), "Errors alarm on {name}");
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
