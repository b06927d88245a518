"""A fault-injecting proxy between the pipeline and the AWS emulator.

Every request the AWS SDK sends goes through here. A configurable share of them fails, half
*before* the emulator sees the request (nothing happened) and half *after* it took effect (the
emulator applied it, the caller is told it failed), each as either a 500 `InternalFailure` or a
`ThrottlingException`, phrased in the protocol of the service that was called so the SDK
classifies it the way it would classify AWS's own answer (retryable server error / throttling):

- awsJson1_0 / 1_1 (DynamoDB `DynamoDB_20120810.*`, SQS `AmazonSQS.*`): status 500 or 400,
  `x-amzn-ErrorType` and a body `{"__type": "<namespace>#<code>", "message": ...}`; SQS also
  gets the `x-amzn-query-error` header its query-compatible clients read.
- restJson1 (EventBridge Scheduler, SES v2, recognised by the SigV4 credential scope): status
  500 or 429 (Scheduler models ThrottlingException as 429), `x-amzn-ErrorType`, `{"message"}`.
- anything else (query/XML protocol): an `<ErrorResponse>` with `<Code>`.

Control (never forwarded): `GET /__chaos__/stats` returns the counters as JSON,
`POST /__chaos__/rate?share=0.1` sets the failure share (0 turns the faults off).

Usage: python proxy.py LISTEN_PORT UPSTREAM_URL SHARE [SEED]
"""

import http.client
import json
import random
import re
import sys
import threading
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "content-length",
}
SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")

# The namespaces AWS writes in `__type` for these codes.
JSON_NAMESPACES = {
    "DynamoDB": "com.amazonaws.dynamodb.v20120810",
    "AmazonSQS": "com.amazonaws.sqs",
}


class Chaos:
    def __init__(self, share: float, seed: int | None):
        self.share = share
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.counts: dict[str, int] = {}

    def decide(self) -> tuple[str, str] | None:
        """None to pass the call through, else (when, code): when is before/after."""
        with self.lock:
            if self.rng.random() >= self.share:
                return None
            when = "before" if self.rng.random() < 0.5 else "after"
            code = "InternalFailure" if self.rng.random() < 0.5 else "ThrottlingException"
            return when, code

    def count(self, key: str) -> None:
        with self.lock:
            self.counts[key] = self.counts.get(key, 0) + 1


def operation(method: str, headers, path: str, body: bytes) -> tuple[str, str, str]:
    """(protocol, service, operation) of one SDK request."""
    target = headers.get("X-Amz-Target")
    if target:
        service, _, op = target.partition(".")
        return "json", service, op
    scope = SCOPE.search(headers.get("Authorization", ""))
    service = scope.group(1) if scope else "unknown"
    content_type = headers.get("Content-Type", "")
    if content_type.startswith("application/x-www-form-urlencoded"):
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
        return "query", service, form.get("Action", ["?"])[0]
    # restJson1: the operation is the method and the path's first segment.
    first = path.split("?")[0].strip("/").split("/")[0]
    return "rest-json", service, f"{method} /{first}"


def error_response(protocol: str, service: str, code: str) -> tuple[int, dict[str, str], bytes]:
    request_id = str(uuid.uuid4())
    message = "Rate exceeded" if code == "ThrottlingException" else "We encountered an internal error. Please try again."
    if protocol == "json":
        status = 400 if code == "ThrottlingException" else 500
        namespace = JSON_NAMESPACES.get(service.split("_")[0], "com.amazon.coral.service")
        headers = {
            "Content-Type": "application/x-amz-json-1.0",
            "x-amzn-ErrorType": code,
            "x-amzn-RequestId": request_id,
        }
        if service == "AmazonSQS":
            fault = "Sender" if status < 500 else "Receiver"
            headers["x-amzn-query-error"] = f"{code};{fault}"
        body = json.dumps({"__type": f"{namespace}#{code}", "message": message})
        return status, headers, body.encode()
    if protocol == "rest-json":
        status = 429 if code == "ThrottlingException" else 500
        headers = {"Content-Type": "application/json", "x-amzn-ErrorType": code, "x-amzn-RequestId": request_id}
        return status, headers, json.dumps({"message": message, "Message": message}).encode()
    status = 400 if code == "ThrottlingException" else 500
    xml_code = "Throttling" if code == "ThrottlingException" else code
    fault = "Sender" if status < 500 else "Receiver"
    body = (
        f"<ErrorResponse><Error><Type>{fault}</Type><Code>{xml_code}</Code><Message>{message}</Message>"
        f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    return status, {"Content-Type": "text/xml", "x-amzn-RequestId": request_id}, body.encode()


def make_handler(upstream: urllib.parse.SplitResult, chaos: Chaos):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_):
            pass

        def read_body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        return b"".join(chunks)
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
            return self.rfile.read(int(self.headers.get("Content-Length", "0") or 0))

        def reply(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def control(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            if url.path == "/__chaos__/rate":
                share = float(urllib.parse.parse_qs(url.query)["share"][0])
                with chaos.lock:
                    chaos.share = share
                self.reply(200, {"Content-Type": "application/json"}, json.dumps({"share": share}).encode())
                return
            with chaos.lock:
                stats = {"share": chaos.share, "counts": dict(chaos.counts)}
            self.reply(200, {"Content-Type": "application/json"}, json.dumps(stats).encode())

        def forward(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
            conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=120)
            try:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                headers["Content-Length"] = str(len(body))
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                kept = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP]
                return resp.status, kept, data
            finally:
                conn.close()

        def handle_any(self) -> None:
            if self.path.startswith("/__chaos__/"):
                self.control()
                return
            body = self.read_body()
            if self.path.startswith("/moto-api"):
                status, headers, data = self.forward(body)
                self.reply(status, dict(headers), data)
                return
            protocol, service, op = operation(self.command, self.headers, self.path, body)
            fault = chaos.decide()
            chaos.count("calls")
            chaos.count(f"op {service}.{op}")
            if fault is None:
                try:
                    status, headers, data = self.forward(body)
                except OSError as e:
                    chaos.count("upstream errors")
                    status, headers, data = 502, [("Content-Type", "text/plain")], str(e).encode()
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                return
            when, code = fault
            chaos.count(f"failed {when}")
            chaos.count(f"failed {when} {code}")
            if when == "after":
                try:
                    self.forward(body)
                except OSError:
                    chaos.count("upstream errors")
            self.reply(*error_response(protocol, service, code))

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = handle_any

    return Handler


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        # A client that vanished mid-answer (the pipeline was SIGKILLed) is expected here.
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


def main() -> None:
    port, upstream, share = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
    seed = int(sys.argv[4]) if len(sys.argv) > 4 else None
    server = QuietServer(("127.0.0.1", port), make_handler(urllib.parse.urlsplit(upstream), Chaos(share, seed)))
    server.daemon_threads = True
    print(f"chaos proxy on http://127.0.0.1:{port} -> {upstream}, failure share {share}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
