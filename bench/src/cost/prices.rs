//! AWS us-east-1 list prices, in one place, and the arithmetic that turns a measured usage into
//! dollars. Free tiers are left out on purpose: they are per account and month, not per delivery.
//!
//! Taken on 2026-12-02 from the pricing pages below (and checked against third-party summaries
//! of the same pages where the page itself was not reachable from the bench machine).

/// When the prices below were read.
pub const PRICES_TAKEN: &str = "2026-12-02";

/// Where each price comes from.
pub const SOURCES: [(&str, &str); 10] = [
    ("Lambda", "https://aws.amazon.com/lambda/pricing/"),
    ("DynamoDB", "https://aws.amazon.com/dynamodb/pricing/on-demand/"),
    ("SQS", "https://aws.amazon.com/sqs/pricing/"),
    ("S3", "https://aws.amazon.com/s3/pricing/"),
    ("EventBridge Scheduler", "https://aws.amazon.com/eventbridge/pricing/"),
    ("KMS", "https://aws.amazon.com/kms/pricing/"),
    ("CloudWatch Logs", "https://aws.amazon.com/cloudwatch/pricing/"),
    ("Data transfer out", "https://aws.amazon.com/ec2/pricing/on-demand/#Data_Transfer"),
    ("EventBridge API destinations", "https://aws.amazon.com/eventbridge/pricing/"),
    ("Hookdeck Outpost", "https://hookdeck.com/pricing"),
];

/// US dollars per unit, us-east-1, first pricing tier.
#[derive(Clone, Copy, Debug)]
pub struct Prices {
    /// Lambda arm64 duration, per GB-second (first 7.5 billion GB-s a month).
    pub lambda_gb_s: f64,
    /// Lambda requests, per request ($0.20 per million).
    pub lambda_request: f64,
    /// DynamoDB on-demand write request unit ($0.625 per million).
    pub ddb_wru: f64,
    /// DynamoDB on-demand read request unit ($0.125 per million).
    pub ddb_rru: f64,
    /// DynamoDB Standard table storage, per GB-month.
    pub ddb_storage_gb_month: f64,
    /// Point-in-time recovery (continuous backups, enabled on every table of the template), per GB-month.
    pub ddb_pitr_gb_month: f64,
    /// SQS standard queue, per request (64 KB chunk), $0.40 per million.
    pub sqs_request: f64,
    /// S3 Standard PUT, per request ($0.005 per 1,000).
    pub s3_put: f64,
    /// S3 Standard GET, per request ($0.0004 per 1,000).
    pub s3_get: f64,
    /// S3 Standard storage, per GB-month.
    pub s3_storage_gb_month: f64,
    /// EventBridge Scheduler, per invocation ($1.00 per million).
    pub scheduler_invocation: f64,
    /// KMS, per request ($0.03 per 10,000).
    pub kms_request: f64,
    /// CloudWatch Logs standard ingestion, per GB.
    pub logs_ingest_gb: f64,
    /// CloudWatch Logs archive storage, per GB-month.
    pub logs_storage_gb_month: f64,
    /// Data transfer out of AWS to the internet (Lambda bills it at EC2 rates), first 10 TB, per GB.
    pub transfer_out_gb: f64,
}

pub const LIST: Prices = Prices {
    lambda_gb_s: 0.000_013_333_4,
    lambda_request: 0.20 / 1e6,
    ddb_wru: 0.625 / 1e6,
    ddb_rru: 0.125 / 1e6,
    ddb_storage_gb_month: 0.25,
    ddb_pitr_gb_month: 0.20,
    sqs_request: 0.40 / 1e6,
    s3_put: 0.005 / 1e3,
    s3_get: 0.000_4 / 1e3,
    s3_storage_gb_month: 0.023,
    scheduler_invocation: 1.00 / 1e6,
    kms_request: 0.03 / 1e4,
    logs_ingest_gb: 0.50,
    logs_storage_gb_month: 0.03,
    transfer_out_gb: 0.09,
};

