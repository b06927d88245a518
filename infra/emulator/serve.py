"""The local AWS emulator: moto's server application behind one lock for DynamoDB, and with
CreateScheduleGroup refusing an existing group as AWS does.

moto applies a conditional write as "read, compare, write" without holding a lock, so two
concurrent `UpdateItem ... ConditionExpression` calls on one item can both succeed on the same
expected version (measured: 7 of 40 rounds with six writers). DynamoDB never allows that, and
our optimistic-concurrency code relies on it. Here a request holds the item it reads or writes
(and its table, in a mode that keeps moto's dicts consistent, see `TABLE_MODES`), so a
conditional write cannot interleave with another request on the same item, which gives the
emulator DynamoDB's guarantee without touching the product; requests on other items and
tables go on meanwhile. (One lock for all of DynamoDB made one tenant's delivery-log writes
delay another tenant's reads of its integration in bench item 9, which DynamoDB never does.) Other services stay concurrent: SQS long polls block for seconds and must not
hold up anything else.

moto's CreateScheduleGroup replaces an existing group with an empty one, silently deleting every
schedule in it; AWS answers 409 ConflictException and keeps them. `apviso-local` provisions its
stack on every start, so without this each restart dropped all pending Scheduler retries (found
by `make chaos`: a delivery whose attempt 4 was scheduled just before a restart never happened).

moto's SQS scans every queued message on most calls and reads the clock slowly for each;
`fast_sqs_scans` makes the same scans cheap, `fast_sqs_deletes` finds a receipt handle's
message without walking the queue and `cheap_standard_sends` spares a send the queue's counts,
so a queue holding a thousand messages stays fast.

SQS fair queues: on a standard queue, messages sent with a MessageGroupId (our deliveries
queues use the account) are handed out so that one group's backlog does not delay the others:
AWS picks messages of "quiet" groups (few messages in flight) before those of a noisy one.
moto stores the group id but serves messages in arrival order, so a local fairness figure
would measure nothing. `fair_queue_order` emulates the documented behaviour: each receive
considers the visible messages ordered by how many messages their group has in flight
(received and not yet deleted or visible again), fewest first, arrival order within a group.
AWS's exact algorithm is not published; this is the behaviour it documents, not its code.

Usage: python serve.py HOST PORT
"""

import functools
import io
import json
import os
import signal
import sys
import threading
from collections import Counter

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.sqs.models import Queue
from werkzeug.serving import WSGIRequestHandler, run_simple

DYNAMODB_TARGET_PREFIXES = ("DynamoDB_", "DynamoDBStreams_")


# How a DynamoDB request holds a table (moto keeps a table's items in plain dicts):
# - "get": GetItem, one item read by key (a dict lookup), beside anything but "all";
# - "item": PutItem, UpdateItem, DeleteItem, one item written by key (a dict insert or delete):
#   beside other one-item requests, but not while a request walks the table's dicts;
# - "many": Query, Scan and the other multi-item reads, which walk those dicts;
# - "all": multi-item writes (BatchWriteItem, TransactWriteItems), alone.
# One-item requests also hold their item, so two of them on one item never interleave: a
# conditional write reads, compares and writes with nothing in between, as in DynamoDB.
TABLE_MODES = {"get": {"get", "item", "many"}, "item": {"get", "item"}, "many": {"get", "many"}, "all": set()}
# The whole of DynamoDB: "table" for a request naming its tables, "all" for the others (table
# management, PartiQL), which hold everything.
SERVICE_MODES = {"table": {"table"}, "all": set()}
DYNAMODB_MODES = {
    "GetItem": "get",
    "PutItem": "item",
    "UpdateItem": "item",
    "DeleteItem": "item",
    "Query": "many",
    "Scan": "many",
    "BatchGetItem": "many",
    "TransactGetItems": "many",
    "DescribeTable": "many",
    "DescribeTimeToLive": "many",
    "BatchWriteItem": "all",
    "TransactWriteItems": "all",
}


class ModeLock:
    """A lock held in modes, `compatible[mode]` naming those it may be held beside. Requests
    are admitted in arrival order, each once it is compatible with every holder: neither
    one-item writes nor walks of the table can starve the other."""

    def __init__(self, compatible):
        self.compatible = compatible
        self.cond = threading.Condition()
        self.held = Counter()
        self.waiting = []

    def acquire(self, mode):
        ticket = object()
        with self.cond:
            self.waiting.append(ticket)
            allowed = self.compatible[mode]
            self.cond.wait_for(
                lambda: self.waiting[0] is ticket and all(m in allowed for m, n in self.held.items() if n)
            )
            self.waiting.pop(0)
            self.held[mode] += 1
            # The next in line may be compatible too.
            self.cond.notify_all()

    def release(self, mode):
        with self.cond:
            self.held[mode] -= 1
            self.cond.notify_all()


