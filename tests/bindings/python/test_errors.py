"""Failures are typed exceptions mirroring `sluice`'s exit codes, and leave nothing behind."""

import json
import os
import re
import subprocess
import sys

import pytest

import sluice
from sluice import _native
from conftest import cli


def full_inbox(bus, agent="w"):
    """An inbox of two slots, full."""
    os.environ["MAX_INBOX_SIZE"] = "2"
    try:
        small = sluice.Bus(dir=bus.path)
        small.send("a", agent, "t", b"1")
        small.send("a", agent, "t", b"2")
    finally:
        del os.environ["MAX_INBOX_SIZE"]
    return small


def test_every_kind_of_failure_has_a_class_with_the_exit_code_of_sluice():
    codes = {kind: code for kind, code in _native._error_kinds}
    assert codes["backpressure"] == 75 and codes["circuit_open"] == 69 and codes["permission"] == 77
    for kind, code in codes.items():
        cls = sluice._errors.class_for(kind)
        assert cls is not sluice.InternalError or kind == "internal"
        assert issubclass(cls, sluice.Error)
        assert cls.exit_code == code, kind


def test_a_full_inbox_with_wait_false_raises_backpressure_and_sends_nothing(bus):
    full_inbox(bus)
    with pytest.raises(sluice.BackpressureError) as e:
        bus.send("a", "w", "t", b"3", wait=False)
    assert e.value.exit_code == 75
    assert isinstance(e.value, sluice.TemporaryError)
    assert "is full" in str(e.value)
    assert bus.count("w") == 2


def test_an_inbox_that_stays_full_raises_backpressure_after_waiting(bus):
    full_inbox(bus)
    with pytest.raises(sluice.BackpressureError) as e:
        bus.send("a", "w", "t", b"3", timeout=0.05)
    assert e.value.attempts >= 2
    assert e.value.waited > 0
    assert "stayed full" in str(e.value)


def test_sends_that_keep_failing_open_the_circuit_and_then_fail_at_once(bus):
    full_inbox(bus)
    for _ in range(5):
        with pytest.raises(sluice.BackpressureError):
            bus.send("a", "w", "t", b"x", timeout=0.001)
    with pytest.raises(sluice.CircuitOpenError) as e:
        bus.send("a", "w", "t", b"x", timeout=10)
    assert e.value.exit_code == 69
    assert e.value.retry_after > 0
    assert bus.stats("w")["breaker"] == "open"


def test_a_payload_larger_than_a_slot_raises_too_large_and_creates_no_inbox(bus):
    with pytest.raises(sluice.TooLargeError) as e:
        bus.send("a", "new", "t", b"x" * 5000)
    assert e.value.exit_code == 65 and isinstance(e.value, sluice.BadInputError)
    assert "takes at most 3960" in str(e.value)
    assert bus.agents() == []


def test_a_bus_given_by_name_and_by_directory_raises_bad_input(tmp_path):
    with pytest.raises(sluice.BadInputError, match="give one of them"):
        sluice.Bus("x", dir=str(tmp_path / "bus"))


def test_a_payload_too_large_for_agent_at_peer_is_told_in_the_senders_terms(bus):
    # "far\n" rides in front of the payload in outbound inbox bridge-west (3960 bytes a slot).
    for _ in range(2):  # a new outbound inbox, then the existing one
        with pytest.raises(sluice.TooLargeError) as e:
            bus.send("a", "far@west", "t", b"x" * 3960)
        assert "payload is 3960 bytes, inbox far@west takes at most 3956" in str(e.value)
        bus.send("a", "far@west", "t", b"x" * 3956)
    assert bus.count("bridge-west") == 2


