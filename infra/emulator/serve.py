"""The local AWS emulator: moto's server application behind one lock for DynamoDB.

moto applies a conditional write as "read, compare, write" without holding a lock, so two
concurrent `UpdateItem ... ConditionExpression` calls on one item can both succeed on the same
expected version (measured: 7 of 40 rounds with six writers). DynamoDB never allows that, and
our optimistic-concurrency code relies on it. Serializing every DynamoDB request here gives the
emulator DynamoDB's guarantee without touching the product. Other services stay concurrent:
SQS long polls block for seconds and must not hold up anything else.

Usage: python serve.py HOST PORT
"""

import signal
import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple

DYNAMODB_TARGET_PREFIXES = ("DynamoDB_", "DynamoDBStreams_")


class SerializeDynamoDb:
    """WSGI middleware: one DynamoDB request at a time, the whole response inside the lock."""

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if not target.startswith(DYNAMODB_TARGET_PREFIXES):
            return self.app(environ, start_response)
        with self.lock:
            # Materialize the body while holding the lock: the write happens while the
            # response is produced, and a lazy iterable would run after the lock is released.
            return [b"".join(self.app(environ, start_response))]


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    # A plain exit on SIGTERM, as moto's own entry point does, so `kill` stops it at once.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(host, port, SerializeDynamoDb(app), threaded=True)


if __name__ == "__main__":
    main()