class SerializeDynamoDb:
    """WSGI middleware giving moto DynamoDB's isolation (see TABLE_MODES) without one lock for
    everything: one tenant's delivery-log writes no longer delay another tenant's reads of its
    integration (bench item 9), which DynamoDB never does. The whole response is produced
    inside the locks."""

    def __init__(self, app):
        self.app = app
        self.guard = threading.Lock()
        self.service = ModeLock(SERVICE_MODES)
        self.tables = {}
        self.items = {}
        # Key attribute names per table, from the CreateTable requests passing through: a
        # PutItem names its key only inside the item.
        self.key_names = {}

    def table_lock(self, name):
        with self.guard:
            return self.tables.setdefault(name, ModeLock(TABLE_MODES))

    def item_lock(self, key):
        with self.guard:
            return self.items.setdefault(key, threading.Lock())

    def locks(self, operation, body):
        """[(lock, mode)] in acquisition order, or None when the request holds everything."""
        mode = DYNAMODB_MODES.get(operation)
        if mode is None or body is None:
            return None
        if "TableName" in body:
            tables = {body["TableName"]}
        elif operation in ("BatchGetItem", "BatchWriteItem"):
            tables = set(body.get("RequestItems") or {})
        else:
            named = [a.get("TableName") for item in body.get("TransactItems") or [] for a in item.values()]
            tables = None if None in named else set(named)
        if not tables:
            return None
        key = None
        if mode in ("get", "item"):
            (table,) = tables
            key = body.get("Key")
            if operation == "PutItem":
                names = self.key_names.get(table)
                key = names and {n: body.get("Item", {}).get(n) for n in names}
            if not key:
                mode = "all"  # a key we cannot tell: the table alone
        held = [(self.table_lock(t), mode) for t in sorted(tables)]
        if mode in ("get", "item"):
            held.append((self.item_lock((table, json.dumps(key, sort_keys=True))), None))
        return held

    def __call__(self, environ, start_response):
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if not target.startswith(DYNAMODB_TARGET_PREFIXES):
            return self.app(environ, start_response)
        operation = target.rpartition(".")[2] if target.startswith("DynamoDB_") else None
        body = None
        length = environ.get("CONTENT_LENGTH")
        if operation and length:
            raw = environ["wsgi.input"].read(int(length))
            environ["wsgi.input"] = io.BytesIO(raw)
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = None  # moto answers it with the error; it holds everything meanwhile
        if operation == "CreateTable" and isinstance(body, dict):
            schema = body.get("KeySchema") or []
            self.key_names[body.get("TableName")] = [k.get("AttributeName") for k in schema]
        try:
            tables = self.locks(operation, body) if isinstance(body, dict) else None
        except (AttributeError, TypeError, ValueError):
            tables = None
        # The service lock first, then tables in name order, then the item: no two requests
        # can each hold a lock the other waits for.
        held = [(self.service, "all" if tables is None else "table")] + (tables or [])
        for lock, mode in held:
            lock.acquire() if mode is None else lock.acquire(mode)
        try:
            # Materialize the body while holding the locks: the write happens while the
            # response is produced, and a lazy iterable would run after they are released.
            return [b"".join(self.app(environ, start_response))]
        finally:
            for lock, mode in reversed(held):
                lock.release() if mode is None else lock.release(mode)


