//! The few settings of `template.yaml` the cost and capacity model needs, read from the file so
//! the report follows the template: memory and timeout of the two pipeline functions, and batch
//! size, batching window and maximum concurrency of their event source mappings.

use serde::Serialize;

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Settings {
    pub fanout_memory_mb: u32,
    pub delivery_memory_mb: u32,
    pub fanout_timeout_s: u32,
    pub delivery_timeout_s: u32,
    pub fanout_batch: u32,
    pub delivery_batch: u32,
    pub fanout_max_concurrency: u32,
    pub delivery_max_concurrency: u32,
    pub batching_window_s: u32,
    /// `DeliveryTimeout` parameter's default (seconds).
    pub attempt_timeout_s: u32,
    pub log_retention_days: u32,
}

/// The lines of the top-level (2-space) block `name:` of `yaml`, up to the next one.
fn block<'a>(yaml: &'a str, name: &str) -> Vec<&'a str> {
    let header = format!("  {name}:");
    let mut lines = yaml.lines().skip_while(|l| l.trim_end() != header);
    let mut out = Vec::new();
    if lines.next().is_none() {
        return out;
    }
    for line in lines {
        let indent = line.len() - line.trim_start().len();
        if !line.trim().is_empty() && indent <= 2 {
            break;
        }
        out.push(line);
    }
    out
}

/// The first `key: <number>` in `lines` (a trailing `s` is dropped, as in `10s`).
fn number(lines: &[&str], key: &str) -> Option<u32> {
    let prefix = format!("{key}:");
    lines.iter().find_map(|l| {
        let rest = l.trim().strip_prefix(&prefix)?.trim().trim_matches('"');
        rest.trim_end_matches('s').parse().ok()
    })
}

pub fn read(yaml: &str) -> Result<Settings, String> {
    let globals = block(yaml, "Function");
    let fanout = block(yaml, "FanoutFunction");
    let delivery = block(yaml, "DeliveryFunction");
    let fan_map = block(yaml, "FanoutEventsQueueMapping");
    let del_map = block(yaml, "DeliveryDeliveriesQueueMapping");
    let get = |lines: &[&str], key: &str, what: &str| {
        number(lines, key).ok_or_else(|| format!("template.yaml: no {key} for {what}"))
    };
    let default_memory = get(&globals, "MemorySize", "Globals.Function")?;
    let default_timeout = get(&globals, "Timeout", "Globals.Function")?;
    Ok(Settings {
        fanout_memory_mb: number(&fanout, "MemorySize").unwrap_or(default_memory),
        delivery_memory_mb: number(&delivery, "MemorySize").unwrap_or(default_memory),
        fanout_timeout_s: number(&fanout, "Timeout").unwrap_or(default_timeout),
        delivery_timeout_s: number(&delivery, "Timeout").unwrap_or(default_timeout),
        fanout_batch: get(&fan_map, "BatchSize", "FanoutEventsQueueMapping")?,
        delivery_batch: get(&del_map, "BatchSize", "DeliveryDeliveriesQueueMapping")?,
        fanout_max_concurrency: get(&fan_map, "MaximumConcurrency", "FanoutEventsQueueMapping")?,
        delivery_max_concurrency: get(&del_map, "MaximumConcurrency", "DeliveryDeliveriesQueueMapping")?,
        batching_window_s: get(&del_map, "MaximumBatchingWindowInSeconds", "DeliveryDeliveriesQueueMapping")?,
        attempt_timeout_s: get(&block(yaml, "DeliveryTimeout"), "Default", "DeliveryTimeout")?,
        log_retention_days: get(&block(yaml, "LogRetentionDays"), "Default", "LogRetentionDays")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const YAML: &str = "Parameters:
  DeliveryTimeout:
    Type: String
    Default: 10s
  LogRetentionDays:
    Type: Number
    Default: 30
Globals:
  Function:
    MemorySize: 256
    Timeout: 10
Resources:
  FanoutFunction:
    Properties:
      Timeout: 30
  DeliveryFunction:
    Properties:
      MemorySize: 512
      Timeout: 30
  FanoutEventsQueueMapping:
    Properties:
      BatchSize: 10
      MaximumBatchingWindowInSeconds: 1
      ScalingConfig:
        MaximumConcurrency: 5
  DeliveryDeliveriesQueueMapping:
    Properties:
      BatchSize: 10
      MaximumBatchingWindowInSeconds: 1
      ScalingConfig:
        MaximumConcurrency: 10
";

    #[test]
    fn reads_the_pipeline_settings() {
        let s = read(YAML).unwrap();
        assert_eq!(
            s,
            Settings {
                fanout_memory_mb: 256,
                delivery_memory_mb: 512,
                fanout_timeout_s: 30,
                delivery_timeout_s: 30,
                fanout_batch: 10,
                delivery_batch: 10,
                fanout_max_concurrency: 5,
                delivery_max_concurrency: 10,
                batching_window_s: 1,
                attempt_timeout_s: 10,
                log_retention_days: 30,
            }
        );
    }
}
