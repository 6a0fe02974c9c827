"""Every API of the package as a typed program would use it: test_types.py runs mypy --strict
on this file, so the stubs (sluice/_native.pyi) and the package's own hints are checked against
real use. Never run."""
import sluice


def worker(bus: sluice.Bus, me: str) -> int:
    handled = 0
    with bus.receive(me, max=10, timeout=1.5, spin_us=100) as inbox:
        for batch in inbox:
            for m in batch:
                mid: int = m.id
                payload: bytes = m.payload
                sender: str = m.sender
                assert m.priority in ("critical", "high", "normal", "low")
                assert mid >= 0 and m.sequence >= 0 and m.sent_ns >= 0 and m.type
                bus.send(me, sender, "result", payload, priority="high", timeout=2.0, wait=True, overflow="reject")
                handled += 1
        with inbox.batch(timeout=None) as b:
            first: sluice.Message = b[0]
            some: list[sluice.Message] = b[1:]
            handled += len(b) + len(some) + len(first.payload)
        inbox.batch(max=5, spin_us=None).commit()
        inbox.commit()
        assert not inbox.closed and inbox.agent == me
    return handled


def inspect(bus: sluice.Bus) -> None:
    rows: list[dict[str, int | str]] = bus.stats()
    row: dict[str, int | str] = bus.stats("w")
    pending: list[sluice.Message] = bus.peek("w", 3)
    names: list[str] = bus.agents()
    count: int = bus.count("w")
    print(rows, row, pending, names, count, bus.path)


def errors(bus: sluice.Bus) -> None:
    try:
        bus.send("a", "w", "t", bytearray(b"x"), wait=False)
    except sluice.BackpressureError as e:
        print(e.exit_code, e.attempts, e.waited)
    except sluice.CircuitOpenError as e:
        print(e.retry_after)
    except (sluice.TooLargeError, sluice.BadInputError, sluice.AccessDeniedError, sluice.BusyError) as e:
        print(e.kind)
    except sluice.Error as e:
        print(e.exit_code)


def governed(bus: sluice.Bus) -> None:
    with bus.acquire("llm", 1500, agent="a", timeout=2.5) as permit:
        lease: str | None = permit.lease
        print(permit.key, lease, permit.limit, permit.remaining, permit.soft_quota_exceeded)
    p: sluice.Permit = bus.acquire("gpu")
    p.release()
    print(p.released)


inspect(sluice.Bus("name"))
errors(sluice.Bus(dir="/tmp/x", group=True))
worker(sluice.Bus(), "w")
governed(sluice.Bus())
