"""sluice: bounded, crash-safe shared-memory inboxes for agents that run as separate local
processes. This module is the library the `sluice` command uses, not a wrapper around it:
a send is one push into shared memory.

    import sluice

    bus = sluice.Bus("demo")                       # /dev/shm/sluice/demo; Bus() follows SLUICE_DIR
    bus.send("planner", "worker", "task", b'{"n":1}')
    with bus.receive("worker", timeout=1.0) as inbox:
        for batch in inbox:                        # committed once the loop moves on
            for m in batch:
                bus.send("worker", m.sender, "result", m.payload)
    with bus.acquire("llm", cost=1500, agent="worker"):  # a [[limit]] of the bus policy
        call_the_api()                             # its lease goes back on leaving the block
"""

from ._errors import (
    AccessDeniedError,
    BackpressureError,
    BadInputError,
    BusyError,
    CircuitOpenError,
    Error,
    InboxIOError,
    InternalError,
    NotFoundError,
    OSRefusedError,
    TemporaryError,
    TooLargeError,
    UnavailableError,
)
from ._native import Batch, Bus, Message, Permit, Receiver

__version__ = "@PROJECT_VERSION@"

__all__ = [
    "AccessDeniedError",
    "BackpressureError",
    "BadInputError",
    "Batch",
    "Bus",
    "BusyError",
    "CircuitOpenError",
    "Error",
    "InboxIOError",
    "InternalError",
    "Message",
    "NotFoundError",
    "OSRefusedError",
    "Permit",
    "Receiver",
    "TemporaryError",
    "TooLargeError",
    "UnavailableError",
]