/// The managed alternatives' list prices, per million events, from the issue.
pub const EVENTBRIDGE_API_DESTINATIONS_PER_M: f64 = 1.00 + 0.20;
pub const HOOKDECK_OUTPOST_PER_M: f64 = 10.0;

/// A gigabyte as AWS bills it (2^30 bytes).
pub const GB: f64 = 1024.0 * 1024.0 * 1024.0;

/// What one run used, in billing units. Every field is a total over the run.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct Usage {
    pub lambda_requests: f64,
    pub lambda_gb_s: f64,
    /// Billed SQS requests (each 64 KB chunk of a request counts as one).
    pub sqs_requests: f64,
    pub ddb_wru: f64,
    pub ddb_rru: f64,
    /// Bytes of delivery-log items as DynamoDB sizes them (plus its 100-byte per-item overhead),
    /// each kept `retention_months`.
    pub ddb_stored_bytes: f64,
    /// The share of `ddb_wru` and `ddb_stored_bytes` that is the stored event's (its one PutItem
    /// per event) and the share that is the log's (its entries and their day counters): item 8's
    /// headroom prices the log apart from what its design does not touch.
    pub event_wru: f64,
    pub event_stored_bytes: f64,
    pub log_wru: f64,
    pub log_stored_bytes: f64,
    pub s3_puts: f64,
    pub s3_gets: f64,
    pub s3_stored_bytes: f64,
    pub scheduler_invocations: f64,
    pub kms_requests: f64,
    pub log_bytes: f64,
    pub transfer_out_bytes: f64,
    /// How long stored bytes are kept, in months (30 days = 30 / 30.4375).
    pub retention_months: f64,
}

/// One line of the bill.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub enum Line {
    Lambda,
    Sqs,
    DynamoRequests,
    DynamoStorage,
    S3,
    Scheduler,
    Kms,
    Logs,
    TransferOut,
}

impl Line {
    pub const ALL: [Line; 9] = [
        Line::Lambda,
        Line::Sqs,
        Line::DynamoRequests,
        Line::DynamoStorage,
        Line::S3,
        Line::Scheduler,
        Line::Kms,
        Line::Logs,
        Line::TransferOut,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Line::Lambda => "Lambda (requests + arm64 GB-s)",
            Line::Sqs => "SQS requests (64 KB chunks)",
            Line::DynamoRequests => "DynamoDB read/write units",
            Line::DynamoStorage => "DynamoDB log storage, 30 days (+ PITR)",
            Line::S3 => "S3 (claim check)",
            Line::Scheduler => "EventBridge Scheduler",
            Line::Kms => "KMS",
            Line::Logs => "CloudWatch Logs (ingest + 30 days)",
            Line::TransferOut => "Data transfer out (requests to receivers)",
        }
    }
}

/// Dollars per line for `usage` at `prices`.
pub fn bill(usage: &Usage, p: &Prices) -> Vec<(Line, f64)> {
    let months = usage.retention_months;
    Line::ALL
        .into_iter()
        .map(|line| {
            let usd = match line {
                Line::Lambda => usage.lambda_requests * p.lambda_request + usage.lambda_gb_s * p.lambda_gb_s,
                Line::Sqs => usage.sqs_requests * p.sqs_request,
                Line::DynamoRequests => usage.ddb_wru * p.ddb_wru + usage.ddb_rru * p.ddb_rru,
                Line::DynamoStorage => ddb_storage(usage.ddb_stored_bytes, months, p),
                Line::S3 => {
                    usage.s3_puts * p.s3_put
                        + usage.s3_gets * p.s3_get
                        + usage.s3_stored_bytes / GB * months * p.s3_storage_gb_month
                }
                Line::Scheduler => usage.scheduler_invocations * p.scheduler_invocation,
                Line::Kms => usage.kms_requests * p.kms_request,
                Line::Logs => usage.log_bytes / GB * (p.logs_ingest_gb + months * p.logs_storage_gb_month),
                Line::TransferOut => usage.transfer_out_bytes / GB * p.transfer_out_gb,
            };
            (line, usd)
        })
        .collect()
}

