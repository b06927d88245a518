# Sourced by the local-stack and test scripts: makes sure moto is installed and starts a private
# moto server on a free loopback port. Sets AWS_ENDPOINT_URL and MOTO_PID.

ensure_moto() {
    if ! python3 -c 'import moto.server, flask' >/dev/null 2>&1; then
        echo "moto server not found; installing moto[server] with pip" >&2
        python3 -m pip install --quiet 'moto[server]>=5.1,<6'
    fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# start_moto LOGFILE: start moto in the background and wait until it answers.
start_moto() {
    local log=${1:-/dev/null}
    ensure_moto
    local port
    port=$(free_port)
    # The module entry point, not a shim, so MOTO_PID is the server's own PID.
    python3 -m moto.server -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
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
