#!/usr/bin/env python3
# kubemq.py - a fake KubeMQ REST server for tests (Python 3 standard library only).
# Copyright (c) 2026 edgemon authors. SPDX-License-Identifier: MIT
#
# KubeMQ cannot be installed on the test machines (no Debian package, no Docker,
# no downloads), so the kubemq publisher is tested against this stand-in. It
# follows /work/shared/reference/protocols.md section 1.8, i.e. the behaviour of
# the kubemq-community server (interfaces/rest/*.go, pkg/client/*.go), not its
# docs where they differ (section 1.7):
#   - the routes and methods of section 1.3; an unknown route is 404 and a known
#     route with the wrong method 405, both as {"error_code": N, "message": "..."};
#   - POST bodies are bound like echo does: Content-Length 0 gives the zero
#     struct (which then fails validation), a Content-Type that is not
#     application/json is 400 "code=415, message=Unsupported Media Type", bad
#     JSON or bad base64 is 400 "code=400, message=..."; keys match
#     case-insensitively, unknown keys are ignored, Body is standard base64;
#   - every reply is the {"is_error", "message", "data"} envelope, pretty-printed
#     with tabs, with the Broker/X-Runtime/X-Powered-By headers; zero-valued
#     fields are left out of `data` (Go's omitempty);
#   - validation texts of section 1.5; queue errors are 200 with data.IsError,
#     events errors 400; ids are generated when empty; SentAt is now in ns;
#   - a FIFO queue store per channel with increasing Sequence; /queue/receive
#     removes what it returns unless IsPeak, honours MaxNumberOfMessages and
#     long-polls WaitTimeSeconds (0 = 1 s); events_store keeps events per channel.
#
# Test-only routes under /_fake/ (the real server has none: it answers 404):
#   POST /_fake/fault  JSON, any of:
#       {"unavailable_s": S}   every other route answers 503 "not ready" for S s
#       {"slow_ms": MS, "slow_count": N}  the next N sends (default: all) are
#                              stored, then answered after MS ms
#       {"drop_next": N}       the next N sends are stored, then the connection is
#                              closed half-way through the reply
#       {"truncate_next": N}   ... answered with only the first half of the JSON
#       {"invalid_next": N}    ... answered 200 with a body that is not JSON
#       {"unconfirmed_next": N} the next N queue messages get a result with
#                              neither IsError nor SentAt (and are not stored)
#       {"reject_ids": [ID...], "reject_error": "Error 1xx: ..."}  messages with
#                              these MessageID/EventID fail validation
#       {"reset": true}        clear every fault first
#   GET /_fake/log    {"sends": [every message received, in order, with route,
#                     the number of its request, its Authorization header, ids, Channel, ClientID, Metadata, decoded Body, stored,
#                     error], "pings": N, "requests": N}
#   GET /_fake/dump   {"queues": {channel: [messages]}, "events": {channel: [...]}}
#
# Usage: kubemq.py PORT   (listens on 127.0.0.1:PORT)

import base64
import binascii
import hashlib
import json
import socket
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

VERSION = "2.3.7-fake"
START = time.time()
HOST = socket.gethostname()

# Field names exactly as on the wire (kubemq-io/protobuf v1.3.1), with types.
S, B, I, BYTES, BOOL, MAP, OBJ, LIST = "s", "b", "i", "bytes", "bool", "map", "obj", "list"
POLICY = {"ExpirationSeconds": I, "DelaySeconds": I, "MaxReceiveCount": I,
          "MaxReceiveQueue": S}
QUEUE_MESSAGE = {"MessageID": S, "ClientID": S, "Channel": S, "Metadata": S, "Body": BYTES,
                 "Tags": MAP, "Attributes": (OBJ, {}), "Policy": (OBJ, POLICY),
                 "Topic": S, "Partition": I, "PartitionKey": S}
EVENT = {"EventID": S, "ClientID": S, "Channel": S, "Metadata": S, "Body": BYTES,
         "Store": BOOL, "Tags": MAP}
