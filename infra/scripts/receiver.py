#!/usr/bin/env python3
"""A throw-away webhook receiver for trying the local stack: prints each delivery, checks the
X-APVISO-Signature and webhook-signature when WEBHOOK_SECRET is set, and answers 200 (or
RECEIVER_STATUS). During a secret rotation give it the other secret too, in
WEBHOOK_PREVIOUS_SECRET: webhook-signature is accepted when any signature it lists matches either
secret, as the Standard Webhooks libraries do."""
import base64
import hashlib
import hmac
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer


def key(raw):
    """The key APVISO signs with: the decoded bytes of a whsec_ secret, else the text itself."""
    return base64.b64decode(raw[len("whsec_"):], validate=True) if raw.startswith("whsec_") else raw.encode()


SECRET = key(os.environ.get("WEBHOOK_SECRET", ""))
PREVIOUS = key(os.environ.get("WEBHOOK_PREVIOUS_SECRET", ""))
STATUS = int(os.environ.get("RECEIVER_STATUS", "200"))


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        print(f"--- {self.headers.get('X-APVISO-Event')} delivery {self.headers.get('X-APVISO-Delivery')}")
        if SECRET:
            expected = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
            ok = hmac.compare_digest(expected, self.headers.get("X-APVISO-Signature", ""))
            print(f"signature {'valid' if ok else 'INVALID'}")
            signed = f"{self.headers.get('webhook-id')}.{self.headers.get('webhook-timestamp')}.".encode() + body
            listed = self.headers.get("webhook-signature", "").split(" ")
            held = [("WEBHOOK_SECRET", SECRET)] + ([("WEBHOOK_PREVIOUS_SECRET", PREVIOUS)] if PREVIOUS else [])
            matched = [
                name for name, k in held
                for sig in listed
                if hmac.compare_digest(sig, "v1," + base64.b64encode(hmac.new(k, signed, hashlib.sha256).digest()).decode())
            ]
            print(f"webhook-signature ({len(listed)} listed) {'valid with ' + ', '.join(matched) if matched else 'INVALID'}")
        print(json.dumps(json.loads(body), indent=2))
        sys.stdout.flush()
        self.send_response(STATUS)
        self.end_headers()

    def log_message(self, *_):
        pass


port = int(sys.argv[1]) if len(sys.argv) > 1 else 8787
print(f"receiver listening on http://127.0.0.1:{port}/hook")
HTTPServer(("127.0.0.1", port), Handler).serve_forever()
