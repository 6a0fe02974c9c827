"""Bus.acquire: a named limit of the bus policy from Python, as `sluice acquire` takes it,
with a permit that gives its lease back when the `with` block ends."""

import json
import pathlib
import signal
import subprocess
import time

import pytest

import sluice
from conftest import cli, python_child

POLICY_FILE = pathlib.Path(__file__).parent.parent / "acquire_policy.toml"


@pytest.fixture
def governed(bus):
    cli(bus.path, "policy", "apply", str(POLICY_FILE))
    return bus


def process_state(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def limit_named(bus, name):
    return next(l for l in json.loads(cli(bus.path, "limits").stdout)["limits"] if l["name"] == name)


def test_a_permit_holds_its_lease_for_the_with_block_and_gives_it_back_on_exit(governed):
    with governed.acquire("gpu", agent="py-agent") as permit:
        assert permit.key == "gpu"
        assert isinstance(permit.lease, str)
        assert not permit.released
        with pytest.raises(sluice.BackpressureError) as e:
            governed.acquire("gpu", timeout=0)
        assert e.value.exit_code == 75
        assert len(limit_named(governed, "gpu")["holders"]) == 1
    assert permit.released
    assert limit_named(governed, "gpu")["holders"] == []
    with governed.acquire("gpu"):  # the lease came back
        pass
    assert limit_named(governed, "gpu")["released"] == 2


def test_cost_is_recorded_against_the_agent_and_a_hard_quota_refuses_with_the_exit_69_kind(governed):
    permit = governed.acquire("llm", cost=600, agent="py-agent")
    assert permit.lease is None  # no concurrency: nothing to give back
    assert permit.remaining == 9
    permit.release()
    permit.release()  # a second release does nothing
    with pytest.raises(sluice.UnavailableError) as e:
        governed.acquire("llm", cost=600)
    assert e.value.exit_code == 69
    assert "quota" in str(e.value)
    rows = json.loads(cli(governed.path, "cost", "--by", "agent").stdout)
    assert [(r["agent"], r["cost"]) for r in rows] == [("py-agent", 600)]


def test_no_policy_and_an_unknown_limit_are_not_found(bus, governed):
    with pytest.raises(sluice.NotFoundError):
        governed.acquire("nope")
    with pytest.raises(sluice.NotFoundError):
        sluice.Bus(dir=bus.path + "-other").acquire("gpu")
    with pytest.raises(sluice.BadInputError):
        governed.acquire("gpu", cost=0)


def test_ctrl_c_stops_an_acquire_waiting_for_a_lease_which_takes_nothing(governed):
    holder = governed.acquire("gpu")
    code = (
        "import sluice\n"
        f"bus = sluice.Bus(dir={governed.path!r})\n"
        "try:\n"
        "    print('waiting', flush=True)\n"
        "    bus.acquire('gpu', timeout=600)\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted', flush=True)\n"
    )
    child = python_child(code, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert child.stdout.readline().decode().strip() == "waiting"
    # Asleep in the acquire's wait, not still on its way there.
    deadline = time.monotonic() + 20
    while process_state(child.pid) != "S" and time.monotonic() < deadline:
        time.sleep(0.01)
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=30)
    assert out.decode().strip() == "interrupted", err.decode()
    holder.release()
    assert limit_named(governed, "gpu")["holders"] == []
