"""`make chaos`: the local stack under failure, and an account of every delivery.

Starts the fault-injecting proxy (proxy.py) in front of the emulator, the flaky receiver
(receiver.py) and apviso-local with AWS_ENDPOINT_URL pointing at the proxy; creates webhook
integrations through the API; publishes ingest events straight to the emulator; SIGKILLs and
restarts the pipeline while deliveries are in flight; waits until the queues are drained and no
retry schedule is pending; then reports, for every expected (event, integration) pair, whether
it was delivered, failed after all attempts, or lost, plus duplicates, pairs with more than one
delivery id, and dead-letter depths. Exits 1 if anything is lost or a delivery id is wrong.

Run through infra/scripts/chaos.sh, which builds apviso-local, starts a private emulator and
calls this with the emulator's Python (it has boto3). Settings come from CHAOS_* variables;
see the README's "Chaos run" section.
"""

import hashlib
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import boto3
from botocore.config import Config as BotoConfig

ACCOUNT = "acct_local"
API_KEY = "apvk_local_dev"
SECRET = "chaos-run-signing-secret-0123456789"
PREFIX = "apviso-"
SEVERITIES = ["critical", "high", "medium", "low", "info"]
# What the integrations subscribe to: the matching rules (most specific finding type wins,
# minimumSeverity filters findings only) decide which pairs exist.
INTEGRATIONS = [
    (
        "everything",
        [
            "scan.started",
            "scan.progress",
            "scan.completed",
            "scan.failed",
            "finding.new",
            "report.ready",
            "schedule.triggered",
            "schedule.skipped",
        ],
        None,
    ),
    ("severe", ["finding.critical", "finding.high", "scan.completed", "scan.failed"], "high"),
    ("scans", ["scan.started", "scan.completed", "scan.failed", "report.ready"], None),
    ("findings", ["finding.new", "finding.critical", "scan.progress"], "medium"),
]
EVENT_MIX = [
    ("finding.new", 40),
    ("scan.started", 10),
    ("scan.progress", 10),
    ("scan.completed", 10),
    ("scan.failed", 5),
    ("report.ready", 10),
    ("schedule.triggered", 8),
    ("schedule.skipped", 7),
]
NON_RETRYABLE_CODES = {"E_BLOCKED_TARGET", "E_INVALID_REQUEST"}


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def log(message: str) -> None:
    print(f"[chaos {time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def expected_delivery_id(event_id: str, integration_id: str) -> str:
    """The documented derivation (core/src/pipeline/delivery_id.rs), recomputed here."""
    event = event_id.encode()
    digest = hashlib.sha256(
        b"apviso.delivery-id.v1\0" + len(event).to_bytes(8, "big") + event + uuid.UUID(integration_id).bytes
    ).digest()
    raw = bytearray(digest[:16])
    raw[6] = (raw[6] & 0x0F) | 0x80
    raw[8] = (raw[8] & 0x3F) | 0x80
    return str(uuid.UUID(bytes=bytes(raw)))


assert (
    expected_delivery_id("evt_1", "01900000-0000-7000-8000-000000000001") == "9697b35a-3792-88b1-9393-3d47770a007e"
)


def delivered_type(subscriptions: list[str], minimum: str | None, event: dict) -> str | None:
    """The README's matching rule, restated: which type an integration receives, if any."""
    kind = event["event"]
    if kind != "finding.new":
        return kind if kind in subscriptions else None
    severity = event["data"]["severity"]
    if minimum and SEVERITIES.index(severity) > SEVERITIES.index(minimum):
        return None
    specific = {"critical": "finding.critical", "high": "finding.high"}.get(severity)
    if specific and specific in subscriptions:
        return specific
    return "finding.new" if "finding.new" in subscriptions else None


def make_event(n: int, run: str, rng: random.Random) -> dict:
    kind = rng.choices([k for k, _ in EVENT_MIX], weights=[w for _, w in EVENT_MIX])[0]
    scan = f"scn_{run}_{n // 7}"
    target = "https://app.example.com"
    data: dict
    if kind == "finding.new":
        data = {
            "id": f"fnd_{run}_{n}",
            "scanId": scan,
            "title": f"Finding {n}",
            "severity": rng.choice(SEVERITIES),
            "cvssScore": round(rng.uniform(0, 10), 1),
            "endpoint": f"https://app.example.com/path/{n}",
            "description": "Found by the chaos run.",
            "reproductionSteps": "1. Run make chaos",
            "remediation": "None needed.",
        }
    elif kind.startswith("scan."):
        data = {"scanId": scan, "target": target, "status": "running", "progress": n % 100}
        if kind == "scan.completed":
            data.update(status="completed", progress=100, summary={"critical": 1, "high": 0, "medium": 0, "low": 0, "info": 0})
        if kind == "scan.failed":
            data.update(status="failed", error="Target stopped answering")
    elif kind == "report.ready":
        data = {"reportId": f"rpt_{run}_{n}", "scanId": scan, "downloadUrl": f"https://apviso.com/reports/{n}.pdf"}
    elif kind == "schedule.triggered":
        data = {"scheduleId": f"sch_{n}", "scanId": scan, "target": target}
    else:
        data = {"scheduleId": f"sch_{n}", "target": target, "reason": "A scan of this target is already running"}
    return {
        "id": f"evt_chaos_{run}_{n:06d}",
        "accountId": ACCOUNT,
        "event": kind,
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "data": data,
    }


@dataclass
class PairState:
    event_type: str
    delivery_id: str
    ok: int = 0  # requests answered 2xx
    attempts: int = 0  # requests seen by the receiver
    ids_seen: set = field(default_factory=set)
    wrong_type: set = field(default_factory=set)
    unsigned: int = 0


class Pipeline:
    """apviso-local as a child process we can SIGKILL and restart."""

    def __init__(self, binary: str, env: dict, log_path: str, api: str):
        self.binary, self.env, self.log_path, self.api = binary, env, log_path, api
        self.proc: subprocess.Popen | None = None
        self.kills = 0
        self.unexpected_exits: list[int] = []
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        with open(self.log_path, "a") as out:
            out.write(f"\n===== chaos driver: start #{self.starts} at {time.strftime('%H:%M:%S')} =====\n")
            out.flush()
            self.proc = subprocess.Popen([self.binary], env=self.env, stdout=out, stderr=subprocess.STDOUT)

    def ready(self, timeout: float) -> bool:
        """Waits until the API answers an authenticated request (provisioning is done by then)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            self.check_alive()
            try:
                req = urllib.request.Request(f"{self.api}/v1/integrations/providers", headers={"X-API-Key": API_KEY})
                with urllib.request.urlopen(req, timeout=5) as resp:
                    if resp.status == 200:
                        return True
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.3)
        return False

    def check_alive(self) -> None:
        """Restarts the process if it died without us killing it (and remembers that)."""
        if self.proc is not None and self.proc.poll() is not None:
            self.unexpected_exits.append(self.proc.returncode)
            log(f"apviso-local exited on its own with status {self.proc.returncode}; restarting it")
            self.start()

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.kills += 1

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def api_call(api: str, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        f"{api}{path}", data=data, method=method, headers={"X-API-Key": API_KEY, "Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def set_share(proxy: str, share: float) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{proxy}/__chaos__/rate?share={share}", method="POST"), timeout=5)


def proxy_stats(proxy: str) -> dict:
    with urllib.request.urlopen(f"{proxy}/__chaos__/stats", timeout=5) as resp:
        return json.loads(resp.read())


class Records:
    """Incrementally reads the receiver's JSON lines."""

    def __init__(self, path: str):
        self.path, self.offset, self.lines = path, 0, []

    def poll(self) -> list[dict]:
        new = []
        with open(self.path, "rb") as f:
            f.seek(self.offset)
            chunk = f.read()
        complete = chunk[: chunk.rfind(b"\n") + 1]
        self.offset += len(complete)
        for raw in complete.splitlines():
            if raw.strip():
                new.append(json.loads(raw))
        self.lines.extend(new)
        return new


def queue_depths(sqs, urls: dict[str, str]) -> dict[str, int]:
    names = [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
    ]
    out = {}
    for key, url in urls.items():
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
        out[key] = sum(int(attrs.get(n, 0)) for n in names)
    return out


def drain_dlq(sqs, url: str) -> list[tuple[str, str | None]]:
    """Every message of a dead-letter queue: (body, apviso-rejection-reason or None)."""
    found, empty_rounds = [], 0
    while empty_rounds < 2:
        out = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600, WaitTimeSeconds=0, MessageAttributeNames=["All"]
        )
        messages = out.get("Messages", [])
        if not messages:
            empty_rounds += 1
            continue
        for m in messages:
            reason = m.get("MessageAttributes", {}).get("apviso-rejection-reason", {}).get("StringValue")
            found.append((m["Body"], reason))
    return found