@pytest.mark.parametrize(
    "call",
    [
        lambda b: b.send("bad name", "w", "t", b"x"),
        lambda b: b.send("a", "w/..", "t", b"x"),
        lambda b: b.send("a", "w", "bad type!", b"x"),
        lambda b: b.send("a", "w", "t", b"x", priority="urgent"),
        lambda b: b.send("a", "w", "t", b"x", overflow="evict"),
        lambda b: b.send("a", "w", "t", b"x", timeout=-1),
        lambda b: b.receive("w", max=0),
        lambda b: sluice.Bus("../etc"),
    ],
)
def test_invalid_names_types_and_options_raise_bad_input_which_is_a_value_error(bus, call):
    with pytest.raises(sluice.BadInputError) as e:
        call(bus)
    assert e.value.exit_code == 65 and isinstance(e.value, ValueError)
    assert bus.agents() == []


@pytest.mark.parametrize(
    "timeout, said",
    [(-1, "invalid timeout -1: use a number of seconds from 0 to 1e9"),
     (1e10, "invalid timeout 1e+10: use a number of seconds from 0 to 1e9")],
)
def test_an_out_of_range_timeout_is_told_as_written_with_the_range(bus, timeout, said):
    with pytest.raises(sluice.BadInputError, match=re.escape(said)):
        bus.send("a", "w", "t", b"x", timeout=timeout)


def test_a_second_consumer_of_an_inbox_raises_busy(bus, bus_dir):
    with bus.receive("w"):
        with pytest.raises(sluice.BusyError) as e:
            sluice.Bus(dir=bus_dir).receive("w")
        assert e.value.exit_code == 75 and "already has a consumer" in str(e.value)


def test_stats_of_a_missing_inbox_raise_not_found(bus):
    with pytest.raises(sluice.NotFoundError) as e:
        bus.stats("nobody")
    assert e.value.exit_code == 66


def test_a_bus_directory_others_may_write_to_raises_access_denied(bus_dir):
    os.makedirs(bus_dir)
    os.chmod(bus_dir, 0o777)
    with pytest.raises(sluice.AccessDeniedError) as e:
        sluice.Bus(dir=bus_dir)
    assert e.value.exit_code == 77 and isinstance(e.value, PermissionError)
    assert "writable" in str(e.value)


def test_another_users_private_bus_raises_access_denied_for_that_user(bus, bus_dir):
    if os.geteuid() != 0:
        pytest.skip("needs root to run a child as nobody")
    bus.send("a", "w", "t", b"x")
    code = (
        "import sluice\n"
        "try:\n"
        f"    sluice.Bus(dir={bus_dir!r}).send('a', 'w', 't', b'x')\n"
        "except sluice.AccessDeniedError as e:\n"
        "    print('denied', e.exit_code)\n"
    )
    done = subprocess.run(
        ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", sys.executable, "-c", code],
        capture_output=True, env=dict(os.environ))
    assert done.stdout.decode().strip() == "denied 77", done.stderr.decode()
    assert bus.count("w") == 1


def test_drop_oldest_makes_room_in_a_full_inbox_by_evicting_the_oldest_message(bus):
    full_inbox(bus)
    bus.send("a", "w", "t", b"3", overflow="drop-oldest", wait=False)
    assert [m.payload for m in bus.peek("w")] == [b"2", b"3"]
    assert bus.stats("w")["dropped"] == 1


def test_the_bus_policy_governs_python_sends_as_it_governs_the_cli(bus, tmp_path):
    policy = tmp_path / "policy.toml"
    policy.write_text('[[rule]]\nname = "no-spam"\ntype = "spam"\naction = "deny"\n')
    cli(bus.path, "policy", "apply", str(policy))
    with pytest.raises(sluice.UnavailableError) as e:
        bus.send("a", "w", "spam", b"x")
    assert e.value.exit_code == 69
    assert "policy" in str(e.value)
    bus.send("a", "w", "t", b"allowed")
    assert bus.count("w") == 1
    rules = json.loads(cli(bus.path, "limits").stdout)["rules"]
    assert [(r["name"], r["denied"]) for r in rules] == [("no-spam", 1)]