BATCH = {"BatchID": S, "Messages": (LIST, QUEUE_MESSAGE)}
RECEIVE = {"RequestID": S, "ClientID": S, "Channel": S, "MaxNumberOfMessages": I,
           "WaitTimeSeconds": I, "IsPeak": BOOL}
ACK_ALL = {"RequestID": S, "ClientID": S, "Channel": S, "WaitTimeSeconds": I}
INFO = {"RequestID": S, "QueueName": S}
REQUEST = {"RequestID": S, "RequestTypeData": I, "ClientID": S, "Channel": S,
           "Metadata": S, "Body": BYTES, "ReplyChannel": S, "Timeout": I, "CacheKey": S,
           "CacheTTL": I, "Span": BYTES, "Tags": MAP}
RESPONSE = {"ClientID": S, "RequestID": S, "ReplyChannel": S, "Metadata": S, "Body": BYTES,
            "CacheHit": BOOL, "Timestamp": I, "Executed": BOOL, "Error": S, "Span": BYTES,
            "Tags": MAP}

# pkg/entities/errors.go (section 1.5)
E101 = "Error 101: invalid clientID value, cannot be empty"
E102 = "Error 102: invalid channel value, cannot be empty"
E107 = "Error 107: invalid channel value, no wildcards are allowed"
E108 = "Error 108: invalid channel value, no white spaces are allowed"
E110 = "Error 110: invalid message, cannot be empty"
E119 = "Error 119: invalid channel value, cannot end with `.`"
E120 = "Error 120: invalid queue name value, cannot be empty, contain wildcards or white spaces, or end with `.`"
E122 = "Error 122: max messages should be between 1 and max message setting 1024"
E133 = "Error 133: invalid expiration seconds, exceeds max expiration setting 43200"
E134 = "Error 134: invalid max receive count, exceeds max receive count setting 1024"
E135 = "Error 135: invalid delay seconds, exceeds max delay setting 43200"
E136 = "Error 136: invalid wait time seconds, exceeds max wait time setting 3600"
NOT_READY = "rest server is not ready to accept requests"


class BindError(Exception):
    """echo's bind failure: answered as a 400 envelope with echo's text."""


def bind(obj, schema, path=""):
    """Go encoding/json into a struct: case-insensitive keys, unknown keys ignored."""
    if obj is None:
        obj = {}
    if not isinstance(obj, dict):
        raise BindError("code=400, message=Unmarshal type error: expected=object, got=%s, "
                        "field=%s" % (type(obj).__name__, path or "body"))
    out = {}
    lower = {k.lower(): k for k in schema}
    # Go prefers an exact key match, then a case-insensitive one.
    for key, val in obj.items():
        name = key if key in schema else lower.get(key.lower())
        if name is None:
            continue
        kind = schema[name]
        sub = None
        if isinstance(kind, tuple):
            kind, sub = kind
        field = path + "." + name if path else name
        if val is None:
            continue
        if kind == S:
            if not isinstance(val, str):
                raise type_error(val, "string", field)
        elif kind == I:
            if isinstance(val, bool) or not isinstance(val, (int, float)) or \
                    (isinstance(val, float) and not val.is_integer()):
                raise type_error(val, "int", field)
            val = int(val)
        elif kind == BOOL:
            if not isinstance(val, bool):
                raise type_error(val, "bool", field)
        elif kind == BYTES:
            if not isinstance(val, str):
                raise type_error(val, "[]uint8", field)
            try:
                val = base64.b64decode(val, validate=True)
            except (binascii.Error, ValueError):
                raise BindError("code=400, message=illegal base64 data at input byte 0, "
                                "field=%s" % field)
        elif kind == MAP:
            if not isinstance(val, dict) or not all(isinstance(v, str) for v in val.values()):
                raise type_error(val, "map[string]string", field)
        elif kind == OBJ:
            val = bind(val, sub, field) if sub else (val if isinstance(val, dict) else None)
            if val is None:
                raise type_error(obj[key], "object", field)
        elif kind == LIST:
            if not isinstance(val, list):
                raise type_error(val, "array", field)
            val = [bind(v, sub, field) for v in val]
        out[name] = val
    return out


def type_error(val, want, field):
    return BindError("code=400, message=Unmarshal type error: expected=%s, got=%s, field=%s"
                     % (want, type(val).__name__, field))


