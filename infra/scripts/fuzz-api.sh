#!/usr/bin/env bash
# Schema-driven fuzzing of the local API: starts moto and the local gateway (as `make run` does)
# and runs schemathesis against the document the service serves, with every check, so the
# document and the service cannot disagree unnoticed. The few answers a schema cannot predict are
# listed, with why, in infra/schemathesis.toml. Exits non-zero on any failure.
#
# FUZZ_MAX_EXAMPLES (default 50) bounds the cases per operation; the run takes under a minute.
# FUZZ_SEED (default 1) makes a run reproducible; set another to explore.
set -euo pipefail
cd "$(dirname "$0")/../.."
. infra/scripts/moto.sh

ST_VENV=.venv/schemathesis
ST_VERSION=4.32.5

ensure_schemathesis() {
    if ! "$ST_VENV/bin/st" --version 2>/dev/null | grep -q "$ST_VERSION"; then
        echo "schemathesis $ST_VERSION not found in $ST_VENV; installing it with pip" >&2
        ensure_venv_module
        rm -rf "$ST_VENV"
        python3 -m venv "$ST_VENV" >&2
        "$ST_VENV/bin/pip" install --quiet "schemathesis==$ST_VERSION" >&2
    fi
}

LOCAL_PID=
cleanup() {
    if [ -n "$LOCAL_PID" ] && kill -0 "$LOCAL_PID" 2>/dev/null; then
        kill "$LOCAL_PID" 2>/dev/null || true
        wait "$LOCAL_PID" 2>/dev/null || true
    fi
    stop_moto
}

mkdir -p target
ensure_schemathesis
# `--workspace --tests` resolves features as `cargo test --workspace` does: criterion, a
# dev-dependency, turns on `either/use_std` through itertools, and `either` sits under the whole
# AWS SDK through bytes-utils. So after the suite's own build this links one binary instead of
# rebuilding about a hundred crates (1 min 43 s on 2 cores); the test targets it also asks for
# are the ones `make test` has just built. The binary is the same service, with core's in-memory
# fakes compiled in and unused.
cargo build --locked --workspace --tests --bin apviso-local

trap cleanup EXIT INT TERM
start_moto target/moto-fuzz.log
aws_local_env
port=$(free_port)
base="http://127.0.0.1:$port"
APVISO_PORT=$port ./target/debug/apviso-local >target/fuzz-local.log 2>&1 &
LOCAL_PID=$!
for _ in $(seq 1 150); do
    curl -sf -o /dev/null "$base/v1/openapi.json" && break
    if ! kill -0 "$LOCAL_PID" 2>/dev/null; then
        echo "apviso-local exited during start-up; see target/fuzz-local.log" >&2
        exit 1
    fi
    sleep 0.2
done

# The stateful phase is left out: it would chain creates into `POST .../test`, which delivers to
# whatever public host the fuzzer invented and waits on the network.
"$ST_VENV/bin/st" --config-file infra/schemathesis.toml run "$base/v1/openapi.json" \
    --url "$base" \
    --header 'X-API-Key: apvk_local_dev' \
    --checks all \
    --phases examples,coverage,fuzzing \
    --max-examples "${FUZZ_MAX_EXAMPLES:-50}" \
    --seed "${FUZZ_SEED:-1}" \
    --workers 1 \
    --request-timeout 15 \
    --report junit --report-junit-path target/schemathesis-junit.xml
