"""The README's Python quick start runs as written, on a bus of its own (the only change: its
bus by name becomes a fresh directory, so the test never touches /dev/shm/sluice/demo)."""

import os
import re
import subprocess
import sys

import sluice

README = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "README.md")


def quick_start(language):
    text = open(README, encoding="utf-8").read()
    section = text.split("## Python and Node.js agents", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```" + language + r"\n(.*?)```", section, re.S).group(1)


def test_the_readmes_python_quick_start_prints_the_task_and_replies(bus_dir):
    code = quick_start("python")
    assert 'sluice.Bus("demo")' in code
    code = code.replace('sluice.Bus("demo")', f"sluice.Bus(dir={bus_dir!r})")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "planner task b'{\"n\":1}'\n"
    [reply] = sluice.Bus(dir=bus_dir).peek("planner")
    assert (reply.sender, reply.type, reply.payload) == ("worker", "result", b'{"n":1}')
