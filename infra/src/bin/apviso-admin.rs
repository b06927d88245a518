//! Operator commands against a deployed stack (or the local one), through the SDK's standard
//! configuration: credentials, `AWS_REGION`, and `AWS_ENDPOINT_URL` for an emulator.
//!
//! `apviso-admin create-api-key --account <id>` makes a new API key, stores only its SHA-256 in
//! the API-keys table (`APVISO_API_KEYS_TABLE`, default `apviso-api-keys`) and prints the key
//! once: it cannot be shown again.
//!
//! `apviso-admin seal-secrets` seals the credentials of integrations stored in clear text before
//! secrets at rest were encrypted (each is otherwise sealed by its next PATCH).

use std::process::ExitCode;

use apviso_core::{domain::ids::AccountId, time_fmt};
use apviso_service::{
    auth::hash_api_key,
    config::{SECRETS_KEY_ARN_VAR, Tables},
    secrets::{kms::KmsKeyring, reseal},
    store::{api_keys::DynamoApiKeyStore, integrations::DynamoIntegrationStore},
};
use aws_config::BehaviorVersion;

const USAGE: &str = "\
usage: apviso-admin create-api-key --account <accountId>
       apviso-admin seal-secrets

create-api-key creates an API key for the account, stores its SHA-256 digest in the API-keys
table and prints the key once. The table is $APVISO_API_KEYS_TABLE (default apviso-api-keys).

