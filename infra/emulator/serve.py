"""The local AWS emulator: moto's server application with DynamoDB isolated per item
(`dynamodb_isolation.py`), moto's SQS made fast, fair and single-handed (`sqs_fixes.py`), and
CreateScheduleGroup refusing an existing group as AWS does. Other services stay concurrent: SQS
long polls block for seconds and must not hold up anything else.

moto's CreateScheduleGroup replaces an existing group with an empty one, silently deleting every
schedule in it; AWS answers 409 ConflictException and keeps them. `apviso-local` provisions its
stack on every start, so without this each restart dropped all pending Scheduler retries (found
by `make chaos`: a delivery whose attempt 4 was scheduled just before a restart never happened).

Usage: python serve.py HOST PORT
"""

import io
import json
import os
import signal
import sys

import sqs_fixes
from dynamodb_isolation import SerializeDynamoDb
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import WSGIRequestHandler, run_simple


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


def main() -> None:
    host, port = sys.argv[1], int(sys.argv[2])
    # A plain exit on SIGTERM, as moto's own entry point does, so `kill` stops it at once.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    sqs_fixes.apply()
    consistent_model_dump()
    cheap_dispatch()
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(
        host, port, ScheduleGroupConflict(SerializeDynamoDb(app)), threaded=True, request_handler=QuietRequestHandler
    )


if __name__ == "__main__":
    main()
