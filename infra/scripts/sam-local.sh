#!/usr/bin/env bash
# `make sam-local`: every function of template.yaml run by the SAM CLI in Lambda containers
# (x86_64 builds of the same code) against a private moto emulator, each answer checked, then
# the HTTP API through `sam local start-api` and the real authorizer. Exits non-zero on any
# mismatch.
#
# Installs what is missing (docker.io, busybox-static and jq with apt-get when root; the SAM CLI
# and cargo-lambda with pip into .venv/), starts dockerd only when no daemon answers, and stops
# everything it started. The Lambda base image is built here from busybox and the libraries the
# bootstraps link (there is no container registry to pull it from). Work files: target/sam-local.
set -euo pipefail
cd "$(dirname "$0")/../.."
. infra/scripts/moto.sh

WORK=target/sam-local
LAMBDA_DIR=target/lambda-x86_64
BASE_IMAGE=public.ecr.aws/lambda/provided:al2023-x86_64
SAMPLE_ID=019414e0-f1a2-7b3c-94e5-6f7a8b9c0d1e # the integration id the samples in events/ use
GOOD_KEY=apvk_local_dev                       # seeded by apviso-local (infra/src/dev_keys.rs)
export SAM_CLI_TELEMETRY=0 SAM_SKIP_PULL_IMAGE=1 CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target/lambda-build}
started=$SECONDS
rm -rf "$WORK" && mkdir -p "$WORK/events"

# ------------------------------------------------------------------ tools
missing=()
command -v dockerd >/dev/null 2>&1 || docker info >/dev/null 2>&1 || missing+=(docker.io)
[ -x /bin/busybox ] || missing+=(busybox-static)
command -v jq >/dev/null 2>&1 || missing+=(jq)
command -v curl >/dev/null 2>&1 || missing+=(curl)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        echo "sam-local needs ${missing[*]} (Debian package names); install them and retry" >&2
        exit 1
    fi
    echo "installing ${missing[*]} with apt-get"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# venv_tool NAME PIP_SPEC: .venv/NAME/bin/NAME, installed there with pip on first use.
venv_tool() {
    if [ ! -x ".venv/$1/bin/$1" ]; then
        echo "$1 not found; installing $2 with pip into .venv/$1" >&2
        { ensure_venv_module && python3 -m venv ".venv/$1" >&2 && ".venv/$1/bin/pip" install --quiet "$2" >&2; } ||
            return 1
    fi
    echo "$PWD/.venv/$1/bin/$1"
}
# The SAM CLI of .venv/sam (shared with lint-template.sh) even when another is on PATH: its
# Python runs the template generator, which uses the SAM CLI's YAML reader.
SAM=$(venv_tool sam 'aws-sam-cli>=1.120,<2')
CARGO_LAMBDA=$(command -v cargo-lambda || venv_tool cargo-lambda 'cargo-lambda>=1.8,<2')
# cargo-lambda's venv also holds zig (its linker), found through that venv's python.
PATH="$(dirname "$CARGO_LAMBDA"):$PATH"

