"""Consuming: batches committed after handling, iteration with a timeout, waits that release
the GIL and stop on Ctrl-C."""

import gc
import os
import signal
import subprocess
import sys
import threading

import pytest

import sluice
from conftest import python_child


def send_numbers(bus, n, to="w"):
    for i in range(n):
        bus.send("a", to, "t", str(i).encode())


def payloads(batch):
    return [m.payload for m in batch]


def test_a_batch_used_as_a_context_manager_is_committed_when_its_block_ends(bus):
    send_numbers(bus, 3)
    with bus.receive("w") as inbox:
        with inbox.batch(timeout=5) as batch:
            assert payloads(batch) == [b"0", b"1", b"2"]
        assert batch.committed
    assert bus.count("w") == 0


def test_a_batch_whose_block_raised_stays_pending_and_comes_again(bus):
    send_numbers(bus, 2)
    with bus.receive("w") as inbox:
        with pytest.raises(RuntimeError):
            with inbox.batch(timeout=5):
                raise RuntimeError("handler failed")
        assert payloads(inbox.batch(timeout=5)) == [b"0", b"1"]
    assert bus.count("w") == 2


def test_asking_again_before_commit_returns_the_same_messages(bus):
    send_numbers(bus, 2)
    with bus.receive("w") as inbox:
        first = inbox.batch()
        again = inbox.batch()
        assert payloads(first) == payloads(again) == [b"0", b"1"]
        first.commit()
        again.commit()  # the same messages: already committed, nothing more is freed
        send_numbers(bus, 1)
        assert payloads(inbox.batch(timeout=5)) == [b"0"]


def test_iterating_commits_each_batch_when_the_loop_moves_on_and_ends_after_the_timeout(bus):
    send_numbers(bus, 5)
    seen = []
    with bus.receive("w", max=2, timeout=0.2) as inbox:
        for batch in inbox:
            seen.append(payloads(batch))
            assert bus.count("w") == 5 - sum(map(len, seen[:-1]))  # this batch not yet committed
    assert seen == [[b"0", b"1"], [b"2", b"3"], [b"4"]]
    assert bus.count("w") == 0


def test_a_loop_left_by_an_exception_leaves_its_batch_pending(bus):
    send_numbers(bus, 3)
    with bus.receive("w", max=2, timeout=0.2) as inbox:
        with pytest.raises(RuntimeError):
            for batch in inbox:
                if payloads(batch) == [b"2"]:
                    raise RuntimeError("handler failed")
        assert payloads(inbox.batch()) == [b"2"]
    assert bus.count("w") == 1


def received_while_waiting(bus, inbox, payload):
    """Sends payload from this thread while another waits in inbox.batch; what that got."""
    got = []
    waiting = threading.Event()

    def receive():
        waiting.set()
        got.extend(payloads(inbox.batch(timeout=30)))

    t = threading.Thread(target=receive)
    t.start()
    waiting.wait()
    bus.send("a", "w", "t", payload)
    t.join()
    return got


def test_a_receiver_waiting_lets_other_threads_run_so_their_send_reaches_it(bus):
    with bus.receive("w") as inbox:
        # Holding the GIL for the whole wait would keep this send back until the receiver
        # gave up with an empty batch.
        got = received_while_waiting(bus, inbox, b"from another thread")
    assert got == [b"from another thread"]


def test_a_spinning_receiver_gets_a_message_from_another_thread_and_still_ends_at_its_timeout(bus):
    with bus.receive("w", spin_us=1_000_000) as inbox:
        # The spin releases the GIL as the sleep does: this send gets through while it spins.
        got = received_while_waiting(bus, inbox, b"while it spins")
        inbox.commit()
        # Nothing comes: a spin longer than the timeout still ends the wait at the timeout.
        assert payloads(inbox.batch(timeout=0.01, spin_us=60_000_000)) == []
    assert got == [b"while it spins"]


def test_an_invalid_spin_is_refused_before_an_inbox_is_attached(bus):
    for bad in (-1, float("nan"), float("inf")):
        with pytest.raises(sluice.BadInputError):
            bus.receive("w", spin_us=bad)
    with bus.receive("w") as inbox:  # no consumer was left behind
        with pytest.raises(sluice.BadInputError):
            inbox.batch(timeout=0, spin_us=-5)


def test_ctrl_c_stops_a_spinning_receive(bus_dir):
    interrupt_a_waiting_receive(bus_dir, "spin_us=600_000_000")


def test_a_closed_receiver_raises_unavailable_and_lets_another_consumer_attach(bus, bus_dir):
    inbox = bus.receive("w")
    inbox.close()
    assert inbox.closed
    with pytest.raises(sluice.UnavailableError):
        inbox.batch()
    with sluice.Bus(dir=bus_dir).receive("w") as other:
        assert not other.closed


def test_closing_a_receiver_from_another_thread_ends_a_wait_in_it_with_unavailable(bus):
    inbox = bus.receive("w")
    outcome = []

    def wait():
        try:
            inbox.batch(timeout=None)
            outcome.append("returned")
        except sluice.UnavailableError:
            outcome.append("unavailable")

    waiting = threading.Thread(target=wait)
    waiting.start()
    inbox.close()  # before or during the wait: either way the wait ends
    waiting.join(timeout=30)
    assert not waiting.is_alive()
    assert outcome == ["unavailable"]