seal-secrets encrypts every credential still stored in clear text in the integrations table
($APVISO_INTEGRATIONS_TABLE, default apviso-integrations) under the KMS key
$APVISO_SECRETS_KEY_ARN (the stack's SecretsKey). It needs dynamodb:Scan and UpdateItem on the
table and kms:GenerateDataKey on the key, and can be run again safely.

AWS credentials and region come from the usual AWS environment or profile.";

/// Every key starts with this, so leaked keys are easy to recognise (and to scan for).
const KEY_PREFIX: &str = "apvk_";
const KEY_BYTES: usize = 32;

#[derive(Debug, PartialEq, Eq)]
enum Command {
    CreateApiKey { account: AccountId },
    SealSecrets,
    Help,
}

fn parse_args(args: &[String]) -> Result<Command, String> {
    let mut args = args.iter().map(String::as_str);
    match args.next() {
        Some("create-api-key") => {}
        Some("seal-secrets") => {
            return match args.next() {
                None => Ok(Command::SealSecrets),
                Some("-h" | "--help") => Ok(Command::Help),
                Some(arg) => Err(format!("unexpected argument '{arg}'")),
            };
        }
        None | Some("-h" | "--help" | "help") => return Ok(Command::Help),
        Some(other) => return Err(format!("unknown command '{other}'")),
    }
    let mut account = None;
    while let Some(arg) = args.next() {
        let value = match arg.split_once('=') {
            Some(("--account", value)) => value,
            _ if arg == "--account" => args.next().ok_or("--account needs a value")?,
            _ if arg == "-h" || arg == "--help" => return Ok(Command::Help),
            _ => return Err(format!("unexpected argument '{arg}'")),
        };
        if account.is_some() {
            return Err("--account given twice".into());
        }
        account =
            Some(AccountId::parse(value).ok_or_else(|| {
                format!("'{value}' is not an account id (1 to 128 letters, digits, '_', '-' or '.')")
            })?);
    }
    let account = account.ok_or("--account is required")?;
    Ok(Command::CreateApiKey { account })
}

fn new_api_key() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; KEY_BYTES];
    getrandom::fill(&mut bytes)?;
    Ok(format!("{KEY_PREFIX}{}", hex::encode(bytes)))
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let account = match parse_args(&args) {
        Ok(Command::CreateApiKey { account }) => account,
        Ok(Command::SealSecrets) => return seal_secrets().await,
        Ok(Command::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(problem) => {
            eprintln!("apviso-admin: {problem}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let table = std::env::var(Tables::API_KEYS_VAR).unwrap_or_else(|_| Tables::default().api_keys);
    let key = match new_api_key() {
        Ok(key) => key,
        Err(e) => {
            eprintln!("apviso-admin: no randomness from the operating system: {e}");
            return ExitCode::FAILURE;
        }
    };
    let sdk = aws_config::load_defaults(BehaviorVersion::latest()).await;
    let store = DynamoApiKeyStore::new(aws_sdk_dynamodb::Client::new(&sdk), &table);
    if let Err(e) = store.put(&hash_api_key(&key), &account, &time_fmt::now()).await {
        eprintln!("apviso-admin: storing the key in table {table}: {e}");
        return ExitCode::FAILURE;
    }
    eprintln!("Created an API key for account {account} (SHA-256 stored in table {table}).");
    eprintln!("It is shown only now; send it as the X-API-Key header:");
    println!("{key}");
    ExitCode::SUCCESS
}

async fn seal_secrets() -> ExitCode {
    let Ok(key_arn) = std::env::var(SECRETS_KEY_ARN_VAR) else {
        eprintln!("apviso-admin: set {SECRETS_KEY_ARN_VAR} to the ARN of the stack's SecretsKey");
        return ExitCode::from(2);
    };
    let table = std::env::var(Tables::INTEGRATIONS_VAR).unwrap_or_else(|_| Tables::default().integrations);
    let sdk = aws_config::load_defaults(BehaviorVersion::latest()).await;
    let store = DynamoIntegrationStore::new(aws_sdk_dynamodb::Client::new(&sdk), &table);
    let keys = KmsKeyring::new(aws_sdk_kms::Client::new(&sdk), key_arn);
    match reseal::seal_plain_items(&store, &keys, &time_fmt::now()).await {
        Ok(report) => {
            eprintln!("Table {table}: {} sealed, {} had nothing in clear text.", report.sealed, report.untouched);
            for skipped in &report.skipped {
                eprintln!("skipped {skipped}");
            }
            if report.skipped.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
        }
        Err(e) => {
            eprintln!("apviso-admin: sealing secrets in table {table}: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test fails loudly on purpose")]

    use super::*;

    fn parse(args: &[&str]) -> Result<Command, String> {
        parse_args(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn parses_the_account_in_both_spellings() {
        let expected = Command::CreateApiKey { account: AccountId::parse("acct_42").unwrap() };
        assert_eq!(parse(&["create-api-key", "--account", "acct_42"]).unwrap(), expected);
        assert_eq!(parse(&["create-api-key", "--account=acct_42"]).unwrap(), expected);
        assert_eq!(parse(&[]).unwrap(), Command::Help);
        assert_eq!(parse(&["create-api-key", "--help"]).unwrap(), Command::Help);
        assert_eq!(parse(&["seal-secrets"]).unwrap(), Command::SealSecrets);
        assert!(parse(&["seal-secrets", "--now"]).unwrap_err().contains("unexpected"));
    }

    #[test]
    fn refuses_what_it_does_not_understand() {
        assert!(parse(&["create-api-key"]).unwrap_err().contains("required"));
        assert!(parse(&["create-api-key", "--account"]).unwrap_err().contains("needs a value"));
        assert!(parse(&["create-api-key", "--account", "bad#id"]).unwrap_err().contains("not an account id"));
        assert!(parse(&["create-api-key", "--account", "a", "--account", "b"]).unwrap_err().contains("twice"));
        assert!(parse(&["create-api-key", "--acount", "a"]).unwrap_err().contains("unexpected"));
        assert!(parse(&["delete-everything"]).unwrap_err().contains("unknown command"));
    }

    #[test]
    fn keys_are_prefixed_random_hex() {
        let (a, b) = (new_api_key().unwrap(), new_api_key().unwrap());
        assert_ne!(a, b);
        let hex = a.strip_prefix(KEY_PREFIX).unwrap();
        assert_eq!(hex.len(), 2 * KEY_BYTES);
        assert!(hex.bytes().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    }
}
