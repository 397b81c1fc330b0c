#!/usr/bin/env python3
"""flag_server.py - a features.url server for tests: GET / serves a file with an ETag.

Usage: flag_server.py PORT FILE LOG. The ETag is a hash of the file's bytes, so
editing the file is a new version; a request whose If-None-Match matches gets
304. A file holding only "500" makes the server answer 500 (a broken server).
Every request is logged to LOG as "STATUS if-none-match=VALUE".
"""
import hashlib
import http.server
import sys

PORT, FILE, LOG = int(sys.argv[1]), sys.argv[2], sys.argv[3]


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body=b"", etag=None):
        self.send_response(status)
        if etag:
            self.send_header("ETag", etag)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        with open(LOG, "a") as log:
            log.write("%d if-none-match=%s\n" % (status, self.headers.get("If-None-Match")))

    def do_GET(self):
        with open(FILE, "rb") as f:
            body = f.read()
        if body.strip() == b"500":
            return self.answer(500, b"broken")
        etag = '"%s"' % hashlib.sha1(body).hexdigest()[:16]
        if self.headers.get("If-None-Match") == etag:
            return self.answer(304, etag=etag)
        self.answer(200, body, etag)


http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
