"""The type stubs against a typed program (typed_usage.py) that uses every API."""

import os
import shutil
import subprocess
import sys

import pytest


def test_the_stubs_type_check_a_program_that_uses_every_api():
    try:
        import mypy  # noqa: F401
    except ImportError:
        pytest.skip("mypy is not installed (python3-mypy)")
    here = os.path.dirname(os.path.abspath(__file__))
    env = dict(os.environ, MYPYPATH=os.environ["PYTHONPATH"])
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir=/dev/null",
         os.path.join(here, "typed_usage.py")], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
