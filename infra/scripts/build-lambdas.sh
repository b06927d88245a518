#!/usr/bin/env bash
# Builds every function under functions/ for Lambda (provided.al2023, arm64, release) with
# cargo-lambda, as zips in target/lambda-arm64/<function>/bootstrap.zip, then prints each
# binary's and zip's size. `sam build` does the same per function; this is the quick check.
#
# Uses its own target dir (target/lambda-build) so it never invalidates the dev build. Installs
# cargo-lambda (with zig) via pip into .venv/cargo-lambda and the aarch64 Rust target if missing.
set -euo pipefail
cd "$(dirname "$0")/../.."

LAMBDA_DIR=target/lambda-arm64
TRIPLE=aarch64-unknown-linux-gnu
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target/lambda-build}

if ! command -v cargo-lambda >/dev/null 2>&1; then
    if [ ! -x .venv/cargo-lambda/bin/cargo-lambda ]; then
        echo "cargo-lambda not found; installing it (and zig) with pip into .venv/cargo-lambda" >&2
        python3 -m venv .venv/cargo-lambda
        .venv/cargo-lambda/bin/pip install --quiet 'cargo-lambda>=1.8,<2'
    fi
    # Also puts the venv's python (and its ziglang module, cargo-lambda's linker) first.
    export PATH="$PWD/.venv/cargo-lambda/bin:$PATH"
fi

# rust-toolchain.toml applies here, so the target is added to the pinned toolchain.
if ! rustup target list --installed | grep -qx "$TRIPLE"; then
    rustup target add "$TRIPLE"
fi

functions=()
for dir in functions/*/; do
    functions+=("$(basename "$dir")")
done
packages=()
for f in "${functions[@]}"; do
    packages+=(--package "$f")
done

echo "building ${#functions[@]} functions with $(cargo lambda --version) into $LAMBDA_DIR"
start=$SECONDS
cargo lambda build --release --arm64 --output-format zip --lambda-dir "$LAMBDA_DIR" "${packages[@]}"
elapsed=$((SECONDS - start))

human() { numfmt --to=iec-i --suffix=B --format='%.1f' "$1"; }
printf '\n%-26s %12s %12s\n' function binary zip
total=0
for f in "${functions[@]}"; do
    bin="$CARGO_TARGET_DIR/$TRIPLE/release/$f"
    zip="$LAMBDA_DIR/$f/bootstrap.zip"
    if [ ! -f "$bin" ] || [ ! -f "$zip" ]; then
        echo "missing artifact for $f ($bin or $zip)" >&2
        exit 1
    fi
    zip_size=$(stat -c %s "$zip")
    total=$((total + zip_size))
    printf '%-26s %12s %12s\n' "$f" "$(human "$(stat -c %s "$bin")")" "$(human "$zip_size")"
done
printf '%-26s %12s %12s\n' total "" "$(human "$total")"
echo "built in $((elapsed / 60))m$((elapsed % 60))s"
