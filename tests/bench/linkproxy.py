#!/usr/bin/env python3
# linkproxy.py - a TCP proxy that behaves like a cellular uplink, for benchmarks.
# Copyright (c) 2026 edgemon authors. SPDX-License-Identifier: MIT
#
# Used where the kernel has no netem (this machine's has not). Per direction the
# bytes are cut into segments of at most MSS bytes; each segment is serialised at
# RATE bit/s after the previous one (a shared bottleneck per direction), then
# delivered DELAY ms later (one way: half the round trip). With probability LOSS a
# segment is "lost": it arrives one retransmission timeout (max(200 ms, RTT) + RTT)
# late, and, as in TCP, nothing behind it is delivered before it (head-of-line).
# Byte counts per direction are written to STATS (JSON) every second and at exit.
#
#   linkproxy.py LISTEN_PORT TARGET_PORT [--rtt-ms 150] [--rate-bps 2000000]
#                [--loss 0.01] [--stats FILE] [--seed N]
import argparse
import asyncio
import json
import random
import signal
import time

MSS = 1448


class Direction:
    """One direction of the emulated link: bottleneck, delay, loss."""

    def __init__(self, rate_bps, delay_s, rto_s, loss, rng):
        self.rate = rate_bps
        self.delay = delay_s
        self.rto = rto_s
        self.loss = loss
        self.rng = rng
        self.link_free_at = 0.0  # when the bottleneck finishes the previous segment
        self.bytes = 0
        self.segments = 0
        self.lost = 0

    def schedule(self, size, last_arrival):
        now = time.monotonic()
        start = max(now, self.link_free_at)
        self.link_free_at = start + size * 8 / self.rate
        arrival = self.link_free_at + self.delay
        if self.rng.random() < self.loss:
            arrival += self.rto
            self.lost += 1
        self.bytes += size
        self.segments += 1
        return max(arrival, last_arrival)


async def pump(reader, writer, d):
    queue = asyncio.Queue()

    async def deliver():
        while True:
            item = await queue.get()
            if item is None:
                break
            at, data = item
            wait = at - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()
        writer.close()

    task = asyncio.ensure_future(deliver())
    last = 0.0
    try:
        while True:
            data = await reader.read(MSS)
            if not data:
                break
            last = d.schedule(len(data), last)
            queue.put_nowait((last, data))
    except (ConnectionError, OSError):
        pass
    queue.put_nowait(None)
    try:
        await task
    except (ConnectionError, OSError):
        pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("listen", type=int)
    ap.add_argument("target", type=int)
    ap.add_argument("--rtt-ms", type=float, default=150)
    ap.add_argument("--rate-bps", type=float, default=2e6)
    ap.add_argument("--loss", type=float, default=0.01)
    ap.add_argument("--stats")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    rtt = a.rtt_ms / 1000
    rto = max(0.2, rtt) + rtt
    up = Direction(a.rate_bps, rtt / 2, rto, a.loss, rng)
    down = Direction(a.rate_bps, rtt / 2, rto, a.loss, rng)

    def write_stats():
        if a.stats:
            with open(a.stats + ".tmp", "w") as f:
                json.dump({"up_bytes": up.bytes, "down_bytes": down.bytes,
                           "up_segments": up.segments, "up_lost": up.lost,
                           "down_segments": down.segments, "down_lost": down.lost}, f)
            import os
            os.replace(a.stats + ".tmp", a.stats)

    async def handle(cr, cw):
        try:
            tr, tw = await asyncio.open_connection("127.0.0.1", a.target)
        except OSError:
            cw.close()
            return
        await asyncio.gather(pump(cr, tw, up), pump(tr, cw, down))

    async def run():
        server = await asyncio.start_server(handle, "127.0.0.1", a.listen)
        loop = asyncio.get_running_loop()
        stop = loop.create_future()
        for s in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(s, stop.set_result, None)
        print("listening", flush=True)
        while not stop.done():
            write_stats()
            await asyncio.wait([stop], timeout=1)
        server.close()
        write_stats()

    asyncio.run(run())


if __name__ == "__main__":
    main()
