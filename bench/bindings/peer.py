"""One side of a bindings benchmark, in Python (bench/bindings/run.py drives it):
    peer.py sink <bus dir> <n> [max]      consume n messages; prints the CLOCK_MONOTONIC ns of the last
    peer.py source <bus dir> <n>          send n 64-byte messages; prints the ns before the first
    peer.py lat-sink <bus dir> <n>        consume n timestamped messages; prints one-way ns of each
    peer.py lat-source <bus dir> <n> <us> send one timestamped message every <us> microseconds
    peer.py pipe-sink - <n>               the same without sluice: n stamps read from stdin
    peer.py pipe-source - <n> <us>        and written to stdout, one every <us> microseconds
A sink prints "ready" once it holds the inbox. `peer.py --spin-us N <role> ...`: the sinks
receive with that spin_us (Bus.receive)."""
import os
import struct
import sys
import time

args = sys.argv[1:]
spin_us = None
if args[0] == "--spin-us":
    spin_us, args = float(args[1]), args[2:]
role, bus_dir, n = args[0], args[1], int(args[2])
now = time.monotonic_ns

if role == "pipe-sink":
    print("ready", flush=True)
    lat, pending = [], b""
    while len(lat) < n:
        chunk = os.read(0, 8 * n)
        if not chunk:
            sys.exit("pipe-sink: the source went away")
        t = now()
        pending += chunk
        while len(pending) >= 8:
            lat.append(t - struct.unpack_from("q", pending)[0])
            pending = pending[8:]
    print(" ".join(map(str, lat)), flush=True)
    sys.exit(0)
if role == "pipe-source":
    interval = int(args[3]) / 1e6
    for _ in range(n):
        time.sleep(interval)
        os.write(1, struct.pack("q", now()))
    sys.exit(0)

import sluice  # noqa: E402 (the pipe roles run without it)

bus = sluice.Bus(dir=bus_dir)

if role in ("sink", "lat-sink"):
    with bus.receive("sink", max=1000, spin_us=spin_us) as inbox:
        print("ready", flush=True)
        got = 0
        lat = []
        while got < n:
            batch = inbox.batch(timeout=30)
            if not batch:
                sys.exit("sink: nothing for 30 s")
            if role == "lat-sink":
                t = now()
                lat.extend(t - struct.unpack_from("q", m.payload)[0] for m in batch)
            got += len(batch)
            batch.commit()
        print(now() if role == "sink" else " ".join(map(str, lat)), flush=True)
elif role == "source":
    payload = b"x" * 64
    send = bus.send
    start = now()
    for _ in range(n):
        send("source", "sink", "m", payload)
    print(start, flush=True)
elif role == "lat-source":
    interval = int(args[3]) / 1e6
    pack = struct.pack
    for _ in range(n):
        time.sleep(interval)
        bus.send("source", "sink", "m", pack("q", now()))