def scan_logs(dynamodb, table: str) -> list[dict]:
    items, start = [], None
    while True:
        kwargs = {"TableName": table}
        if start:
            kwargs["ExclusiveStartKey"] = start
        out = dynamodb.scan(**kwargs)
        items.extend(out.get("Items", []))
        start = out.get("LastEvaluatedKey")
        if not start:
            return items


def attr(item: dict, name: str):
    value = item.get(name)
    if value is None:
        return None
    kind, raw = next(iter(value.items()))
    if kind == "N":
        return int(raw)
    if kind == "NULL":
        return None
    if kind == "M":
        return {k: attr(raw, k) for k in raw}
    if kind == "L":
        return [attr({"x": v}, "x") for v in raw]
    return raw


def main() -> int:
    started = time.time()
    deliveries = env_int("CHAOS_DELIVERIES", 5000)
    aws_share = env_float("CHAOS_AWS_FAILURE_SHARE", 0.10)
    receiver_share = env_float("CHAOS_RECEIVER_FAILURE_SHARE", 0.30)
    kills_wanted = env_int("CHAOS_KILLS", max(2, min(6, deliveries // 1000)))
    window = env_int("CHAOS_WINDOW", 300)
    timeout = env_float("CHAOS_TIMEOUT", max(900.0, deliveries * 0.6))
    seed = env_int("CHAOS_SEED", int(time.time()))
    schedule = os.environ.get("CHAOS_RETRY_SCHEDULE", "2s,5s,15s,30s")
    sqs_max_delay = os.environ.get("CHAOS_SQS_MAX_DELAY", "10s")
    binary = os.environ.get("CHAOS_BINARY", "target/debug/apviso-local")
    out_dir = os.environ.get("CHAOS_DIR", "target/chaos")
    emulator = os.environ["AWS_ENDPOINT_URL"]
    python = sys.executable
    here = os.path.dirname(os.path.abspath(__file__))
    os.makedirs(out_dir, exist_ok=True)
    rng = random.Random(seed)
    run = uuid.uuid4().hex[:8]

    boto = BotoConfig(retries={"max_attempts": 10, "mode": "standard"}, max_pool_connections=4)
    session = boto3.session.Session(region_name=os.environ.get("AWS_REGION", "us-east-1"))
    sqs = session.client("sqs", endpoint_url=emulator, config=boto)
    dynamodb = session.client("dynamodb", endpoint_url=emulator, config=boto)
    scheduler = session.client("scheduler", endpoint_url=emulator, config=boto)

    proxy_port, receiver_port, api_port = free_port(), free_port(), free_port()
    proxy = f"http://127.0.0.1:{proxy_port}"
    api = f"http://127.0.0.1:{api_port}"
    record_path = os.path.join(out_dir, "receiver.jsonl")
    open(record_path, "w").close()
    pipeline_log = os.path.join(out_dir, "apviso-local.log")
    open(pipeline_log, "w").close()
    children: list[subprocess.Popen] = []
    helper_log = open(os.path.join(out_dir, "helpers.log"), "w")
    # Faults start at 0: the first provisioning and the integrations are set up cleanly.
    children.append(
        subprocess.Popen(
            [python, os.path.join(here, "proxy.py"), str(proxy_port), emulator, "0", str(seed)],
            stdout=helper_log,
            stderr=subprocess.STDOUT,
        )
    )
    children.append(
        subprocess.Popen(
            [python, os.path.join(here, "receiver.py"), str(receiver_port), record_path, SECRET, str(receiver_share), str(seed + 1)],
            stdout=helper_log,
            stderr=subprocess.STDOUT,
        )
    )
    env = dict(os.environ)
    env.update(
        AWS_ENDPOINT_URL=proxy,
        APVISO_PORT=str(api_port),
        APVISO_DEV_API_KEYS=f"{API_KEY}={ACCOUNT}",
        APVISO_ALLOW_LOOPBACK_TARGETS="true",
        APVISO_RETRY_SCHEDULE=schedule,
        APVISO_SQS_MAX_DELAY=sqs_max_delay,
        NO_COLOR="1",
    )
    pipeline = Pipeline(binary, env, pipeline_log, api)
    try:
        for port in (proxy_port, receiver_port):
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.1)
        log(
            f"{deliveries} deliveries; AWS failure share {aws_share:.0%} through {proxy}; receiver failure share "
            f"{receiver_share:.0%}; {kills_wanted} pipeline kills; retries {schedule} (SQS up to {sqs_max_delay}, "
            f"longer via Scheduler); seed {seed}; logs in {out_dir}/"
        )
        pipeline.start()
        if not pipeline.ready(120):
            log("apviso-local did not become ready; see " + pipeline_log)
            return 2

        integrations: dict[str, tuple[str, list[str], str | None]] = {}
        for label, events, minimum in INTEGRATIONS:
            body = {
                "provider": "webhook",
                "name": f"chaos {label}",
                "credentials": {"url": f"http://127.0.0.1:{receiver_port}/hook/{label}", "secret": SECRET},
                "enabledEvents": events,
            }
            if minimum:
                body["minimumSeverity"] = minimum
            status, answer = api_call(api, "POST", "/v1/integrations", body)
            if status != 201:
                log(f"creating integration {label} failed: {status} {answer}")
                return 2
            integrations[label] = (answer["id"], events, minimum)
        by_id = {iid: label for label, (iid, _, _) in integrations.items()}

        # The events, and the pairs they must produce.
        events: list[dict] = []
        pairs: dict[tuple[str, str], PairState] = {}
        event_pairs: dict[str, list[tuple[str, str]]] = {}
        while len(pairs) < deliveries:
            event = make_event(len(events), run, rng)
            keys = []
            for label, (iid, subscriptions, minimum) in integrations.items():
                kind = delivered_type(subscriptions, minimum, event)
                if kind:
                    pairs[(event["id"], label)] = PairState(kind, expected_delivery_id(event["id"], iid))
                    keys.append((event["id"], label))
            if keys:
                events.append(event)
                event_pairs[event["id"]] = keys

        urls = {
            "events": sqs.get_queue_url(QueueName=f"{PREFIX}events")["QueueUrl"],
            "deliveries": sqs.get_queue_url(QueueName=f"{PREFIX}deliveries")["QueueUrl"],
            "slow deliveries": sqs.get_queue_url(QueueName=f"{PREFIX}deliveries-slow")["QueueUrl"],
        }
        dlq_urls = {
            "events": sqs.get_queue_url(QueueName=f"{PREFIX}events-dlq")["QueueUrl"],
            "deliveries": sqs.get_queue_url(QueueName=f"{PREFIX}deliveries-dlq")["QueueUrl"],
        }
        set_share(proxy, aws_share)
        log(f"faults on; publishing {len(events)} events for {len(pairs)} (event, integration) pairs")

        records = Records(record_path)
        delivered: set[tuple[str, str]] = set()
        stray: list[dict] = []

        def absorb() -> None:
            for line in records.poll():
                event_id, label = line.get("eventId") or "", line["label"]
                state = pairs.get((event_id, label))
                if state is None:
                    if not event_id.startswith(("evt_verify_", "evt_test_")):
                        stray.append(line)
                    continue
                state.attempts += 1
                state.ids_seen.add(line.get("delivery"))
                state.ids_seen.add(line.get("webhookId"))
                if line.get("event") != state.event_type:
                    state.wrong_type.add(line.get("event"))
                if not line.get("signed"):
                    state.unsigned += 1
                if line["action"] == "200":
                    state.ok += 1
                    delivered.add((event_id, label))

        published_pairs = 0
        next_event = 0
        kill_marks = [len(pairs) * (i + 1) // (kills_wanted + 1) for i in range(kills_wanted)]
        kill_log: list[str] = []
        deadline = started + timeout
        last_progress = 0.0
        quiet_checks = 0
        timed_out = False
        while True:
            now = time.time()
            if now > deadline:
                timed_out = True
                log(f"timed out after {timeout:.0f} s with work still in flight")
                break
            pipeline.check_alive()
            absorb()
            # Publish while fewer than `window` published pairs are still undelivered.
            while next_event < len(events) and published_pairs - len(delivered) < window:
                batch = events[next_event : next_event + 10]
                entries = [{"Id": str(i), "MessageBody": json.dumps(e)} for i, e in enumerate(batch)]
                out = sqs.send_message_batch(QueueUrl=urls["events"], Entries=entries)
                if out.get("Failed"):
                    raise RuntimeError(f"publishing failed: {out['Failed']}")
                next_event += len(batch)
                published_pairs += sum(len(event_pairs[e["id"]]) for e in batch)
            if kill_marks and len(delivered) >= kill_marks[0]:
                kill_marks.pop(0)
                depths = queue_depths(sqs, urls)
                pipeline.kill()
                pause = rng.uniform(0.5, 3.0)
                note = (
                    f"SIGKILL #{pipeline.kills} at {len(delivered)}/{len(pairs)} delivered, "
                    f"queued or in flight: events {depths['events']}, deliveries {depths['deliveries']}; "
                    f"restart after {pause:.1f} s"
                )
                kill_log.append(note)
                log(note)
                time.sleep(pause)  # the outage itself, not a wait for a condition
                pipeline.start()
                if not pipeline.ready(120):
                    log("apviso-local did not come back within 120 s; see " + pipeline_log)
            if now - last_progress >= 15:
                last_progress = now
                depths = queue_depths(sqs, urls)
                log(
                    f"published {published_pairs}/{len(pairs)} pairs, delivered {len(delivered)}; "
                    f"queues: events {depths['events']}, deliveries {depths['deliveries']}"
                )
            if next_event >= len(events):
                # Settled when nothing is queued, in flight, delayed or scheduled, twice in a row.
                depths = queue_depths(sqs, urls)
                pending_schedules = scheduler.list_schedules(GroupName=f"{PREFIX}retries").get("Schedules", [])
                if sum(depths.values()) == 0 and not pending_schedules:
                    quiet_checks += 1
                    if quiet_checks >= 3:
                        if kill_marks:
                            kill_log.append(f"{len(kill_marks)} planned kill(s) skipped: everything settled first")
                        break
                else:
                    quiet_checks = 0
            time.sleep(1.0)

        pipeline.stop()
        absorb()
        stats = proxy_stats(proxy)
        log("pipeline stopped; reading the delivery log and the dead-letter queues")

        # Delivery log: final failures, and the delivery ids it recorded.
        logs = scan_logs(dynamodb, f"{PREFIX}delivery-logs")
        failed_for_good: set[tuple[str, str]] = set()
        log_attempts: Counter = Counter()
        log_ids: dict[tuple[str, str], set] = defaultdict(set)
        max_attempts = len(schedule.split(",")) + 1
        for item in logs:
            # The table also holds day counters, stored events and the recovery index.
            if not str(attr(item, "sk") or "").startswith("LOG#"):
                continue
            label = by_id.get(attr(item, "integrationId"))
            # Entries name their event; a webhook entry's body may be left to the stored event.
            event_id = attr(item, "eventId")
            if event_id is None:
                request = attr(item, "request") or {}
                try:
                    event_id = json.loads(request.get("body") or "{}").get("id")
                except ValueError:
                    event_id = None
            key = (event_id, label)
            if key not in pairs:
                continue
            log_attempts[key] += 1
            log_ids[key].add(attr(item, "deliveryId"))
            status = attr(item, "status")
            final = attr(item, "attempt") >= max_attempts or attr(item, "errorCode") in NON_RETRYABLE_CODES
            final = final or attr(item, "responseCode") == 410
            if status == "failed" and final:
                failed_for_good.add(key)

        dead = {name: drain_dlq(sqs, url) for name, url in dlq_urls.items()}
        dead_pairs: dict[tuple[str, str], str | None] = {}
        for body, reason in dead["events"]:
            try:
                event_id = json.loads(body).get("id")
            except ValueError:
                continue
            for key in event_pairs.get(event_id, []):
                dead_pairs[key] = reason
        for body, reason in dead["deliveries"]:
            try:
                message = json.loads(body)
            except ValueError:
                continue
            key = (message.get("eventId"), by_id.get(message.get("integrationId")))
            if key in pairs:
                dead_pairs.setdefault(key, reason)

        outcome: Counter = Counter()
        lost, id_problems, dead_no_reason = [], [], []
        several_ids = wrong_id = 0
        for key, state in pairs.items():
            seen = {i for i in state.ids_seen if i} | log_ids.get(key, set())
            missing = state.attempts and None in state.ids_seen
            if len(seen) > 1:
                several_ids += 1
            if seen - {state.delivery_id} or missing:
                wrong_id += 1
            if len(seen) > 1 or seen - {state.delivery_id} or missing:
                id_problems.append((key, sorted(str(i) for i in seen | ({None} if missing else set()))))
            if key in delivered:
                outcome["delivered"] += 1
            elif key in failed_for_good:
                outcome["failed"] += 1
            elif dead_pairs.get(key):
                outcome["dead-lettered"] += 1
            else:
                lost.append(key)
                if key in dead_pairs:
                    dead_no_reason.append(key)
        # A duplicated delivery message runs its own retry chain: one copy can succeed while the
        # other ends in a final failure, so the log shows both for one delivery id.
        forked = len(delivered & failed_for_good)
        duplicates = sum(max(0, s.ok - 1) for s in pairs.values())
        duplicate_pairs = sum(1 for s in pairs.values() if s.ok > 1)
        wrong_types = [(k, s.wrong_type) for k, s in pairs.items() if s.wrong_type]
        unsigned = sum(s.unsigned for s in pairs.values())
        receiver_answers = Counter(line["action"] for line in records.lines)
        with open(pipeline_log, errors="replace") as f:
            text = re.sub(r"\x1b\[[0-9;]*m", "", f.read())
        fired = text.count("fired a due retry schedule")
        scheduled_via = text.count("transport=Scheduler")
        record_failures = text.count("record failed; SQS will redeliver it")
        elapsed = time.time() - started

        counts = stats["counts"]
        n = lambda v: f"{v:,}"  # noqa: E731
        failed_kinds = lambda code: counts.get(f"failed before {code}", 0) + counts.get(f"failed after {code}", 0)  # noqa: E731
        rows = [
            ("wall time", f"{elapsed / 60:.1f} min ({elapsed:.0f} s)"),
            (
                "AWS calls through the proxy",
                f"{n(counts.get('calls', 0))}; failed before the emulator {n(counts.get('failed before', 0))}, "
                f"after it took effect {n(counts.get('failed after', 0))} (InternalFailure "
                f"{n(failed_kinds('InternalFailure'))}, ThrottlingException {n(failed_kinds('ThrottlingException'))})",
            ),
            (
                "receiver requests",
                f"{n(len(records.lines))}: 200 {n(receiver_answers.get('200', 0))}, 5xx "
                f"{n(sum(v for k, v in receiver_answers.items() if k not in ('200', 'drop')))}, dropped connections "
                f"{n(receiver_answers.get('drop', 0))}",
            ),
            (
                "pipeline",
                f"{pipeline.kills} SIGKILLs + restarts, {len(pipeline.unexpected_exits)} exits on its own"
                f"{' ' + str(pipeline.unexpected_exits) if pipeline.unexpected_exits else ''}; "
                f"{n(record_failures)} records left to SQS redelivery; "
                f"{n(scheduled_via)} retries via Scheduler (pump logged {n(fired)} fires)",
            ),
        ]
        print()
        print(f"Chaos run report ({len(events):,} events, {len(integrations)} webhook integrations, seed {seed})")
        for label, value in rows:
            print(f"  {label:<46} {value}")
        for note in kill_log:
            print(f"    {note}")
        rows = [
            ("(event, integration) pairs", n(len(pairs))),
            ("  delivered", n(outcome["delivered"])),
            ("  failed after all attempts", n(outcome["failed"])),
            ("  dead-lettered with a reason", n(outcome["dead-lettered"])),
            ("  lost", n(len(lost))),
            ("duplicates (extra 2xx deliveries)", f"{n(duplicates)} over {n(duplicate_pairs)} pairs"),
            ("delivered, yet a retry chain ended in failure", n(forked)),
            ("pairs with more than one delivery id", n(several_ids)),
            ("pairs with another id than the derived one", n(wrong_id)),
            ("dead-letter depths", f"events {len(dead['events'])}, deliveries {len(dead['deliveries'])}"),
        ]
        for label, value in rows:
            print(f"  {label:<46} {value}")
        if wrong_types:
            print(f"  pairs delivered under a wrong event type: {len(wrong_types)} e.g. {wrong_types[:3]}")
        if unsigned:
            print(f"  requests with a bad signature: {unsigned}")
        if stray:
            print(f"  deliveries nobody expected: {len(stray)} e.g. {stray[:3]}")
        if timed_out:
            print(f"  TIMED OUT after {timeout:.0f} s: undelivered pairs may still have been in flight")
        for key in lost[:20]:
            state = pairs[key]
            why = "in a dead-letter queue without a reason (SQS redrive)" if key in dead_no_reason else "nowhere"
            retries = re.findall(rf"retry scheduled delivery_id={state.delivery_id} next_attempt=(\d+) .*?transport=(\w+)", text)
            last = f"; last retry the pipeline logged: attempt {retries[-1][0]} via {retries[-1][1]}" if retries else ""
            print(
                f"    LOST {key[0]} -> {key[1]} ({state.event_type}, delivery {state.delivery_id}): "
                f"{state.attempts} receiver requests, {log_attempts[key]} log entries, {why}{last}"
            )
        for key, ids in id_problems[:20]:
            print(f"    DELIVERY ID {key[0]} -> {key[1]}: expected {pairs[key].delivery_id}, saw {ids}")
        report = {
            "deliveries": len(pairs),
            "events": len(events),
            "delivered": outcome["delivered"],
            "failed": outcome["failed"],
            "deadLettered": outcome["dead-lettered"],
            "lost": [list(k) for k in lost],
            "duplicates": duplicates,
            "duplicatePairs": duplicate_pairs,
            "deliveredAndFailedForGood": forked,
            "deliveryIdProblems": [[list(k), ids] for k, ids in id_problems],
            "deadLetterDepths": {k: len(v) for k, v in dead.items()},
            "kills": kill_log,
            "unexpectedExits": pipeline.unexpected_exits,
            "proxy": counts,
            "wallSeconds": round(elapsed),
            "seed": seed,
            "timedOut": timed_out,
        }
        with open(os.path.join(out_dir, "report.json"), "w") as f:
            json.dump(report, f, indent=2)
        ok = not lost and not id_problems and not timed_out and not stray and not wrong_types
        print(f"RESULT: {'PASS' if ok else 'FAIL'} (details in {out_dir}/report.json)")
        return 0 if ok else 1
    finally:
        pipeline.stop()
        for child in children:
            child.terminate()
            try:
                child.wait(timeout=5)
            except subprocess.TimeoutExpired:
                child.kill()


if __name__ == "__main__":
    sys.exit(main())