class ScheduleGroupConflict:
    """WSGI middleware: CreateScheduleGroup (POST /schedule-groups/<name>) on an existing group
    answers 409 ConflictException, as AWS does, instead of emptying the group."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        parts = path.strip("/").split("/")
        if environ.get("REQUEST_METHOD") != "POST" or len(parts) != 2 or parts[0] != "schedule-groups":
            return self.app(environ, start_response)
        # Ask moto itself, with the same headers (account, region), whether the group exists.
        probe = dict(environ, REQUEST_METHOD="GET", CONTENT_LENGTH="0")
        probe["wsgi.input"] = io.BytesIO(b"")
        statuses = []
        b"".join(self.app(probe, lambda status, headers, exc_info=None: statuses.append(status)))
        if not (statuses and statuses[0].startswith("200")):
            return self.app(environ, start_response)
        body = json.dumps({"Message": f"Schedule group {parts[1]} already exists."}).encode()
        start_response(
            "409 Conflict",
            [
                ("Content-Type", "application/json"),
                ("x-amzn-ErrorType", "ConflictException"),
                ("Content-Length", str(len(body))),
            ],
        )
        return [body]


def fast_sqs_scans() -> None:
    """moto's SQS scans every message of a queue on most calls (every send computes the queue's
    attributes, approximate counts included; every receive lists the visible messages), and reads
    the clock through datetime arithmetic (about 7 µs) once per message per scan. With 1,000
    messages queued, one SendMessageBatch took 100 ms and draining them with 10 consumers 57 s:
    the emulator, not the product, became the bottleneck of the fair-delivery benchmark. The
    same scans here read the clock once per scan, with the same comparisons as moto's
    `Message.visible` and `Message.delayed`."""
    import time

    import moto.core.utils as utils
    import moto.sqs.models as sqs_models

    slow_unix_time = utils.unix_time

    def unix_time(dt=None):
        return time.time() if dt is None else slow_unix_time(dt)

    def unix_time_millis(dt=None):
        return unix_time(dt) * 1000.0

    sqs_models.unix_time = unix_time
    sqs_models.unix_time_millis = unix_time_millis
    # Queue attributes convert the same dozen names on every send: convert each once.
    sqs_models.camelcase_to_underscores = functools.lru_cache(maxsize=256)(utils.camelcase_to_underscores)

    def visible_messages(self):
        now = time.time() * 1000.0
        return [m for m in list(self._messages) if now > m.visible_at and not now < m.delayed_until]

    def delayed_count(self):
        now = time.time() * 1000.0
        return sum(1 for m in list(self._messages) if now < m.delayed_until)

    def not_visible_count(self):
        now = time.time() * 1000.0
        return sum(1 for m in list(self._messages) if not now > m.visible_at)

    Queue.messages = property(visible_messages)
    Queue.approximate_number_of_messages_delayed = property(delayed_count)
    Queue.approximate_number_of_messages_not_visible = property(not_visible_count)


def fast_sqs_deletes() -> None:
    """moto finds the message of a receipt handle by walking the whole queue twice, building a
    list of every message's handles on each step (`Message.all_receipt_handles` is a property):
    with a thousand messages queued one DeleteMessageBatch of ten walked 20,000 of them. Moving
    a flood's backlog to the slow lane (a receive, a send and a delete per ten messages) then
    kept the emulator's one core busy for seconds, and every other account's calls waited for
    it. Here each handle is noted when it is issued, so a delete finds its message at once;
    the checks and the outcome are moto's (an unknown handle, or one of another queue, is
    refused; a handle already deleted is accepted again)."""
    import weakref

    from moto.sqs.exceptions import ReceiptHandleIsInvalid
    from moto.sqs.models import Message

    owners = weakref.WeakValueDictionary()
    received = Message.mark_received

    def mark_received(self, visibility_timeout=None):
        received(self, visibility_timeout)
        owners[self.receipt_handle] = self

    def delete_message(self, receipt_handle):
        if receipt_handle in self.deleted_messages:
            return
        message = owners.get(receipt_handle)
        if message is None or not any(m is message for m in self._messages):
            raise ReceiptHandleIsInvalid()
        self.pending_messages.discard(message)
        self.deleted_messages.update(message.all_receipt_handles)
        self._messages = [m for m in self._messages if m is not message]

    Message.mark_received = mark_received
    Queue.delete_message = delete_message


def cheap_standard_sends() -> None:
    """moto's SendMessage reads the queue's whole attribute set to look up one FIFO attribute
    (ContentBasedDeduplication), and that set includes the three approximate counts, each a
    scan of every message: with a thousand queued, each message of a SendMessageBatch scanned
    the queue three times. A standard queue has no such attribute, so while a send runs its
    attribute set is empty; FIFO queues and every other caller get the full set."""
    import threading

    from moto.sqs.models import SQSBackend

    sending = threading.local()
    full = Queue.attributes.fget
    send = SQSBackend.send_message

    def attributes(self):
        if getattr(sending, "now", False) and not self.fifo_queue:
            return {}
        return full(self)

    def send_message(self, *args, **kwargs):
        sending.now = True
        try:
            return send(self, *args, **kwargs)
        finally:
            sending.now = False

    Queue.attributes = property(attributes)
    SQSBackend.send_message = send_message


def atomic_receives() -> None:
    """moto's ReceiveMessage checks that a message is visible and then marks it received, with
    nothing held in between: two consumers polling one queue can both take the same message.
    SQS hands a message to one consumer per visibility timeout in practice, and our tests rely on
    it: with Python's thread switches made ten times as frequent (tried, then dropped for this),
    two fan-out pollers took one event at the same millisecond and the Jira test saw two issues. Here the check-and-take of
    each receive holds a per-queue lock; the long poll waits outside it, as moto's own does."""
    import time

    from moto.sqs.models import SQSBackend

    receive = SQSBackend.receive_message

    def receive_message(self, queue_name, count, wait_seconds_timeout, visibility_timeout, message_attribute_names=None):
        queue = self.get_queue(queue_name)
        # dict.setdefault is one step under the GIL: every caller gets the same lock.
        lock = queue.__dict__.setdefault("_apviso_receive_lock", threading.Lock())
        deadline = time.time() + wait_seconds_timeout
        while True:
            with lock:
                taken = receive(self, queue_name, count, 0, visibility_timeout, message_attribute_names)
            left = deadline - time.time()
            if taken or left <= 0:
                return taken
            queue.wait_for_messages(min(1.0, left))

    SQSBackend.receive_message = receive_message


