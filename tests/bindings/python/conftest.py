"""Shared by the Python binding's tests: a fresh bus directory per test, the `sluice`
executable for cross-checks, and ctest's skip convention (exit 77 when every selected test
was skipped, so ctest reports the test as skipped, not passed)."""

import json
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

import sluice


def pytest_sessionfinish(session, exitstatus):
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if exitstatus == 0 and reporter and reporter.stats.get("skipped") and not reporter.stats.get("passed"):
        session.exitstatus = 77


@pytest.fixture
def bus_dir():
    # In /dev/shm like a real bus; every directory above it is root's or sticky, so trusted.
    d = tempfile.mkdtemp(prefix="sluice-py-", dir="/dev/shm")
    yield os.path.join(d, "bus")
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def bus(bus_dir):
    return sluice.Bus(dir=bus_dir)


def cli_path():
    path = os.environ.get("SLUICE_EXE")
    if not path or not os.path.exists(path):
        pytest.skip("the sluice executable is not built (SLUICE_EXE)")
    return path


def cli(bus_dir, *args, env=None, check=True):
    """`sluice --dir bus_dir args...`: the completed process."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    done = subprocess.run([cli_path(), "--dir", bus_dir, *args], capture_output=True, env=full_env)
    if check and done.returncode != 0:
        raise AssertionError(f"sluice {' '.join(args)} exited {done.returncode}: {done.stderr.decode()}")
    return done


def cli_json(bus_dir, *args):
    return json.loads(cli(bus_dir, *args).stdout)


def python_child(code, **kwargs):
    """A Python process running `code` with the same sluice package on its path."""
    env = dict(os.environ)
    return subprocess.Popen([sys.executable, "-c", code], env=env, **kwargs)
