"""bench/bindings/run.py with tiny counts, started from the build directory's parent with the
build named relatively (as the README says to run it): it must give a rate for every sender
built here, and a latency and the bare pipe's for each binding.
   bench_smoke.py <run.py> <build dir>"""
import json
import os
import subprocess
import sys

run_py, build = sys.argv[1], os.path.abspath(sys.argv[2])
parent, name = os.path.split(build)
done = subprocess.run(
    [sys.executable, run_py, "--build", name, "--runs", "1", "--messages", "2000",
     "--cli-messages", "3", "--latency-messages", "20", "--warmup", "5", "--json"],
    cwd=parent, capture_output=True, text=True, timeout=240)
assert done.returncode == 0, done.stdout + done.stderr
results = json.loads(done.stdout)["results"]
expected = {"C++", "CLI"}
if os.path.isdir(os.path.join(build, "bindings", "python", "sluice")):
    expected.add("Python")
if os.path.exists(os.path.join(build, "bindings", "node", "sluice", "sluice.node")):
    expected.add("Node.js")
assert set(results) == expected, results
for sender, figures in results.items():
    assert figures["msgs_per_s"] > 0, (sender, figures)
    if sender != "CLI":
        assert figures["p50_us"] > 0 and figures["p99_us"] >= figures["p50_us"], (sender, figures)
        assert figures["pipe_p50_us"] > 0, (sender, figures)
print("run.py measured", ", ".join(sorted(results)))