def omit_zero(d):
    """Go's omitempty: drop false, 0, "" and empty containers (recursively)."""
    if isinstance(d, dict):
        return {k: omit_zero(v) for k, v in d.items()
                if v not in (None, False, 0, "", [], {}) or v is True}
    if isinstance(d, list):
        return [omit_zero(v) for v in d]
    return d


def nuid():
    return uuid.uuid4().hex.upper()[:22]


def channel_error(ch, queue):
    if queue:
        bad = not ch or ch.endswith(".") or " " in ch or "*" in ch or ">" in ch
        return E120 if bad else None
    if not ch:
        return E102
    if ch.endswith("."):
        return E119
    if " " in ch:
        return E108
    if "*" in ch or ">" in ch:
        return E107
    return None


class State:
    def __init__(self):
        self.lock = threading.Condition()
        self.queues = {}   # channel -> [stored QueueMessage]
        self.seq = {}      # channel -> last Sequence
        self.events = {}   # channel -> [stored EventReceive]
        self.sends = []    # every message received, for the test
        self.pings = 0
        self.requests = 0
        self.reset_faults()

    def reset_faults(self):
        self.unavailable_until = 0.0
        self.slow_ms = 0
        self.slow_count = -1
        self.drop_next = 0
        self.truncate_next = 0
        self.invalid_next = 0
        self.unconfirmed_next = 0
        self.reject_ids = set()
        self.reject_error = E110


ST = State()


def validate_queue_message(m):
    if not m.get("ClientID"):
        return E101
    err = channel_error(m.get("Channel", ""), True)
    if err:
        return err
    if not m.get("Metadata") and not m.get("Body"):
        return E110
    pol = m.get("Policy", {})
    if pol.get("ExpirationSeconds", 0) > 43200 or pol.get("ExpirationSeconds", 0) < 0:
        return E133
    if pol.get("MaxReceiveCount", 0) > 1024 or pol.get("MaxReceiveCount", 0) < 0:
        return E134
    if pol.get("DelaySeconds", 0) > 43200 or pol.get("DelaySeconds", 0) < 0:
        return E135
    return None


def validate_event(e):
    if not e.get("ClientID"):
        return E101
    err = channel_error(e.get("Channel", ""), False)
    if err:
        return err
    if not e.get("Metadata") and not e.get("Body"):
        return E110
    return None


def record(route, m, idkey, stored, error):
    body = m.get("Body", b"")
    t = threading.current_thread()
    ST.sends.append({"route": route, "request": t.em_request, "auth": t.em_auth, "id": m.get(idkey, ""), "Channel": m.get("Channel", ""),
                     "ClientID": m.get("ClientID", ""), "Metadata": m.get("Metadata", ""),
                     "Body": body.decode("utf-8", "replace"), "stored": stored,
                     "error": error or "", "t": time.time()})


def queue_send_one(m, route):
    """SendQueueMessageResult for one message; stores it when valid (lock held)."""
    if not m.get("MessageID"):
        m["MessageID"] = nuid()
    err = validate_queue_message(m)
    if not err and m["MessageID"] in ST.reject_ids:
        err = ST.reject_error
    if err:
        record(route, m, "MessageID", False, err)
        return {"MessageID": m["MessageID"], "IsError": True, "Error": err}
    if ST.unconfirmed_next > 0:
        ST.unconfirmed_next -= 1
        record(route, m, "MessageID", False, "unconfirmed")
        return {"MessageID": m["MessageID"]}
    now = time.time_ns()
    ch = m["Channel"]
    ST.seq[ch] = ST.seq.get(ch, 0) + 1
    body = m.get("Body", b"")
    stored = dict(m)
    stored["Attributes"] = {"Timestamp": now, "Sequence": ST.seq[ch],
                            "MD5OfBody": hashlib.md5(body).hexdigest(), "ReceiveCount": 0}
    ST.queues.setdefault(ch, []).append(stored)
    ST.lock.notify_all()
    record(route, m, "MessageID", True, None)
    exp = m.get("Policy", {}).get("ExpirationSeconds", 0)
    delay = m.get("Policy", {}).get("DelaySeconds", 0)
    return {"MessageID": m["MessageID"], "SentAt": now,
            "ExpirationAt": now + exp * 10**9 if exp else 0,
            "DelayedTo": now + delay * 10**9 if delay else 0}


