"""DynamoDB isolation for the local emulator (see serve.py): moto applies a conditional write as
"read, compare, write" without holding a lock, so two concurrent `UpdateItem ...
ConditionExpression` calls on one item can both succeed on the same expected version (measured:
7 of 40 rounds with six writers). DynamoDB never allows that, and our optimistic-concurrency code
relies on it. Here a request holds the item it reads or writes (and its table, in a mode that
keeps moto's dicts consistent, see `TABLE_MODES`), so a conditional write cannot interleave with
another request on the same item; requests on other items and tables go on meanwhile. (One lock
for all of DynamoDB made one tenant's delivery-log writes delay another tenant's reads of its
integration in bench item 9, which DynamoDB never does.)"""

import io
import json
import threading
from collections import Counter

DYNAMODB_TARGET_PREFIXES = ("DynamoDB_", "DynamoDBStreams_")


# How a DynamoDB request holds a table (moto keeps a table's items in plain dicts):
# - "get": GetItem, one item read by key (a dict lookup), beside anything but "all";
# - "item": PutItem, UpdateItem, DeleteItem, one item written by key (a dict insert or delete):
#   beside other one-item requests, but not while a request walks the table's dicts;
# - "many": Query, Scan and the other multi-item reads, which walk those dicts;
# - "all": multi-item writes (TransactWriteItems, and a BatchWriteItem whose keys we cannot
#   tell), alone. A BatchWriteItem whose keys we can tell is several one-item writes: "item",
#   holding each of its items (DynamoDB applies its requests one by one, not atomically).
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
        if operation == "BatchWriteItem":
            keys = self.batch_write_keys(body)
            if keys is not None:
                held = [(self.table_lock(t), "item") for t in sorted(tables)]
                # Item locks in one order, taken last: no two requests wait on each other.
                return held + [(self.item_lock(k), None) for k in sorted(keys)]
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

    def batch_write_keys(self, body):
        """The (table, key) of every put and delete of a BatchWriteItem, or None if any of
        them cannot be told (a table whose key names we never saw, a malformed request)."""
        keys = set()
        for table, requests in (body.get("RequestItems") or {}).items():
            names = self.key_names.get(table)
            if not names or not isinstance(requests, list):
                return None
            for request in requests:
                put, delete = request.get("PutRequest"), request.get("DeleteRequest")
                fields = (put or {}).get("Item") if put else (delete or {}).get("Key")
                if not isinstance(fields, dict) or any(fields.get(n) is None for n in names):
                    return None
                keys.add((table, json.dumps({n: fields[n] for n in names}, sort_keys=True)))
        return keys or None

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
