# Sourced by the local-stack, test and bench scripts: installs moto into the project's own venv
# (.venv/moto, so a stock Debian/Ubuntu Python with PEP 668 works) and starts a private emulator
# (infra/emulator/serve.py: moto with DynamoDB requests isolated per item) on a free loopback port.
# Sets AWS_ENDPOINT_URL, MOTO_PID and MOTO_PYTHON.

MOTO_VENV=.venv/moto
MOTO_PYTHON=$MOTO_VENV/bin/python

# ensure_venv_module: Debian and Ubuntu ship `python3 -m venv` in a separate package.
ensure_venv_module() {
    if python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
        return 0
    fi
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        echo "python3 has no venv module; installing python3-venv with apt-get" >&2
        apt-get update -qq >&2 && apt-get install -y -qq python3-venv >&2
    else
        echo "python3 has no venv module: install python3-venv (Debian/Ubuntu) and retry" >&2
        return 1
    fi
}

ensure_moto() {
    if ! "$MOTO_PYTHON" -c 'import moto.server, flask' >/dev/null 2>&1; then
        echo "moto server not found in $MOTO_VENV; installing moto[server] with pip" >&2
        ensure_venv_module
        rm -rf "$MOTO_VENV"
        python3 -m venv "$MOTO_VENV" >&2
        "$MOTO_VENV/bin/pip" install --quiet 'moto[server]>=5.1,<6' >&2
    fi
}

free_port() {
    "$MOTO_PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# start_moto LOGFILE: start moto in the background and wait until it answers.
start_moto() {
    local log=${1:-/dev/null}
    ensure_moto
    local port host=${MOTO_HOST:-127.0.0.1}
    port=$(free_port)
    # The venv's interpreter itself, not a shim, so MOTO_PID is the server's own PID.
    "$MOTO_PYTHON" infra/emulator/serve.py "$host" "$port" >"$log" 2>&1 &
    MOTO_PID=$!
    export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
    for _ in $(seq 1 100); do
        if curl -sf "$AWS_ENDPOINT_URL/moto-api/" >/dev/null 2>&1; then
            return 0
        fi
        if ! kill -0 "$MOTO_PID" 2>/dev/null; then
            echo "moto server exited during start-up; see $log" >&2
            return 1
        fi
        sleep 0.2
    done
    echo "moto server did not answer on $AWS_ENDPOINT_URL within 20 s" >&2
    return 1
}

stop_moto() {
    if [ -n "${MOTO_PID:-}" ] && kill -0 "$MOTO_PID" 2>/dev/null; then
        kill "$MOTO_PID" 2>/dev/null || true
        wait "$MOTO_PID" 2>/dev/null || true
    fi
}

# The SDK needs a region and some credentials; moto accepts any.
aws_local_env() {
    export AWS_REGION=${AWS_REGION:-us-east-1}
    export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-test}
    export AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-test}
}
