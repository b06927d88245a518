#!/usr/bin/env bash
# `make test`: formatting, lints and the whole test suite against a private moto server that is
# started here and torn down on exit.
set -euo pipefail
cd "$(dirname "$0")/../.."
. infra/scripts/moto.sh

mkdir -p target
trap stop_moto EXIT INT TERM
start_moto target/moto-test.log
aws_local_env
# Tests create their own uniquely named tables, so nothing else needs resetting between runs.
echo "moto server for tests: $AWS_ENDPOINT_URL"
# The emulator must give DynamoDB's conditional-write guarantee under concurrency (moto alone
# does not); the optimistic-concurrency tests rely on it.
"$MOTO_PYTHON" infra/emulator/race_check.py
# It must also hand out SQS messages as fair queues do (moto alone serves arrival order); the
# fair-delivery tests and bench item rely on it.
"$MOTO_PYTHON" infra/emulator/fair_check.py

# Layers stay layers: no two modules of core or service import each other, directly or around.
"$MOTO_PYTHON" infra/scripts/module_cycles.py
cargo fmt --all --check
./infra/scripts/lint-template.sh
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked --no-fail-fast
# The served OpenAPI document against the running service, by a schema-driven fuzzer (its own
# moto and local gateway; under a minute).
./infra/scripts/fuzz-api.sh