def wire_message(m):
    """A stored QueueMessage as JSON: Body back to base64, zero fields left out."""
    out = dict(m)
    out["Body"] = base64.b64encode(m.get("Body", b"")).decode()
    return omit_zero(out)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes
    server_version = "KubeMQ-fake"

    ROUTES = {
        "/": ("GET", "root"),
        "/send/event": ("POST", "send_event"),
        "/send/stream": ("GET", "websocket"),
        "/subscribe/events": ("GET", "websocket"),
        "/send/request": ("POST", "send_request"),
        "/subscribe/requests": ("GET", "websocket"),
        "/send/response": ("POST", "send_response"),
        "/queue/send": ("POST", "queue_send"),
        "/queue/send_batch": ("POST", "queue_send_batch"),
        "/queue/receive": ("POST", "queue_receive"),
        "/queue/stream": ("GET", "websocket"),
        "/queue/ack_all": ("POST", "queue_ack_all"),
        "/queue/info": ("GET", "queue_info"),
        "/ping": ("GET", "ping"),
    }

    def log_message(self, fmt, *args):
        pass

    # ---- plumbing ----

    def raw_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def send_bytes(self, status, body, ctype="application/json; charset=UTF-8", fault=None):
        if fault == "invalid":
            body = b"<html>this is not the JSON you are looking for"
        elif fault == "truncate":
            body = body[: len(body) // 2]
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Broker", HOST)
        self.send_header("X-Runtime", "go1.19.5")
        self.send_header("X-Powered-By", "KubeMQ " + VERSION)
        self.end_headers()
        if fault == "drop":
            # Half the promised bytes, then the connection goes away.
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self.wfile.write(body)

    def envelope(self, status, is_error, message, data=None, fault=None):
        res = {"is_error": is_error, "message": message,
               "data": omit_zero(data) if data is not None else None}
        self.send_bytes(status, json.dumps(res, indent="\t").encode(), fault=fault)

    def echo_error(self, code, text):
        body = json.dumps({"error_code": code, "message": text}).encode()
        self.send_bytes(code, body)

    def bind_body(self, schema):
        raw = self.raw_body()
        if not raw:
            return bind({}, schema)  # echo BindBody: nothing to decode
        ctype = self.headers.get("Content-Type", "")
        if not ctype.startswith("application/json"):
            raise BindError("code=415, message=Unsupported Media Type")
        try:
            obj = json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as e:
            pos = getattr(e, "pos", 0)
            raise BindError("code=400, message=Syntax error: offset=%d, error=invalid "
                            "character in JSON" % pos)
        return bind(obj, schema)

    def take_fault(self):
        """The reply fault for this send, if any (lock held)."""
        for name in ("drop_next", "truncate_next", "invalid_next"):
            if getattr(ST, name) > 0:
                setattr(ST, name, getattr(ST, name) - 1)
                return name.split("_")[0]
        return None

    def slow(self):
        with ST.lock:
            ms = ST.slow_ms
            if ms and ST.slow_count != 0:
                if ST.slow_count > 0:
                    ST.slow_count -= 1
            else:
                ms = 0
        if ms:
            time.sleep(ms / 1000.0)

    def dispatch(self, method):
        path = self.path.split("?", 1)[0]
        with ST.lock:
            ST.requests += 1
            threading.current_thread().em_request = ST.requests
            threading.current_thread().em_auth = self.headers.get("Authorization", "")
        if path.startswith("/_fake/"):
            return self.control(method, path)
        route = self.ROUTES.get(path)
        if route is None:
            self.raw_body()
            return self.echo_error(404, "Not Found")
        if route[0] != method:
            self.raw_body()
            return self.echo_error(405, "Method Not Allowed")
        with ST.lock:
            unavailable = time.time() < ST.unavailable_until
        if unavailable:
            self.raw_body()
            # interfaces/rest/traffic.go
            return self.envelope(503, True, NOT_READY)
        try:
            getattr(self, "h_" + route[1])()
        except BindError as e:
            self.envelope(400, True, str(e))

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_DELETE(self):
        self.dispatch("DELETE")

    # ---- KubeMQ routes ----

    def h_root(self):
        self.send_bytes(200, b"hi", "text/plain; charset=UTF-8")

    def h_websocket(self):
        self.raw_body()
        self.envelope(400, True, "websocket upgrade required (not provided by this fake)")

    def h_ping(self):
        with ST.lock:
            ST.pings += 1
        self.envelope(200, False, "OK", {"Host": HOST, "Version": VERSION,
                                         "ServerStartTime": int(START),
                                         "ServerUpTimeSeconds": int(time.time() - START)})

    def h_send_event(self):
        e = self.bind_body(EVENT)
        if not e.get("EventID"):
            e["EventID"] = nuid()
        with ST.lock:
            err = validate_event(e)
            if not err and e["EventID"] in ST.reject_ids:
                err = ST.reject_error
            if err:
                record("/send/event", e, "EventID", False, err)
                fault = None
            else:
                if e.get("Store"):
                    ch = e["Channel"]
                    ST.seq["events:" + ch] = ST.seq.get("events:" + ch, 0) + 1
                    ST.events.setdefault(ch, []).append({
                        "EventID": e["EventID"], "Channel": ch,
                        "Metadata": e.get("Metadata", ""), "Body": e.get("Body", b""),
                        "Timestamp": time.time_ns(), "Sequence": ST.seq["events:" + ch],
                        "Tags": e.get("Tags", {})})
                record("/send/event", e, "EventID", bool(e.get("Store")), None)
                fault = self.take_fault()
        if err:
            # handlers.go: events validation errors are 400 envelopes
            return self.envelope(400, True, err)
        self.slow()
        self.envelope(200, False, "OK", {"EventID": e["EventID"], "Sent": True}, fault=fault)

    def h_send_request(self):
        r = self.bind_body(REQUEST)
        if not r.get("ClientID"):
            return self.envelope(400, True, E101)
        err = channel_error(r.get("Channel", ""), False)
        if err:
            return self.envelope(400, True, err)
        # Nobody subscribes to requests here: the RPC times out (section 1.5, Error 301).
        self.envelope(400, True, "Error 301: timeout for request message")

    def h_send_response(self):
        self.bind_body(RESPONSE)
        self.envelope(200, False, "OK", None)

    def h_queue_send(self):
        m = self.bind_body(QUEUE_MESSAGE)
        with ST.lock:
            res = queue_send_one(m, "/queue/send")
            fault = self.take_fault() if res.get("SentAt") else None
        self.slow()
        # handlers.go handlerSendQueueMessage: the result is returned even on error
        self.envelope(200, False, "OK", res, fault=fault)

    def h_queue_send_batch(self):
        b = self.bind_body(BATCH)
        msgs = b.get("Messages", [])
        if not msgs:
            return self.envelope(400, True, "no messages to send")
        with ST.lock:
            results = [queue_send_one(m, "/queue/send_batch") for m in msgs]
            fault = self.take_fault()
        self.slow()
        # HaveErrors is only for store publish failures, never set for validation
        self.envelope(200, False, "OK", {"BatchID": b.get("BatchID") or nuid(),
                                         "Results": results, "HaveErrors": False},
                      fault=fault)

    def h_queue_receive(self):
        r = self.bind_body(RECEIVE)
        rid = r.get("RequestID") or nuid()
        if not r.get("ClientID"):
            return self.envelope(200, False, "OK", {"RequestID": rid, "IsError": True,
                                                    "Error": E101})
        ch = r.get("Channel", "")
        if channel_error(ch, True):
            return self.envelope(200, False, "OK", {"RequestID": rid, "IsError": True,
                                                    "Error": E120})
        maxn = r.get("MaxNumberOfMessages", 0)
        if maxn < 1 or maxn > 1024:
            return self.envelope(200, False, "OK", {"RequestID": rid, "IsError": True,
                                                    "Error": E122})
        wait = r.get("WaitTimeSeconds", 0)
        if wait < 0 or wait > 3600:
            return self.envelope(200, False, "OK", {"RequestID": rid, "IsError": True,
                                                    "Error": E136})
        wait = wait or 1
        peek = r.get("IsPeak", False)
        deadline = time.time() + wait
        with ST.lock:
            while not ST.queues.get(ch) and time.time() < deadline:
                ST.lock.wait(max(0.0, deadline - time.time()))
            q = ST.queues.get(ch, [])
            got = q[:maxn]
            if not peek:
                del q[:maxn]
            out = []
            for m in got:
                if not peek:
                    m["Attributes"]["ReceiveCount"] += 1
                out.append(wire_message(m))
        self.envelope(200, False, "OK", {"RequestID": rid, "Messages": out,
                                         "MessagesReceived": len(out), "IsPeak": peek})

    def h_queue_ack_all(self):
        r = self.bind_body(ACK_ALL)
        rid = r.get("RequestID") or nuid()
        if not r.get("ClientID"):
            return self.envelope(200, False, "OK", {"RequestID": rid, "IsError": True,
                                                    "Error": E101})
        ch = r.get("Channel", "")
        if channel_error(ch, True):
            return self.envelope(200, False, "OK", {"RequestID": rid, "IsError": True,
                                                    "Error": E120})
        with ST.lock:
            n = len(ST.queues.get(ch, []))
            ST.queues[ch] = []
        self.envelope(200, False, "OK", {"RequestID": rid, "AffectedMessages": n})

    def h_queue_info(self):
        r = self.bind_body(INFO)
        with ST.lock:
            queues = []
            for ch, q in sorted(ST.queues.items()):
                if r.get("QueueName") and r["QueueName"] not in ch:
                    continue
                queues.append({"Name": ch, "Messages": len(q),
                               "Bytes": sum(len(m.get("Body", b"")) for m in q),
                               "FirstSequence": q[0]["Attributes"]["Sequence"] if q else 0,
                               "LastSequence": ST.seq.get(ch, 0), "Sent": ST.seq.get(ch, 0),
                               "Waiting": len(q)})
        self.envelope(200, False, "OK", {"RefRequestID": r.get("RequestID", ""),
                                         "Info": {"TotalQueue": len(queues),
                                                  "Sent": sum(q["Sent"] for q in queues),
                                                  "Waiting": sum(q["Waiting"] for q in queues),
                                                  "Queues": queues}})

    # ---- test control ----

    def control(self, method, path):
        raw = self.raw_body()
        if method == "POST" and path == "/_fake/fault":
            f = json.loads(raw or b"{}")
            with ST.lock:
                if f.get("reset"):
                    ST.reset_faults()
                if "unavailable_s" in f:
                    ST.unavailable_until = time.time() + float(f["unavailable_s"])
                for k in ("slow_ms", "slow_count", "drop_next", "truncate_next",
                          "invalid_next", "unconfirmed_next"):
                    if k in f:
                        setattr(ST, k, int(f[k]))
                if "slow_ms" in f and "slow_count" not in f:
                    ST.slow_count = -1
                if "reject_ids" in f:
                    ST.reject_ids = set(f["reject_ids"])
                if "reject_error" in f:
                    ST.reject_error = f["reject_error"]
            return self.send_bytes(200, b'{"ok":true}', "application/json")
        if method == "GET" and path == "/_fake/log":
            with ST.lock:
                body = json.dumps({"sends": ST.sends, "pings": ST.pings,
                                   "requests": ST.requests})
            return self.send_bytes(200, body.encode(), "application/json")
        if method == "GET" and path == "/_fake/dump":
            with ST.lock:
                body = json.dumps({
                    "queues": {ch: [wire_message(m) for m in q] for ch, q in ST.queues.items()},
                    "events": {ch: [wire_message(e) for e in q] for ch, q in ST.events.items()}})
            return self.send_bytes(200, body.encode(), "application/json")
        self.echo_error(404, "Not Found")


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 9090
    srv = Server(("127.0.0.1", port), Handler)
    srv.serve_forever()


if __name__ == "__main__":
    main()