# ------------------------------------------------------------------ build
packages=()
for dir in functions/*/; do packages+=(--package "$(basename "$dir")"); done
echo "building the x86_64 bootstraps into $LAMBDA_DIR"
cargo lambda build --release --x86-64 --lambda-dir "$LAMBDA_DIR" "${packages[@]}"
# The provisioner of `make run` (tables, queues, Scheduler group, dev API keys): the dev build.
CARGO_TARGET_DIR=target cargo build --locked -p apviso-infra --bin apviso-local
"$(dirname "$SAM")/python" infra/scripts/sam_local_template.py template.yaml "$LAMBDA_DIR" "$WORK/template.yaml"

# ------------------------------------------------------------------ docker, emulator, clean-up
DOCKERD_PID=
cleanup() {
    [ -n "${API_PID:-}" ] && kill "$API_PID" 2>/dev/null && wait "$API_PID" 2>/dev/null
    [ -n "${LOCAL_PID:-}" ] && kill "$LOCAL_PID" 2>/dev/null && wait "$LOCAL_PID" 2>/dev/null
    stop_moto
    if [ -n "$DOCKERD_PID" ]; then
        # Containers of this run first (start-api leaves warm ones), then the daemon.
        docker ps -q --filter "label=sam.cli.container.type=lambda" | xargs -r docker rm -f >/dev/null 2>&1
        kill "$DOCKERD_PID" 2>/dev/null && wait "$DOCKERD_PID" 2>/dev/null
    fi
    return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! docker info >/dev/null 2>&1; then
    # --iptables=false: leave no firewall rules behind. Containers still reach the host.
    dockerd --iptables=false >"$WORK/dockerd.log" 2>&1 &
    DOCKERD_PID=$!
    for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
    docker info >/dev/null 2>&1 || { echo "dockerd did not start; see $WORK/dockerd.log" >&2; exit 1; }
    echo "started dockerd (pid $DOCKERD_PID)"
fi
# The host as the containers see it (the default bridge's address).
BRIDGE_IP=$(ip -4 -o addr show docker0 2>/dev/null | awk '{ split($4, a, "/"); print a[1]; exit }')
BRIDGE_IP=${BRIDGE_IP:-172.17.0.1}

# The Lambda base image: SAM only needs sh, mv and chmod in it (it adds its runtime interface
# emulator on top); the bootstraps need their shared libraries and CA certificates. Rebuilt
# when that list changes; SAM's derived `-rapid-` image is removed with the old one.
libs=$(for f in "$LAMBDA_DIR"/*/bootstrap; do ldd "$f"; done | grep -o '/[^ ]*' | sort -u)
image_key=$(echo "$libs" /bin/busybox /etc/ssl/certs/ca-certificates.crt | sha256sum | cut -c1-16)
if [ "$(docker image inspect -f '{{index .Config.Labels "apviso.base"}}' "$BASE_IMAGE" 2>/dev/null)" != "$image_key" ]; then
    echo "building $BASE_IMAGE from busybox and $(echo "$libs" | wc -l) libraries"
    root=$WORK/rootfs
    mkdir -p "$root/bin" "$root/tmp" "$root/var/task" "$root/etc/ssl/certs" "$root/etc/pki/tls/certs"
    cp /bin/busybox "$root/bin/"
    for applet in sh mv chmod cp rm mkdir ls cat; do ln -sf busybox "$root/bin/$applet"; done
    for lib in $libs; do mkdir -p "$root$(dirname "$lib")" && cp -L "$lib" "$root$lib"; done
    cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
    cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/pki/tls/certs/ca-bundle.crt"
    docker images --format '{{.Repository}}:{{.Tag}}' | { grep -e '-rapid-' || true; } | xargs -r docker rmi -f >/dev/null
    tar -C "$root" -c . | docker import --change "LABEL apviso.base=$image_key" - "$BASE_IMAGE" >/dev/null
fi

