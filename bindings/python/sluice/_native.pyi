# Type stubs for the native half of the sluice package (bindings/python/module.cpp).
import os
from typing import Iterator, Literal, overload

Priority = Literal["critical", "high", "normal", "low"]
Overflow = Literal["reject", "drop-oldest"]
StatsRow = dict[str, int | str]

class Message:
    """One message as received or peeked."""

    @property
    def id(self) -> int: ...
    @property
    def sequence(self) -> int: ...
    @property
    def sent_ns(self) -> int:
        """CLOCK_REALTIME at send, nanoseconds since the epoch."""
    @property
    def priority(self) -> Priority: ...
    @property
    def sender(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def payload(self) -> bytes: ...

class Batch:
    """Messages received together. commit() frees them in the inbox; as a context manager
    the batch is committed when the block ends without an exception."""

    @property
    def committed(self) -> bool: ...
    def commit(self) -> None: ...
    def __len__(self) -> int: ...
    @overload
    def __getitem__(self, i: int) -> Message: ...
    @overload
    def __getitem__(self, i: slice) -> list[Message]: ...
    def __iter__(self) -> Iterator[Message]: ...
    def __bool__(self) -> bool: ...
    def __enter__(self) -> Batch: ...
    def __exit__(self, *exc: object) -> Literal[False]: ...

class _BatchIterator:
    def __iter__(self) -> _BatchIterator: ...
    def __next__(self) -> Batch: ...

class Receiver:
    """The consumer of one agent's inbox; one process at a time (BusyError otherwise).
    Iterating yields batches until none arrives within the receiver's timeout; each batch
    is committed when the loop asks for the next one. A loop left by an exception leaves its
    batch pending (delivered again); commit before ``break`` to keep a handled batch."""

    @property
    def agent(self) -> str: ...
    @property
    def closed(self) -> bool: ...
    def batch(
        self, *, max: int | None = None, timeout: float | None = None, spin_us: float | None = None
    ) -> Batch:
        """Waits up to ``timeout`` seconds (None: without end) for messages; the batch is
        empty when none came. Until committed, asking again returns the same messages.
        ``spin_us``: as in ``Bus.receive``, for this wait."""
    def commit(self) -> None: ...
    def close(self) -> None: ...
    def __iter__(self) -> _BatchIterator: ...
    def __enter__(self) -> Receiver: ...
    def __exit__(self, *exc: object) -> Literal[False]: ...

class Permit:
    """A permit of a named limit (``Bus.acquire``); as a context manager it releases its
    lease on exit. A process that dies holding one loses it to the next acquire."""

    @property
    def key(self) -> str: ...
    @property
    def lease(self) -> str | None:
        """What ``sluice release`` takes; None for a limit without concurrency."""
    @property
    def limit(self) -> int: ...
    @property
    def remaining(self) -> int: ...
    @property
    def soft_quota_exceeded(self) -> bool: ...
    @property
    def released(self) -> bool: ...
    def release(self) -> None: ...
    def __enter__(self) -> Permit: ...
    def __exit__(self, *exc: object) -> bool: ...

class Bus:
    """A bus: ``Bus("name")`` is /dev/shm/sluice/name, ``Bus(dir=path)`` a directory,
    ``Bus()`` follows SLUICE_DIR / SLUICE_BUS like `sluice`; a name and a ``dir`` together
    raise BadInputError."""

    def __init__(
        self, name: str | None = None, *, dir: str | os.PathLike[str] | None = None, group: bool = False
    ) -> None: ...
    @property
    def path(self) -> str: ...
    def send(
        self,
        sender: str,
        to: str,
        type: str,
        payload: bytes | bytearray | memoryview,
        *,
        priority: Priority = "normal",
        timeout: float | None = None,
        wait: bool = True,
        overflow: Overflow = "reject",
    ) -> int:
        """Sends with backpressure and returns the message id. Creates a missing destination
        inbox. Raises BackpressureError (still full after ``timeout`` seconds, default the
        configured 5 s; at once with ``wait=False``), CircuitOpenError, TooLargeError,
        BadInputError, AccessDeniedError, ..."""
    def receive(
        self,
        agent: str,
        *,
        max: int | None = None,
        timeout: float | None = None,
        spin_us: float | None = None,
    ) -> Receiver:
        """Attaches as the consumer of ``agent``'s inbox (created when missing). ``max``:
        messages per batch (None: the bus's batch size, from the load monitor);
        ``timeout``: seconds iteration waits for a batch (None: without end); ``spin_us``:
        microseconds a wait watches the inbox (the GIL released) before it sleeps, so a
        message that comes meanwhile costs no wake-up; one core stays busy meanwhile (None:
        30, enough for a sender that streams)."""
    def peek(self, agent: str, max: int | None = None) -> list[Message]: ...
    def count(self, agent: str) -> int: ...
    @overload
    def stats(self) -> list[StatsRow]: ...
    @overload
    def stats(self, agent: str) -> StatsRow: ...
    def agents(self) -> list[str]: ...
    def acquire(self, key: str, cost: int = 1, *, agent: str = "python", timeout: float | None = None) -> Permit:
        """Takes ``cost`` units of the bus policy's [[limit]] ``key`` (rate, cost rate, quota, a
        concurrency lease), waiting up to ``timeout`` seconds (None: 5, as ``sluice acquire``;
        0: not at all). Cost is recorded against ``agent`` (``sluice cost``). Raises
        BackpressureError (no room in time, 75), UnavailableError (a deny rule, a hard quota,
        69), NotFoundError (no policy or no such limit, 66)."""

_error_kinds: list[tuple[str, int]]
