#!/usr/bin/env bash
# `make run`: builds and starts the whole service on this machine. Uses the emulator in
# AWS_ENDPOINT_URL when it answers, otherwise starts a moto server of its own. Ctrl-C stops
# everything this script started.
set -euo pipefail
cd "$(dirname "$0")/../.."
. infra/scripts/moto.sh

mkdir -p target
cargo build --locked -p apviso-infra --bin apviso-local

if [ -n "${AWS_ENDPOINT_URL:-}" ] && curl -s -o /dev/null "$AWS_ENDPOINT_URL"; then
    echo "using the emulator at $AWS_ENDPOINT_URL"
else
    trap stop_moto EXIT INT TERM
    start_moto target/moto-local.log
    echo "started moto server at $AWS_ENDPOINT_URL (log: target/moto-local.log)"
fi
aws_local_env
# Local receivers on 127.0.0.1 are the only way to watch deliveries here; never set in AWS.
export APVISO_ALLOW_LOOPBACK_TARGETS=true

./target/debug/apviso-local
