"""The exceptions sluice raises: one class per kind of failure, each with the exit code
`sluice` gives the same failure (README "Exit codes"), so a Python agent and a shell agent
read a failure the same way."""


class Error(Exception):
    """Every sluice failure. ``exit_code`` is the code `sluice` exits with for it."""

    exit_code = 70
    kind = "internal"


class BadInputError(Error, ValueError):
    """A name, message type, option value or inbox file that is not valid (65)."""

    exit_code = 65
    kind = "bad_input"


class TooLargeError(BadInputError):
    """A payload larger than the destination's slots hold; nothing was sent (65)."""

    kind = "too_large"


class NotFoundError(Error, LookupError):
    """An inbox or directory that was named does not exist (66)."""

    exit_code = 66
    kind = "not_found"


class UnavailableError(Error):
    """The destination cannot take messages now: its inbox is closed (69)."""

    exit_code = 69
    kind = "unavailable"


class CircuitOpenError(UnavailableError):
    """The destination kept failing and its circuit breaker is open: the send failed at once
    (69). ``retry_after``: seconds until a send can succeed again."""

    kind = "circuit_open"
    retry_after = 0.0


class InternalError(Error):
    """A bug in sluice (70)."""

    exit_code = 70
    kind = "internal"


class OSRefusedError(Error):
    """The OS refused: no space left, a bus directory that cannot be made (71)."""

    exit_code = 71
    kind = "os_error"


class InboxIOError(Error):
    """An inbox shrank or lost its memory while in use; run `sluice doctor` (74)."""

    exit_code = 74
    kind = "io_error"


class TemporaryError(Error):
    """Try again later (75)."""

    exit_code = 75
    kind = "temporary"


class BackpressureError(TemporaryError):
    """The inbox stayed full for the whole timeout, or was full and ``wait=False``; nothing
    was sent (75). ``attempts`` and ``waited`` (seconds) say what the send did."""

    kind = "backpressure"
    attempts = 0
    waited = 0.0


class BusyError(TemporaryError):
    """Another process consumes the inbox (75)."""

    kind = "busy"


class AccessDeniedError(Error, PermissionError):
    """Someone else's inbox, bus directory or configuration file, or a symlink (77)."""

    exit_code = 77
    kind = "permission"


_by_kind = {
    cls.kind: cls
    for cls in (
        BadInputError,
        TooLargeError,
        NotFoundError,
        UnavailableError,
        CircuitOpenError,
        InternalError,
        OSRefusedError,
        InboxIOError,
        BackpressureError,
        BusyError,
        AccessDeniedError,
    )
}


def class_for(kind: str) -> type:
    """The class raised for a kind of bindings/errors.hpp (InternalError for one unknown)."""
    return _by_kind.get(kind, InternalError)
