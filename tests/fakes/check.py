#!/usr/bin/env python3
# check.py - what the integration tests ask the fakes, and checks on the answers.
# Copyright (c) 2026 edgemon authors. SPDX-License-Identifier: MIT
#
#   check.py get URL                  print the body of GET URL
#   check.py post URL JSON            print the body of POST URL (application/json)
#   check.py kmq-verify BASE [events] every message the fake stored (queues, or the
#                                     events store): MessageID/EventID is
#                                     "{agent}:{id}:{seq}" of its Body, Channel is
#                                     "monitoring.{dataset}", ClientID the agent,
#                                     Metadata the dataset, Body a dataset message
#   check.py kmq-bodies BASE [events] the stored Bodies, one per line, once per id
#   check.py kmq-dups BASE [events]   how many ids were stored more than once; exit 1
#                                     when two copies of one id differ
#   check.py kmq-receive BASE CHANNEL drain CHANNEL with /queue/receive (a consumer),
#                                     printing the Bodies one per line
#   check.py sink-bodies BASE [PATH]  the messages of every 2xx POST the sink saw
#                                     (arrays expanded), one per line
#   check.py gaps [FIRST] [DEV:SEQ...] stdin: messages, one per line. Per device no
#                                     seq missing between its first and last but the
#                                     DEV:SEQ given (and the first is FIRST when
#                                     given); duplicates allowed
import base64
import json
import sys
import urllib.request


def http(method, url, body=None):
    data = body.encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.read().decode()
    except urllib.error.HTTPError as e:
        return e.read().decode()


def stored(base, events):
    d = json.loads(http("GET", base + "/_fake/dump"))
    out = []
    for ch, msgs in sorted(d["events" if events else "queues"].items()):
        for m in msgs:
            m["Channel"] = m.get("Channel", ch)
            m["_body"] = base64.b64decode(m.get("Body", "")).decode()
            m["_id"] = m.get("EventID" if events else "MessageID", "")
            out.append(m)
    return out


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "get":
        print(http("GET", args[0]))
    elif cmd == "post":
        print(http("POST", args[0], args[1]))
    elif cmd == "kmq-verify":
        msgs = stored(args[0], len(args) > 1)
        bad = 0
        for m in msgs:
            try:
                b = json.loads(m["_body"])
                want = "%s:%s:%d" % (b["agent"], b["id"], b["seq"])
                ok = (m["_id"] == want and m["Channel"] == "monitoring." + b["dataset"]
                      and m.get("ClientID", b["agent"]) == b["agent"]
                      and m.get("Metadata") == b["dataset"] and b["schema"] == "edgemon/1")
            except (ValueError, KeyError) as e:
                ok, want = False, str(e)
            if not ok:
                bad += 1
                if bad <= 3:
                    print("mismatch: id %s (want %s) channel %s metadata %s" %
                          (m["_id"], want, m["Channel"], m.get("Metadata")))
        print("%d stored, %d mismatched" % (len(msgs), bad))
        sys.exit(1 if bad or not msgs else 0)
    elif cmd == "kmq-bodies":
        seen = set()
        for m in stored(args[0], len(args) > 1):
            if m["_id"] not in seen:
                seen.add(m["_id"])
                print(m["_body"])
    elif cmd == "kmq-dups":
        first, dups, differ = {}, 0, 0
        for m in stored(args[0], len(args) > 1):
            if m["_id"] in first:
                dups += 1
                differ += first[m["_id"]] != m["_body"]
            else:
                first[m["_id"]] = m["_body"]
        print(dups)
        sys.exit(1 if differ else 0)
    elif cmd == "kmq-receive":
        while True:
            r = json.loads(http("POST", args[0] + "/queue/receive", json.dumps(
                {"ClientID": "test-consumer", "Channel": args[1],
                 "MaxNumberOfMessages": 1024, "WaitTimeSeconds": 1})))
            msgs = (r.get("data") or {}).get("Messages") or []
            if not msgs:
                break
            for m in msgs:
                print(base64.b64decode(m.get("Body", "")).decode())
    elif cmd == "sink-bodies":
        for p in json.loads(http("GET", args[0] + "/_sink/log"))["posts"]:
            if not 200 <= p["status"] < 300 or (len(args) > 1 and p["path"] != args[1]):
                continue
            v = json.loads(p["body"])
            for m in v if isinstance(v, list) else [v]:
                print(json.dumps(m, separators=(",", ":")))
    elif cmd == "gaps":
        seqs = {}
        allowed = {a for a in args if ":" in a}
        args = [a for a in args if ":" not in a]
        for line in sys.stdin:
            if line.strip():
                m = json.loads(line)
                seqs.setdefault(m["id"], set()).add(m["seq"])
        bad = 0
        for dev, s in sorted(seqs.items()):
            lo, hi = min(s), max(s)
            missing = sorted(q for q in set(range(lo, hi + 1)) - s
                             if "%s:%d" % (dev, q) not in allowed)
            print("device %s: seq %d..%d, %d distinct%s" %
                  (dev, lo, hi, len(s), ", missing %s" % missing[:10] if missing else ""))
            if missing or (args and lo != int(args[0])):
                bad += 1
        sys.exit(1 if bad or not seqs else 0)
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