# moto on every address: the containers call it through the docker bridge.
MOTO_HOST=0.0.0.0 start_moto "$WORK/moto.log"
aws_local_env
export AWS_DEFAULT_REGION=$AWS_REGION
MOTO_PORT=${AWS_ENDPOINT_URL##*:}
# apviso-local creates the tables, queues, Scheduler group and sender identity and seeds the dev
# API keys; once it serves (banner printed) the stack exists, and it is stopped before its own
# pipeline could take messages off the queues.
APVISO_PORT=$(free_port) ./target/debug/apviso-local >"$WORK/apviso-local.log" 2>&1 &
LOCAL_PID=$!
for _ in $(seq 1 100); do grep -qs 'Press Ctrl-C' "$WORK/apviso-local.log" && break; sleep 0.2; done
grep -qs 'Press Ctrl-C' "$WORK/apviso-local.log" || { cat "$WORK/apviso-local.log" >&2; exit 1; }
kill "$LOCAL_PID"
wait "$LOCAL_PID" 2>/dev/null || true
LOCAL_PID=

# The values stack.rs gives the functions locally, with the emulator as containers reach it.
# No receiver can be reached from the containers (no route out, and targets on the bridge are
# refused), so delivery attempts time out: 3 s instead of 10 s keeps that short. The shared
# lane's budget is set above it, so those attempts run whole and are logged and retried here
# rather than moved to the slow lane (tests/tests/e2e/fair_delivery.rs covers that move).
Q=http://$BRIDGE_IP:$MOTO_PORT/123456789012
# The key apviso-local created for secrets at rest (infra/src/secrets_key.rs), by its alias.
SECRETS_KEY_ARN=$("$MOTO_PYTHON" -c 'import boto3, os, sys
kms = boto3.client("kms", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=os.environ["AWS_REGION"])
print(kms.describe_key(KeyId=sys.argv[1])["KeyMetadata"]["Arn"])' alias/apviso-secrets)
jq -n --arg ep "http://$BRIDGE_IP:$MOTO_PORT" --arg q "$Q" --arg key "$SECRETS_KEY_ARN" '{Parameters: {
    AWS_ENDPOINT_URL: $ep, APVISO_DELIVERY_TIMEOUT: "3s", APVISO_SHARED_LANE_BUDGET: "30s",
    APVISO_INTEGRATIONS_TABLE: "apviso-integrations", APVISO_API_KEYS_TABLE: "apviso-api-keys",
    APVISO_DELIVERY_LOGS_TABLE: "apviso-delivery-logs", APVISO_DIGESTS_TABLE: "apviso-digests",
    APVISO_DELIVERIES_QUEUE_URL: "\($q)/apviso-deliveries",
    APVISO_DELIVERIES_QUEUE_ARN: "arn:aws:sqs:us-east-1:123456789012:apviso-deliveries",
    APVISO_SLOW_DELIVERIES_QUEUE_URL: "\($q)/apviso-deliveries-slow",
    APVISO_SLOW_DELIVERIES_QUEUE_ARN: "arn:aws:sqs:us-east-1:123456789012:apviso-deliveries-slow",
    APVISO_EVENTS_DLQ_URL: "\($q)/apviso-events-dlq", APVISO_DELIVERIES_DLQ_URL: "\($q)/apviso-deliveries-dlq",
    APVISO_SCHEDULE_GROUP: "apviso-retries",
    APVISO_PAYLOAD_BUCKET: "apviso-payloads", APVISO_S3_PATH_STYLE: "true",
    APVISO_SCHEDULER_ROLE_ARN: "arn:aws:iam::123456789012:role/apviso-scheduler-local",
    APVISO_SECRETS_KEY_ARN: $key}}' >"$WORK/env.json"

