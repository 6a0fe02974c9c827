#!/usr/bin/env python3
"""How much slower code runs right after its process paused, on this machine (no test asserts on
these numbers; README "Python and Node.js agents" quotes them):

  a Python `send` into an inbox nobody waits on, in a loop and after each time.sleep(--pause-us)
  pure-Python json.dumps of a small dict, in a loop, after a busy wait of --pause-us, and after
  time.sleep(--pause-us)

A one-way latency with one message every --pause-us pays the "after a sleep" figure on the
sending side (and its like on the receiving one); the busy wait tells a paused CPU from a
paused process.

  bench/bindings/cold_code.py [--build build] [--pause-us 200] [--calls 3000]
"""
import argparse
import json
import os
import statistics
import sys
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))
p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
p.add_argument("--build", default=os.path.join(here, "..", "..", "build"))
p.add_argument("--pause-us", type=int, default=200)
p.add_argument("--calls", type=int, default=3000)
args = p.parse_args()
sys.path.insert(0, os.path.join(os.path.abspath(args.build), "bindings", "python"))
import sluice  # noqa: E402

now = time.monotonic_ns
pause = args.pause_us / 1e6


def timed(call, before):
    """Median ns of call(), each preceded by before() (untimed); the first tenth not counted."""
    spent = []
    for _ in range(args.calls):
        before()
        t0 = now()
        call()
        spent.append(now() - t0)
    return statistics.median(spent[args.calls // 10:]) / 1000


def nothing():
    pass


def sleep():
    time.sleep(pause)


def spin():
    end = now() + args.pause_us * 1000
    while now() < end:
        pass


with tempfile.TemporaryDirectory(dir="/dev/shm") as d:
    bus = sluice.Bus(dir=os.path.join(d, "bus"))
    stamp = b"12345678"

    def drain():
        with bus.receive("sink") as inbox:
            while batch := inbox.batch(timeout=0):
                batch.commit()

    def send_with(before):
        drain()
        sent = [0]

        def prepare():
            before()
            if sent[0] == 900:  # the inbox holds 1000: empty it, untimed
                drain()
                sent[0] = 0
            sent[0] += 1
        return timed(lambda: bus.send("source", "sink", "m", stamp), prepare)

    rows = [
        ("Python send", "in a loop", send_with(nothing)),
        ("Python send", f"after a {args.pause_us} us sleep", send_with(sleep)),
    ]
doc = {"a": 1, "b": [1, 2, 3]}
rows += [("json.dumps", "in a loop", timed(lambda: json.dumps(doc), nothing)),
         ("json.dumps", f"after a {args.pause_us} us busy wait", timed(lambda: json.dumps(doc), spin)),
         ("json.dumps", f"after a {args.pause_us} us sleep", timed(lambda: json.dumps(doc), sleep))]
print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; median of {args.calls} calls")
for what, when, us in rows:
    print(f"{what:<12} {when:<28} {us:7.2f} us")
