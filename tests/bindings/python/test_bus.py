"""Sending, looking and counting through the Python module, and that it is the same bus the
`sluice` command sees."""

import os

import pytest

import sluice
from conftest import cli, cli_json


def test_a_message_arrives_with_its_bytes_sender_type_priority_and_id(bus):
    sent = bus.send("planner", "worker", "task", b'{"n":1}', priority="high")
    with bus.receive("worker") as inbox:
        batch = inbox.batch(timeout=5)
        assert len(batch) == 1
        m = batch[0]
        assert (m.id, m.sender, m.type, m.priority, m.payload) == (sent, "planner", "task", "high", b'{"n":1}')
        assert isinstance(m.payload, bytes)
        assert m.sent_ns > 0


def test_binary_payloads_round_trip_exactly_from_bytes_bytearray_and_memoryview(bus):
    every_byte = bytes(range(256)) * 3
    bus.send("a", "b", "bin", every_byte)
    bus.send("a", "b", "bin", bytearray(b"\x00\x01\x02"))
    bus.send("a", "b", "bin", memoryview(b"xyz\x00")[1:])
    with bus.receive("b") as inbox:
        assert [m.payload for m in inbox.batch(timeout=5)] == [every_byte, b"\x00\x01\x02", b"yz\x00"]


def test_text_is_refused_as_a_payload_so_the_encoding_is_the_callers_choice(bus):
    with pytest.raises(TypeError, match="encode"):
        bus.send("a", "b", "t", "text")
    assert bus.count("b") == 0


def test_a_buffer_that_is_not_one_run_of_bytes_is_refused_with_pythons_reason(bus):
    with pytest.raises(BufferError, match="contiguous"):
        bus.send("a", "b", "t", memoryview(b"abcdef")[::2])
    released = memoryview(b"xyz")
    released.release()
    with pytest.raises(ValueError, match="released"):
        bus.send("a", "b", "t", released)
    assert bus.count("b") == 0


def test_critical_messages_are_received_before_the_others(bus):
    bus.send("a", "w", "t", b"normal")
    bus.send("a", "w", "t", b"low", priority="low")
    bus.send("a", "w", "t", b"critical", priority="critical")
    with bus.receive("w", max=1) as inbox:
        first = inbox.batch(timeout=5)
        assert [m.payload for m in first] == [b"critical"]


def test_peek_does_not_consume_and_count_says_how_many_are_pending(bus):
    assert bus.count("w") == 0 and bus.peek("w") == []
    for i in range(3):
        bus.send("a", "w", "t", str(i).encode())
    assert [m.payload for m in bus.peek("w")] == [b"0", b"1", b"2"]
    assert [m.payload for m in bus.peek("w", 2)] == [b"0", b"1"]
    assert bus.count("w") == 3


def test_a_bus_by_name_lives_under_dev_shm_sluice_and_without_arguments_follows_sluice_dir(bus_dir, monkeypatch):
    assert sluice.Bus("py-test-name").path == "/dev/shm/sluice/py-test-name"
    monkeypatch.setenv("SLUICE_DIR", bus_dir)
    assert sluice.Bus().path == bus_dir
    # A name given in code wins over the environment.
    assert sluice.Bus("py-test-name").path == "/dev/shm/sluice/py-test-name"


def test_the_stats_rows_are_the_rows_of_sluice_get_stats(bus, bus_dir):
    bus.send("a", "w1", "t", b"x")
    bus.send("a", "w2", "t", b"y", priority="critical")
    with bus.receive("w1") as inbox:
        inbox.batch(timeout=5).commit()
    assert bus.stats() == cli_json(bus_dir, "get-stats")
    assert bus.stats("w2") == cli_json(bus_dir, "get-stats")[1]
    assert bus.agents() == ["w1", "w2"]


def test_a_message_from_the_cli_reaches_python_and_pythons_reply_reaches_the_cli(bus, bus_dir):
    cli(bus_dir, "send", "shell", "py", "task", '{"n":7}')
    with bus.receive("py") as inbox:
        batch = inbox.batch(timeout=5)
        (task,) = batch
        bus.send("py", task.sender, "result", task.payload)
        batch.commit()
    got = cli_json(bus_dir, "recv", "shell")
    assert [(m["from"], m["type"], m["payload"]) for m in got] == [("py", "result", {"n": 7})]


def test_an_agent_at_a_peer_goes_into_the_outbound_inbox_of_the_bridge_to_that_peer(bus):
    bus.send("me", "far@east", "task", b"hello")
    (m,) = bus.peek("bridge-east")
    assert m.payload == b"far\nhello"