# ------------------------------------------------------------------ checks
passed=0
failed=()
# check NAME ANSWER JQ_FILTER: passes when the filter is true for the answer.
check() {
    if jq -e "$3" >/dev/null 2>&1 <<<"$2"; then
        passed=$((passed + 1))
        echo "ok    $1"
    else
        failed+=("$1")
        echo "FAIL  $1: expected $3"
        echo "      got: ${2:0:600}"
    fi
}
# invoke FUNCTION EVENT_FILE: the function's answer; SAM's and the function's logs go to a file.
invoke() {
    echo "== sam local invoke $1 -e $2" >>"$WORK/sam-invoke.log"
    "$SAM" local invoke "$1" -t "$WORK/template.yaml" -e "$2" --env-vars "$WORK/env.json" \
        --skip-pull-image 2>>"$WORK/sam-invoke.log" || true
}
# sample FILE: events/FILE with the sample integration ids replaced by the one created here.
sample() {
    sed -E "s/019414e0-f1a2-7b3c-94e5-6f7a8b9c0d[0-9a-f]{2}/${ID:-$SAMPLE_ID}/g" "events/$1" >"$WORK/events/$1"
    echo "$WORK/events/$1"
}
# derived METHOD ROUTE_PATH: the GET sample turned into another route's event (the routes
# without a sample of their own), as bench/src/lambda.rs derives them.
derived() {
    local path=${2//\{id\}/$ID} out
    path=${path//\{logId\}/${LOG_ID:-}}
    out="$WORK/events/derived-$1-$(echo "$2" | tr -c 'a-zA-Z' '-').json"
    jq --arg rk "$1 $2" --arg m "$1" --arg p "$path" --arg id "$ID" --arg log "${LOG_ID:-}" '
        .routeKey = $rk | .rawPath = $p | .requestContext.routeKey = $rk
        | .requestContext.http.method = $m | .requestContext.http.path = $p
        | .pathParameters = ({id: $id} + if $log == "" then {} else {logId: $log} end)' \
        "$(sample apigw-v2-get-integration.json)" >"$out"
    echo "$out"
}
# batch PREFIX: one SQS event holding the records of every events/PREFIX*.json sample.
batch() {
    local f out="$WORK/events/batch-of-$1.json"
    for f in events/"$1"*.json; do sample "$(basename "$f")" >/dev/null; done
    jq -s '{Records: map(.Records[])}' "$WORK/events/$1"*.json >"$out"
    echo "$out"
}
# queue_counts NAME: "<visible> <delayed>" messages of a queue in the emulator.
queue_counts() {
    curl -s "$AWS_ENDPOINT_URL/" -H 'Content-Type: application/x-amz-json-1.0' \
        -H 'X-Amz-Target: AmazonSQS.GetQueueAttributes' \
        -H 'Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0' \
        -d "{\"QueueUrl\": \"$AWS_ENDPOINT_URL/123456789012/$1\", \"AttributeNames\": [\"All\"]}" |
        jq -r '.Attributes | "\(.ApproximateNumberOfMessages) \(.ApproximateNumberOfMessagesDelayed)"'
}
# api ANSWER: an API Gateway v2 answer as {status, body}, the body parsed.
api() { jq -c '{status: .statusCode, body: (.body | fromjson? // .)}' <<<"$1" 2>/dev/null || echo "$1"; }

echo "== sam local invoke: every function with its sample from events/ ($WORK/sam-invoke.log)"
a=$(invoke AuthorizerFunction "$(sample authorizer-request.json)")
check "authorizer: the dev key is authorized for acct_local" "$a" '.isAuthorized == true and .context.accountId == "acct_local"'
jq '.identitySource = ["apvk_wrong_key"] | .headers["x-api-key"] = "apvk_wrong_key"' events/authorizer-request.json >"$WORK/events/authorizer-wrong-key.json"
a=$(invoke AuthorizerFunction "$WORK/events/authorizer-wrong-key.json")
check "authorizer: an unknown key gets no account" "$a" '(.context.accountId // null) == null'
a=$(api "$(invoke ApiOpenapiFunction "$(sample apigw-v2-openapi.json)")")
check "GET /v1/openapi.json: 200 and OpenAPI 3.1" "$a" '.status == 200 and (.body.openapi | startswith("3.1"))'
a=$(api "$(invoke ApiListProvidersFunction "$(sample apigw-v2-list-providers.json)")")
check "GET /v1/integrations/providers: 200, five providers" "$a" '.status == 200 and ([.body.providers[].id] | length) == 5'
a=$(api "$(invoke ApiCreateIntegrationFunction "$(sample apigw-v2-create-integration.json)")")
check "POST /v1/integrations: 201, a Slack integration" "$a" '.status == 201 and .body.provider == "slack" and (.body.credentials == null)'
ID=$(jq -r '.body.id // empty' <<<"$a")
ID=${ID:-$SAMPLE_ID}
a=$(api "$(invoke ApiListIntegrationsFunction "$(sample apigw-v2-list-integrations.json)")")
check "GET /v1/integrations: 200, lists it" "$a" ".status == 200 and ([.body.data[].id] | index(\"$ID\") != null)"
a=$(api "$(invoke ApiGetIntegrationFunction "$(sample apigw-v2-get-integration.json)")")
check "GET /v1/integrations/{id}: 200, the one created" "$a" ".status == 200 and .body.id == \"$ID\" and .body.minimumSeverity == \"high\""
a=$(api "$(invoke ApiUpdateIntegrationFunction "$(sample apigw-v2-update-integration.json)")")
check "PATCH /v1/integrations/{id}: 200, updated" "$a" '.status == 200 and .body.minimumSeverity == "medium" and (.body.enabledEvents | index("scan.failed") != null)'
# The sample integration is Slack's, which has no signing secret: refused before anything is opened.
jq '.body = "{\"secret\": \"a-new-signing-secret-0123\"}" | .isBase64Encoded = false
    | .headers["content-type"] = "application/json"' \
    "$(derived POST '/v1/integrations/{id}/rotate-secret')" >"$WORK/events/rotate-secret.json"
a=$(api "$(invoke ApiRotateSecretFunction "$WORK/events/rotate-secret.json")")
check "POST /v1/integrations/{id}/rotate-secret: 409 unsupported_provider (a Slack integration)" "$a" '.status == 409 and .body.error.code == "unsupported_provider"'

read -r before _ <<<"$(queue_counts apviso-deliveries)"
ev=$(batch sqs-ingest-)
a=$(invoke FanoutFunction "$ev")
check "fanout: batch of $(jq '.Records | length' "$ev") ingest events, no failures" "$a" '.batchItemFailures == []'
read -r after _ <<<"$(queue_counts apviso-deliveries)"
# Subscribed (after the PATCH): finding.critical, scan.completed, scan.failed, report.ready.
check "fanout: 4 deliveries queued" "{\"queued\": $((after - before))}" '.queued == 4'

read -r _ delayed_before <<<"$(queue_counts apviso-deliveries)"
ev=$(batch sqs-delivery-)
a=$(invoke DeliveryFunction "$ev")
n=$(jq '.Records | length' "$ev")
check "delivery: batch of $n deliveries, no failures" "$a" '.batchItemFailures == []'
read -r _ delayed_after <<<"$(queue_counts apviso-deliveries)"
# hooks.slack.com is out of reach from here: each attempt fails and is retried in 1 minute.
check "delivery: $n retries queued with a delay" "{\"delayed\": $((delayed_after - delayed_before))}" ".delayed == $n"

a=$(api "$(invoke ApiTestIntegrationFunction "$(derived POST '/v1/integrations/{id}/test')")")
check "POST /v1/integrations/{id}/test: 200, the failed attempt reported" "$a" '.status == 200 and .body.success == false and (.body.error | length) > 0'
a=$(api "$(invoke ApiListDeliveryLogsFunction "$(derived GET '/v1/integrations/{id}/logs')")")
check "GET /v1/integrations/{id}/logs: 200, $((n + 1)) attempts logged" "$a" ".status == 200 and (.body.data | length) == $((n + 1))"
LOG_ID=$(jq -r '.body.data[0].id // empty' <<<"$a")
a=$(api "$(invoke ApiGetDeliveryLogFunction "$(derived GET '/v1/integrations/{id}/logs/{logId}')")")
check "GET /v1/integrations/{id}/logs/{logId}: 200, that attempt" "$a" ".status == 200 and .body.id == \"$LOG_ID\""
a=$(api "$(invoke ApiFallbackFunction "$(sample apigw-v2-default-route.json)")")
check "\$default (GET /v1/integration): 404 not_found" "$a" '.status == 404 and .body.error.code == "not_found"'
a=$(api "$(invoke ApiDeleteIntegrationFunction "$(sample apigw-v2-delete-integration.json)")")
check "DELETE /v1/integrations/{id}: 200" "$a" '.status == 200 and .body.message == "Integration deleted successfully"'
a=$(api "$(invoke ApiGetIntegrationFunction "$(sample apigw-v2-get-integration.json)")")
check "GET /v1/integrations/{id} after DELETE: 404" "$a" '.status == 404 and .body.error.code == "not_found"'

echo "== sam local start-api: the routes through the authorizer ($WORK/start-api.log)"
API_PORT=$(free_port)
B=http://127.0.0.1:$API_PORT
"$SAM" local start-api -t "$WORK/template.yaml" --env-vars "$WORK/env.json" --port "$API_PORT" \
    --skip-pull-image --warm-containers LAZY >"$WORK/start-api.log" 2>&1 &
API_PID=$!
for _ in $(seq 1 150); do curl -s -o /dev/null "$B/v1/openapi.json" && break; sleep 0.2; done
# http METHOD PATH [KEY] [BODY]: {status, body} of one request through the local gateway.
http() {
    local code
    code=$(curl -s -o "$WORK/body" -w '%{http_code}' -X "$1" "$B$2" ${3:+-H "X-API-Key: $3"} \
        ${4:+-H 'Content-Type: application/json' --data "$4"}) || code=0
    jq -c --argjson s "$code" '{status: $s, body: .}' "$WORK/body" 2>/dev/null || echo "{\"status\": $code}"
}
check "no key: 401 from the gateway" "$(http GET /v1/integrations)" '.status == 401 and .body.message == "Unauthorized"'
check "wrong key: 401 from the function" "$(http GET /v1/integrations apvk_wrong_key)" '.status == 401 and .body.error.code == "unauthorized"'
check "good key: GET /v1/integrations 200" "$(http GET /v1/integrations "$GOOD_KEY")" '.status == 200 and (.body.data | type) == "array"'
check "good key: GET /v1/integrations/providers 200" "$(http GET /v1/integrations/providers "$GOOD_KEY")" '.status == 200 and (.body.providers | length) == 5'
a=$(http POST /v1/integrations "$GOOD_KEY" "$(jq -r .body events/apigw-v2-create-integration.json)")
check "good key: POST /v1/integrations 201" "$a" '.status == 201 and .body.provider == "slack"'
ID=$(jq -r '.body.id // "none"' <<<"$a")
check "good key: GET /v1/integrations/{id} 200" "$(http GET "/v1/integrations/$ID" "$GOOD_KEY")" ".status == 200 and .body.id == \"$ID\""
check "wrong key: GET /v1/integrations/{id} 401" "$(http GET "/v1/integrations/$ID" apvk_wrong_key)" '.status == 401'
check "good key: PATCH /v1/integrations/{id} 200" "$(http PATCH "/v1/integrations/$ID" "$GOOD_KEY" '{"name": "Renamed"}')" '.status == 200 and .body.name == "Renamed"'
check "good key: POST /v1/integrations/{id}/rotate-secret 409 (Slack)" "$(http POST "/v1/integrations/$ID/rotate-secret" "$GOOD_KEY" '{"secret": "a-new-signing-secret-0123"}')" '.status == 409 and .body.error.code == "unsupported_provider"'
check "good key: POST /v1/integrations/{id}/test 200" "$(http POST "/v1/integrations/$ID/test" "$GOOD_KEY")" '.status == 200 and .body.success == false'
a=$(http GET "/v1/integrations/$ID/logs" "$GOOD_KEY")
check "good key: GET /v1/integrations/{id}/logs 200" "$a" '.status == 200 and (.body.data | length) == 1'
LOG_ID=$(jq -r '.body.data[0].id // "none"' <<<"$a")
check "good key: GET /v1/integrations/{id}/logs/{logId} 200" "$(http GET "/v1/integrations/$ID/logs/$LOG_ID" "$GOOD_KEY")" ".status == 200 and .body.id == \"$LOG_ID\""
check "good key: DELETE /v1/integrations/{id} 200" "$(http DELETE "/v1/integrations/$ID" "$GOOD_KEY")" '.status == 200'
check "no key: GET /v1/openapi.json 200 (no authorizer)" "$(http GET /v1/openapi.json)" '.status == 200 and (.body.openapi | startswith("3.1"))'
check "no key: unknown path 404 from \$default" "$(http GET /v1/nothing-here)" '.status == 404 and .body.error.code == "not_found"'

elapsed=$((SECONDS - started))
echo "sam-local: $passed passed, ${#failed[@]} failed in $((elapsed / 60))m$((elapsed % 60))s"
[ ${#failed[@]} -eq 0 ] || { printf 'failed: %s\n' "${failed[@]}"; exit 1; }
