#!/usr/bin/env python3
"""The Python module and the Node.js addon against C++ and the CLI, in one run (no test
asserts on these numbers; docs/architecture.md section 12 says what is measured and why):

  throughput  one sender process moves N 64-byte messages, one `send` call each, into an inbox
              that a consumer process of the same language drains in batches (up to 1000);
              msgs/s = N / (last message consumed - first send), CLOCK_MONOTONIC across
              processes. Median of --runs. The CLI sender is `sluice send` in a shell loop
              (a process per message, as a shell agent sends), drained by the C++ consumer.
  latency     one message every --interval us (the sender sleeps between them) carrying the
              sender's CLOCK_MONOTONIC just before its `send` call; the consumer, blocked in its
              receive, subtracts it from the clock when the batch is in its hands. One-way, so it
              includes the binding's call on both sides. The first --warmup messages are not
              counted (a fresh process's first pass over the ring takes page faults).
  pipe        the same pacing and clocks without sluice: the sender writes its 8-byte stamp to a
              pipe, the receiver (blocked in read(2); Node.js: its event loop) reads it. What this
              machine charges the language for waking at all, from the same run: the p50 of the
              binding cannot be below it.
  ... spin    the Python and Node.js peers again, the sinks receiving with a spin (--spin-us;
              Python spin_us, Node.js spinUs): they watch the inbox instead of sleeping until
              woken. The window must outlast the gap between messages, or each waits on the
              doorbell or bell after all.

  bench/bindings/run.py [--build build] [--runs 5] [--messages 200000] [--spin-us 5000] [--json]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build", default=os.path.join(here, "..", "..", "build"))
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--messages", type=int, default=200000)
    p.add_argument("--cli-messages", type=int, default=300)
    p.add_argument("--latency-messages", type=int, default=5000)
    p.add_argument("--interval", type=int, default=200, help="us between latency messages")
    p.add_argument("--warmup", type=int, default=500)
    p.add_argument("--spin-us", type=int, default=5000,
                   help="the spin of the Python and Node.js spin rows' sinks (0: no such rows)")
    p.add_argument("--json", action="store_true")
    return p.parse_args()


def commands(build):
    # Absolute: the peers load the packages from it with a different working directory.
    build = os.path.abspath(build)
    cache = open(os.path.join(build, "CMakeCache.txt")).read()

    def cached(key):
        for line in cache.splitlines():
            if line.startswith(key + ":"):
                return line.split("=", 1)[1]
        return ""

    python = cached("SLUICE_PYTHON_EXECUTABLE") or sys.executable
    node = cached("NODE_EXECUTABLE") or "node"
    peers = {"C++": [os.path.join(build, "bench", "bindings", "sluice-bench-peer")]}
    if os.path.exists(os.path.join(build, "bindings", "python", "sluice")):
        peers["Python"] = [python, os.path.join(here, "peer.py")]
    if os.path.exists(os.path.join(build, "bindings", "node", "sluice", "sluice.node")):
        peers["Node.js"] = [node, os.path.join(here, "peer.js")]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.path.join(build, "bindings", "python")
    env["SLUICE_NODE_PACKAGE"] = os.path.join(build, "bindings", "node", "sluice")
    for k in ("SLUICE_DIR", "SLUICE_BUS", "MAX_INBOX_SIZE", "BACKPRESSURE_WAIT_MS"):
        env.pop(k, None)
    return peers, os.path.join(build, "cli", "sluice"), env


def start_sink(cmd, bus, n, env, role="sink"):
    sink = subprocess.Popen(cmd + [role, bus, str(n)], stdout=subprocess.PIPE, env=env, text=True)
    if sink.stdout.readline().strip() != "ready":
        raise SystemExit(f"{cmd}: the sink did not start")
    return sink


def finish(proc):
    out, _ = proc.communicate(timeout=600)
    if proc.returncode != 0:
        raise SystemExit(f"{proc.args}: exit {proc.returncode}")
    return out.strip()


def throughput(sink_cmd, source, n, env):
    """msgs/s of one run; source(bus) runs the sender and returns its first-send ns."""
    with tempfile.TemporaryDirectory(dir="/dev/shm") as d:
        bus = os.path.join(d, "bus")
        sink = start_sink(sink_cmd, bus, n, env)
        start = source(bus)
        end = int(finish(sink))
    return n / ((end - start) / 1e9)


def latency(cmd, args, env):
    with tempfile.TemporaryDirectory(dir="/dev/shm") as d:
        bus = os.path.join(d, "bus")
        n = args.latency_messages + args.warmup
        sink = start_sink(cmd, bus, n, env, "lat-sink")
        subprocess.run(cmd + ["lat-source", bus, str(n), str(args.interval)], env=env, check=True)
        lat = sorted(int(x) for x in finish(sink).split()[args.warmup:])
    return lat[len(lat) // 2] / 1000, lat[int(len(lat) * 0.99)] / 1000


def pipe_latency(cmd, args, env):
    """p50 of the same pacing through a bare pipe, sender and receiver of the same language."""
    n = args.latency_messages + args.warmup
    r, w = os.pipe()
    sink = subprocess.Popen(cmd + ["pipe-sink", "-", str(n)], stdin=r, stdout=subprocess.PIPE,
                            env=env, text=True)
    os.close(r)
    if sink.stdout.readline().strip() != "ready":
        raise SystemExit(f"{cmd}: the pipe sink did not start")
    subprocess.run(cmd + ["pipe-source", "-", str(n), str(args.interval)], stdout=w, env=env,
                   check=True)
    os.close(w)
    lat = sorted(int(x) for x in finish(sink).split()[args.warmup:])
    return lat[len(lat) // 2] / 1000


def main():
    args = parse_args()
    peers, sluice, env = commands(args.build)
    load_before = os.getloadavg()

    def measure(cmd):
        def source(bus):
            return int(subprocess.run(cmd + ["source", bus, str(args.messages)], env=env, check=True,
                                      capture_output=True, text=True).stdout)
        rates = [throughput(cmd, source, args.messages, env) for _ in range(args.runs)]
        lats = [latency(cmd, args, env) for _ in range(3)]
        return {
            "msgs_per_s": statistics.median(rates),
            "p50_us": statistics.median(l[0] for l in lats),
            "p99_us": statistics.median(l[1] for l in lats),
        }

    def floor(cmd):
        return {"pipe_p50_us": statistics.median(pipe_latency(cmd, args, env) for _ in range(3))}

    # One result per sender; a variant is a sender with another receive option, printed below it.
    results, variants, rows = {}, {}, {}
    for name, cmd in peers.items():
        results[name] = rows[name] = {**measure(cmd), **floor(cmd)}
        if name in ("Python", "Node.js") and args.spin_us > 0:
            spin = measure(cmd[:2] + ["--spin-us", str(args.spin_us)] + cmd[2:])
            variants[f"{name} spin"] = rows[f"{name} spin"] = {**spin, "spin_us": args.spin_us}

    # The CLI: a process per message, as a shell agent sends.
    def cli_source(bus):
        start = time.monotonic_ns()
        subprocess.run(["bash", "-c", 'for ((i = 0; i < $2; i++)); do "$0" --dir "$1" send source sink m '
                        '"$(printf "%064d" 0)"; done', sluice, bus, str(args.cli_messages)], env=env, check=True)
        return start
    cli_rates = [throughput(peers["C++"], cli_source, args.cli_messages, env) for _ in range(args.runs)]
    results["CLI"] = rows["CLI"] = {"msgs_per_s": statistics.median(cli_rates)}
    load_after = os.getloadavg()

    cli = results["CLI"]["msgs_per_s"]
    for r in [*results.values(), *variants.values()]:
        r["x_cli"] = r["msgs_per_s"] / cli
    machine = {"cpus": os.cpu_count(), "load_before": load_before[0], "load_after": load_after[0]}
    if args.json:
        print(json.dumps({"machine": machine, "results": results, "variants": variants}, indent=2))
        return
    print(f"machine: {machine['cpus']} CPUs, load average {load_before[0]:.2f} before, {load_after[0]:.2f} after")
    print(f"throughput: median of {args.runs} runs of {args.messages} messages (CLI: {args.cli_messages});"
          f" latency: median of 3 runs of {args.latency_messages}, one every {args.interval} us")
    if variants:
        print(f"... spin: the sinks receive with a spin of {args.spin_us} us")
    print()
    print(f"{'sender':<13}{'msgs/s':>12}{'x CLI':>10}{'p50 one-way':>14}{'p99 one-way':>14}"
          f"{'p50 pipe':>11}")

    def us(r, key):
        return f"{r[key]:.1f} us" if key in r else "-"
    for name, r in rows.items():
        print(f"{name:<13}{r['msgs_per_s']:>12.0f}{r['x_cli']:>10.0f}{us(r, 'p50_us'):>14}"
              f"{us(r, 'p99_us'):>14}{us(r, 'pipe_p50_us'):>11}")


if __name__ == "__main__":
    main()