def test_a_batch_keeps_the_messages_it_read_when_a_finalizer_reads_on_while_it_is_built(bus_dir, monkeypatch):
    # A garbage collection may start at any allocation Python watches, and its finalizers run
    # Python code: here one that reads on from the same receiver and makes the ring wrap over
    # the slots of the batch being built (in a program it would be another thread, run because
    # the finalizer let the GIL go). Each threshold starts the collection at another allocation
    # of the call; at every one, each message of the batch must still be the one it was sent as.
    monkeypatch.setenv("MAX_INBOX_SIZE", "2")
    for threshold in range(1, 16):
        bus = sluice.Bus(dir=os.path.join(bus_dir, str(threshold)))
        inbox = bus.receive("w")
        sent = {}

        def send(payload):
            sent[bus.send("a", "w", "t", payload)] = payload

        send(b"first")
        send(b"second")
        armed = [False]

        class ReadsOn:
            def __del__(self):
                if not armed[0]:
                    return
                armed[0] = False
                with inbox.batch(timeout=0):
                    pass
                for k in range(64):
                    send(b"late-%d-a" % k)
                    send(b"late-%d-b" % k)
                    if k < 63:
                        with inbox.batch(timeout=0):
                            pass

        gc.disable()
        gc.collect()
        garbage = ReadsOn()
        garbage.cycle = garbage
        del garbage
        armed[0] = True
        old_threshold = gc.get_threshold()
        gc.set_threshold(threshold)
        gc.enable()
        try:
            batch = inbox.batch(timeout=0)
        finally:
            gc.set_threshold(*old_threshold)
            gc.collect()
        assert [m.payload for m in batch] == [sent[m.id] for m in batch], threshold
        inbox.close()


def test_a_forked_child_that_lives_on_neither_keeps_the_receiver_nor_reads_from_it(bus):
    # multiprocessing forks by default here: its workers must not hold on to the parent's inbox.
    send_numbers(bus, 1)
    inbox = bus.receive("w")
    report_r, report_w = os.pipe()
    go_r, go_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            inbox.batch(timeout=0)
        except sluice.UnavailableError as e:
            code = 0 if "forked" in str(e) else 2
        except BaseException:
            code = 3
        os.write(report_w, bytes([code]))
        os.read(go_r, 1)  # lives on until the parent is done
        os._exit(0)
    try:
        assert os.read(report_r, 1) == bytes([0])
        inbox.close()
        with bus.receive("w") as again:  # refused as busy before: the child held the lock
            assert payloads(again.batch(timeout=5)) == [b"0"]
    finally:
        os.write(go_w, b"x")
        os.waitpid(pid, 0)
        for fd in (report_r, report_w, go_r, go_w):
            os.close(fd)


def wait_for_line(proc, expected):
    line = proc.stdout.readline().decode().strip()
    assert line == expected, proc.stderr.read().decode()


def interrupt_a_waiting_receive(bus_dir, receive_options=""):
    """A child process waits in batch() on w's inbox (receive('w', <options>)), gets SIGINT,
    and must end the wait with KeyboardInterrupt and exit 0."""
    code = (
        "import sluice, sys\n"
        f"inbox = sluice.Bus(dir={bus_dir!r}).receive('w', {receive_options})\n"
        "try:\n"
        "    print('waiting', flush=True)\n"
        "    inbox.batch(timeout=None)\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted', flush=True)\n"
    )
    child = python_child(code, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_for_line(child, "waiting")
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=30)
    assert out.decode().strip() == "interrupted", err.decode()
    assert child.returncode == 0


def test_ctrl_c_stops_a_waiting_receive_with_keyboard_interrupt_and_consumes_nothing(bus, bus_dir):
    interrupt_a_waiting_receive(bus_dir)
    send_numbers(bus, 1)
    with bus.receive("w") as inbox:  # the child's consumer lock is gone
        assert payloads(inbox.batch(timeout=5)) == [b"0"]


def test_ctrl_c_stops_a_send_waiting_on_a_full_inbox_which_sends_nothing_and_counts_no_failure(bus, bus_dir):
    os.environ["MAX_INBOX_SIZE"] = "1"
    try:
        sluice.Bus(dir=bus_dir).send("a", "w", "t", b"fills it")
    finally:
        del os.environ["MAX_INBOX_SIZE"]
    code = (
        "import sluice\n"
        f"bus = sluice.Bus(dir={bus_dir!r})\n"
        "try:\n"
        "    print('sending', flush=True)\n"
        "    bus.send('a', 'w', 't', b'never', timeout=600)\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted', flush=True)\n"
    )
    child = python_child(code, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_for_line(child, "sending")
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=30)
    assert out.decode().strip() == "interrupted", err.decode()
    stats = bus.stats("w")
    assert (stats["size"], stats["send_failures"], stats["breaker"]) == (1, 0, "closed")


def test_importing_the_module_fills_closed_standard_descriptors_before_anything_is_opened(bus_dir):
    code = (
        "import os, sluice\n"
        "os.write(2, os.readlink('/proc/self/fd/1').encode() + b' ')\n"
        f"sluice.Bus(dir={bus_dir!r}).send('a', 'w', 't', b'x')\n"
        "os.write(2, os.readlink('/proc/self/fd/1').encode())\n"
    )
    child = subprocess.run([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           env=dict(os.environ), preexec_fn=lambda: os.close(1))
    assert child.stderr.decode().endswith("/dev/null /dev/null"), child.stderr.decode()
    assert child.returncode == 0
