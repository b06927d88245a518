"""A flaky webhook receiver for the chaos run.

Every POST to /hook/<label> is recorded as one JSON line (label, event id from the body, the
X-APVISO-Event, X-APVISO-Delivery and webhook-id headers, whether the signature verifies, and
what the receiver did) and then answered: about FAIL_SHARE of the requests fail, two thirds of
those with a 5xx status and one third by closing the connection without any answer; the rest
get 200. The driver reads the lines to count deliveries, duplicates and delivery ids.

Usage: python receiver.py PORT RECORD_FILE SECRET FAIL_SHARE [SEED]
"""

import hashlib
import hmac
import json
import random
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

FAILURE_STATUSES = (500, 502, 503, 504)


def make_handler(record, secret: bytes, fail_share: float, rng: random.Random, lock: threading.Lock):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0") or 0))
            try:
                event_id = json.loads(body).get("id")
            except ValueError:
                event_id = None
            expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
            signed = hmac.compare_digest(expected, self.headers.get("X-APVISO-Signature", ""))
            with lock:
                roll = rng.random()
                status = rng.choice(FAILURE_STATUSES)
            if roll < fail_share / 3:
                action = "drop"
            elif roll < fail_share:
                action = str(status)
            else:
                action = "200"
            line = {
                "t": time.time(),
                "label": self.path.rsplit("/", 1)[-1],
                "eventId": event_id,
                "event": self.headers.get("X-APVISO-Event"),
                "delivery": self.headers.get("X-APVISO-Delivery"),
                "webhookId": self.headers.get("webhook-id"),
                "signed": signed,
                "action": action,
            }
            # Recorded before answering: a 200 the sender never reads is still a delivery the
            # receiver saw, which is what the at-least-once promise is about.
            with lock:
                record.write(json.dumps(line) + "\n")
                record.flush()
            if action == "drop":
                # No answer at all: the connection is reset under the sender.
                self.close_connection = True
                try:
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                except OSError:
                    pass
                return
            status = int(action)
            payload = b'{"ok":true}' if status == 200 else b'{"error":"chaos"}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return Handler


def main() -> None:
    port, path, secret, fail_share = int(sys.argv[1]), sys.argv[2], sys.argv[3].encode(), float(sys.argv[4])
    rng = random.Random(int(sys.argv[5]) if len(sys.argv) > 5 else None)
    with open(path, "a", encoding="utf-8") as record:
        handler = make_handler(record, secret, fail_share, rng, threading.Lock())
        server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        server.daemon_threads = True
        print(f"flaky receiver on http://127.0.0.1:{port}/hook/<label>, failure share {fail_share}", flush=True)
        server.serve_forever()


if __name__ == "__main__":
    main()
