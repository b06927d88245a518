#!/usr/bin/env bash
# `make chaos`: the local stack against a private emulator behind a fault-injecting proxy, with
# the pipeline SIGKILLed and restarted mid-flight and a flaky receiver; reports every (event,
# integration) pair as delivered, failed after all attempts or lost. Exits non-zero if anything
# is lost or a delivery id differs across attempts. CHAOS_DELIVERIES=300 is the short CI run.
# Logs and report.json land in target/chaos/.
set -euo pipefail
cd "$(dirname "$0")/../.."
. infra/scripts/moto.sh

mkdir -p target/chaos
cargo build --locked -p apviso-infra --bin apviso-local

# Always a private emulator: the accounting reads every queue and table of the stack.
unset AWS_ENDPOINT_URL
trap stop_moto EXIT INT TERM
start_moto target/chaos/moto.log
aws_local_env
echo "moto server for the chaos run: $AWS_ENDPOINT_URL"

"$MOTO_PYTHON" -c 'import boto3' 2>/dev/null || "$MOTO_VENV/bin/pip" install --quiet boto3 >&2
CHAOS_DIR=target/chaos CHAOS_BINARY=target/debug/apviso-local "$MOTO_PYTHON" infra/chaos/driver.py
