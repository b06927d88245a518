#!/usr/bin/env bash
# `make bench`: builds the release binaries (into target/bench-release, so the dev build is left
# alone), runs the criterion CPU benchmark, starts a private moto server, runs the benchmark
# driver (bench/), which writes BENCHMARKS.md, and stops moto on exit.
#
#   BENCH_ITEMS=1,5 make bench   only some items (1-9; 8 is the cost per million deliveries, 9 fair delivery); the report then goes to
#                                target/bench-release/BENCHMARKS.partial.md unless BENCH_OUT is set
#   BENCH_QUICK=1 make bench     small counts, for trying the machinery out (figures not comparable)
#   BENCH_TARGET_DIR=dir         another target directory (e.g. an empty one, to time a cold run)
#   BENCH_TRACE=150              prints a timeline on stderr (the pipeline's log events, SDK calls
#                                slower than 150 ms, item 9's queue depths); it adds load, so not
#                                for the figures that go into BENCHMARKS.md
set -euo pipefail
cd "$(dirname "$0")/../.."
. infra/scripts/moto.sh

started=$SECONDS
# Absolute: criterion runs with the package as its working directory and writes its results
# under $CARGO_TARGET_DIR/criterion, where the driver reads them.
CARGO_TARGET_DIR=$PWD/${BENCH_TARGET_DIR:-target/bench-release}
export CARGO_TARGET_DIR
mkdir -p "$CARGO_TARGET_DIR"
trap stop_moto EXIT INT TERM

all=1,2,3,4,5,6,7,8,9
items=${BENCH_ITEMS:-$all}
out=${BENCH_OUT:-}
if [ -z "$out" ]; then
    if [ "$items" = "$all" ]; then out=BENCHMARKS.md; else out=$CARGO_TARGET_DIR/BENCHMARKS.partial.md; fi
fi
quick=()
if [ -n "${BENCH_QUICK:-}" ]; then quick=(--quick); fi
has_item() { case ",$items," in *",$1,"*) return 0 ;; *) return 1 ;; esac; }

# Every function binary, built the way the release is (workspace [profile.release]), in one
# invocation with the driver and the hello-world floor.
# What the machine is doing before we add to it (the report's conditions).
BENCH_COLD=0
if [ ! -x "$CARGO_TARGET_DIR/release/apviso-bench" ]; then BENCH_COLD=1; fi
BENCH_LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
BENCH_OTHERS_BEFORE=$(ps -eo comm= | awk '/^(rustc|cargo|clippy-driver)$/ {n[$1]++} END {for (c in n) printf "%s%d× %s", (s++ ? ", " : ""), n[c], c}')
export BENCH_COLD BENCH_LOAD_BEFORE BENCH_OTHERS_BEFORE

packages=()
for dir in functions/*/; do
    packages+=(--package "$(basename "$dir")")
done
echo "== building $((${#packages[@]} / 2)) functions, the driver and hello-lambda (release) into $CARGO_TARGET_DIR"
t=$SECONDS
cargo build --release --locked --bins "${packages[@]}" --package apviso-bench
export BENCH_BUILD_SECS=$((SECONDS - t))

if has_item 7; then
    echo "== criterion: service/benches/delivery_cpu.rs"
    t=$SECONDS
    cargo bench --locked --package apviso-service --bench delivery_cpu
    export BENCH_CRITERION_SECS=$((SECONDS - t))
fi

start_moto "$CARGO_TARGET_DIR/moto-bench.log"
aws_local_env
echo "== moto for the benchmarks: $AWS_ENDPOINT_URL (pid $MOTO_PID)"
BENCH_RUSTC=$(rustc --version)
BENCH_MOTO=$("$MOTO_PYTHON" -c 'import moto; print(moto.__version__)')
export BENCH_RUSTC BENCH_MOTO

status=0
"$CARGO_TARGET_DIR/release/apviso-bench" --root "$PWD" --target-dir "$CARGO_TARGET_DIR" --out "$out" \
    --moto-pid "$MOTO_PID" --items "$items" "${quick[@]}" || status=$?
if [ -f "$out" ]; then
    elapsed=$((SECONDS - started))
    printf '\n_This `make bench` took %dm%02ds in all, builds included._\n' $((elapsed / 60)) $((elapsed % 60)) >>"$out"
    echo "== wrote $out in $((elapsed / 60))m$((elapsed % 60))s"
fi
exit "$status"