def consistent_model_dump() -> None:
    """moto's `/moto-api/data.json` (the e-mail tests read SES's sent mail from it) checks that
    each model attribute serializes, keeps a reference to the live value, and serializes
    everything at the end: a table that was empty at the check and got its first item before
    the end (a DynamoType key) fails the whole dump with a 500. With a whole test suite's
    models the dump takes seconds, so under concurrent writes it failed for seconds in a row.
    Here each value is kept as the JSON it was checked as: the same document, never a 500."""
    import moto.moto_api._internal.urls as urls
    from moto.core.model_instances import model_data

    def model_dump(request, full_url, headers):
        results = {}
        for service in sorted(model_data):
            models = model_data[service]
            results[service] = {}
            for name in sorted(models):
                kept = results[service][name] = []
                for instance in list(models[name].instances_tracked):
                    fields = {}
                    for attr in dir(instance):
                        if attr.startswith("_"):
                            continue
                        try:
                            fields[attr] = json.loads(json.dumps(getattr(instance, attr)))
                        except (TypeError, AttributeError, ValueError, RuntimeError):
                            pass
                    kept.append(fields)
        return 200, {"Content-Type": "application/javascript"}, json.dumps(results)

    urls.url_paths["{0}/moto-api/data.json"] = model_dump


def cheap_dispatch() -> None:
    """moto picks the backend of every request by listing its own package directory (an
    `isdir` per entry, about 150) and matching the host against every service's URL patterns,
    under one lock for all requests: about a sixth of the emulator's CPU under load (py-spy,
    bench item 9). The directory does not change while the server runs and a host always
    maps to the same backend, so both answers are kept."""
    import moto.backends as backends
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules
    by_host = DomainDispatcherApplication.get_backend_for_host
    known = {}

    def get_backend_for_host(self, host):
        if host not in known:
            known[host] = by_host(self, host)
        return known[host]

    DomainDispatcherApplication.get_backend_for_host = get_backend_for_host


class QuietRequestHandler(WSGIRequestHandler):
    """No access-log line per request (werkzeug writes one to stderr under a lock, a few
    percent of the emulator's CPU); errors are still logged. EMULATOR_ACCESS_LOG=1 restores it."""

    def log_request(self, code="-", size="-"):
        if os.environ.get("EMULATOR_ACCESS_LOG") == "1":
            super().log_request(code, size)


def fair_queue_order() -> None:
    """Make `Queue.messages` (what ReceiveMessage walks) list quiet groups' messages first on
    standard queues. FIFO queues and messages without a group keep moto's order."""
    arrival_order = Queue.messages.fget

    def messages(self):
        visible = arrival_order(self)
        if self.fifo_queue or not any(m.group_id for m in visible):
            return visible
        # list() copies the set in one step under the GIL; iterating it in Python while other
        # request threads add and remove messages raises "Set changed size during iteration".
        pending = list(self.pending_messages)
        in_flight = Counter(m.group_id for m in pending if m.group_id and not m.visible)
        # sorted() is stable: arrival order holds within a group and among equals.
        return sorted(visible, key=lambda m: in_flight[m.group_id] if m.group_id else 0)

    Queue.messages = property(messages)
    # Only a receive needs the order. moto also counts visible messages through `messages` on
    # every send (a SendMessage reads the queue's attributes, ApproximateNumberOfMessages among
    # them) and re-lists them on every wake-up of a long poll: with a thousand messages queued,
    # sorting them there made each SendMessageBatch of ten sort the queue ten times.
    Queue.approximate_number_of_messages = property(lambda self: len(arrival_order(self)))

    def wait_for_messages(self, timeout):
        with self._messages_lock:
            self._messages_lock.wait_for(lambda: arrival_order(self), timeout=timeout)

    Queue.wait_for_messages = wait_for_messages
    # moto's own receive iterates the in-flight set the same way (to skip busy FIFO groups);
    # with several consumers per queue that raised in the middle of a receive, after messages
    # had been marked received: they then stayed invisible until their visibility timeout.
    Queue.pending_message_groups = property(
        lambda self: {m.group_id for m in list(self._pending_messages) if m.group_id is not None}
    )


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    # A plain exit on SIGTERM, as moto's own entry point does, so `kill` stops it at once.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    fast_sqs_scans()
    fast_sqs_deletes()
    cheap_standard_sends()
    fair_queue_order()
    atomic_receives()
    consistent_model_dump()
    cheap_dispatch()
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(
        host, port, ScheduleGroupConflict(SerializeDynamoDb(app)), threaded=True, request_handler=QuietRequestHandler
    )


if __name__ == "__main__":
    main()
