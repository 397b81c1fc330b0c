#!/usr/bin/env python3
# http_sink.py - an HTTP endpoint for the http publisher's tests (standard library only).
# Copyright (c) 2026 edgemon authors. SPDX-License-Identifier: MIT
#
# Records every POST: path, headers, the body as sent and decoded (gunzipped when
# Content-Encoding is gzip), the status it answered and when (time.time()).
# Answers 200 unless the test scripted otherwise:
#   POST /_sink/script  {"replies": [{"status": 500}, {"status": 429, "retry_after": 2},
#                        {"status": 400}, ...]}  the next POSTs get these, in order
#                       {"match": "TEXT", "status": 400}  POSTs whose body holds TEXT get
#                        this status (until cleared with {"match": null})
#   GET  /_sink/log     {"posts": [{"path", "headers", "gzip", "body", "status", "t"}]}
#   POST /_sink/clear   forget the recorded posts and the script
# Usage: http_sink.py PORT   (listens on 127.0.0.1:PORT)

import gzip
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
POSTS = []
SCRIPT = []
MATCH = {"text": None, "status": 200}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/_sink/log":
            with LOCK:
                body = json.dumps({"posts": POSTS}).encode()
            return self.reply(200, body)
        self.reply(404, b'{"error":"not found"}')

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n > 0 else b""
        if self.path == "/_sink/script":
            s = json.loads(raw or b"{}")
            with LOCK:
                if "replies" in s:
                    SCRIPT[:] = s["replies"]
                if "match" in s:
                    MATCH["text"] = s["match"]
                    MATCH["status"] = int(s.get("status", 400))
            return self.reply(200, b'{"ok":true}')
        if self.path == "/_sink/clear":
            with LOCK:
                POSTS.clear()
                SCRIPT.clear()
                MATCH["text"] = None
            return self.reply(200, b'{"ok":true}')
        gz = self.headers.get("Content-Encoding", "").lower() == "gzip"
        try:
            body = gzip.decompress(raw) if gz else raw
            text = body.decode("utf-8")
        except (OSError, EOFError, UnicodeDecodeError) as e:
            text = None
            err = str(e)
        with LOCK:
            if text is None:
                status, extra = 400, ()
            elif MATCH["text"] is not None and MATCH["text"] in text:
                status, extra = MATCH["status"], ()
            elif SCRIPT:
                r = SCRIPT.pop(0)
                status = int(r.get("status", 200))
                extra = (("Retry-After", str(r["retry_after"])),) if "retry_after" in r else ()
            else:
                status, extra = 200, ()
            POSTS.append({"path": self.path, "headers": dict(self.headers.items()),
                          "gzip": gz, "raw_len": len(raw),
                          "body": text if text is not None else "", "status": status,
                          "t": time.time()})
        if text is None:
            return self.reply(400, json.dumps({"error": err}).encode())
        self.reply(status, b'{"ok":true}' if status < 300 else b'{"error":"scripted"}', extra)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    Server(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()


if __name__ == "__main__":
    main()