/// Dollars of keeping `bytes` (DynamoDB sizes, overhead included) for `months`, with PITR.
pub fn ddb_storage(bytes: f64, months: f64, p: &Prices) -> f64 {
    bytes / GB * months * (p.ddb_storage_gb_month + p.ddb_pitr_gb_month)
}

/// Billed SQS requests for one request carrying `bytes` of payload: one per started 64 KB.
pub fn sqs_chunks(bytes: f64) -> f64 {
    (bytes / 65_536.0).ceil().max(1.0)
}

/// Write units of one standard write of an item of `bytes` (DynamoDB size): one per started KB.
pub fn write_units(bytes: f64) -> f64 {
    (bytes / 1024.0).ceil().max(1.0)
}

/// Read units of one read of `bytes`: one per started 4 KB, half that when eventually consistent.
pub fn read_units(bytes: f64, strongly_consistent: bool) -> f64 {
    let units = (bytes / 4096.0).ceil().max(1.0);
    if strongly_consistent { units } else { units / 2.0 }
}

/// Billed Lambda GB-seconds of one invocation: duration rounded up to the millisecond × memory.
pub fn gb_seconds(duration_ms: f64, memory_mb: u32) -> f64 {
    duration_ms.ceil() / 1e3 * f64::from(memory_mb) / 1024.0
}

/// 30 days in months, as AWS prorates GB-months.
pub const THIRTY_DAYS_IN_MONTHS: f64 = 30.0 / 30.4375;

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn sizing_rules() {
        assert_eq!(sqs_chunks(100.0), 1.0);
        assert_eq!(sqs_chunks(65_536.0), 1.0);
        assert_eq!(sqs_chunks(65_537.0), 2.0);
        assert_eq!(sqs_chunks(10.0 * 10_400.0), 2.0);
        assert_eq!(write_units(300.0), 1.0);
        assert_eq!(write_units(10_600.0), 11.0);
        assert_eq!(read_units(1_500.0, true), 1.0);
        assert_eq!(read_units(1_500.0, false), 0.5);
        assert_eq!(read_units(9_000.0, false), 1.5);
        // 42.3 ms at 512 MB: 43 ms × 0.5 GB.
        assert!(close(gb_seconds(42.3, 512), 0.0215));
    }

    /// A million 10 KB deliveries priced by hand: 100,000 invocations (10 records each) of
    /// 100 ms at 512 MB = 5,000 GB-s → $0.02 + $0.066667; 11 M WRU →
    /// $6.875; 0.5 M RRU → $0.0625; 3 M SQS requests → $1.20; 10 GiB stored 30 days →
    /// 10 × 0.45 × 30/30.4375 = $4.435318; 1 GiB of logs → $0.50 + $0.029569; 10 GiB out → $0.90.
    #[test]
    fn a_bill_computed_by_hand() {
        let usage = Usage {
            lambda_requests: 100_000.0,
            lambda_gb_s: 5_000.0,
            sqs_requests: 3e6,
            ddb_wru: 11e6,
            ddb_rru: 0.5e6,
            ddb_stored_bytes: 10.0 * GB,
            log_bytes: GB,
            transfer_out_bytes: 10.0 * GB,
            retention_months: THIRTY_DAYS_IN_MONTHS,
            ..Usage::default()
        };
        let bill = bill(&usage, &LIST);
        let get = |l: Line| bill.iter().find(|(line, _)| *line == l).map(|(_, usd)| *usd).unwrap();
        assert!(close(get(Line::Lambda), 0.02 + 0.066_667));
        assert!(close(get(Line::DynamoRequests), 6.875 + 0.0625));
        assert!((get(Line::Sqs) - 1.20).abs() < 1e-9);
        assert!((get(Line::DynamoStorage) - 4.435_318).abs() < 1e-6);
        assert!((get(Line::Logs) - 0.529_569).abs() < 1e-6);
        assert!((get(Line::TransferOut) - 0.90).abs() < 1e-9);
        assert_eq!(get(Line::S3), 0.0);
        let total: f64 = bill.iter().map(|(_, usd)| usd).sum();
        assert!((total - 14.089_054).abs() < 1e-5);
    }
}
