#!/usr/bin/env python3
"""A throw-away webhook receiver for trying the local stack: prints each delivery, checks the
X-APVISO-Signature when WEBHOOK_SECRET is set, and answers 200 (or RECEIVER_STATUS)."""
import base64
import hashlib
import hmac
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

_RAW = os.environ.get("WEBHOOK_SECRET", "")
# The key is what APVISO signs with: the decoded bytes of a whsec_ secret, else the text itself.
SECRET = base64.b64decode(_RAW[len("whsec_"):], validate=True) if _RAW.startswith("whsec_") else _RAW.encode()
STATUS = int(os.environ.get("RECEIVER_STATUS", "200"))


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        print(f"--- {self.headers.get('X-APVISO-Event')} delivery {self.headers.get('X-APVISO-Delivery')}")
        if SECRET:
            expected = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
            ok = hmac.compare_digest(expected, self.headers.get("X-APVISO-Signature", ""))
            print(f"signature {'valid' if ok else 'INVALID'}")
        print(json.dumps(json.loads(body), indent=2))
        sys.stdout.flush()
        self.send_response(STATUS)
        self.end_headers()

    def log_message(self, *_):
        pass


port = int(sys.argv[1]) if len(sys.argv) > 1 else 8787
print(f"receiver listening on http://127.0.0.1:{port}/hook")
HTTPServer(("127.0.0.1", port), Handler).serve_forever()
