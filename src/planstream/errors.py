"""The planstream exception tree.

Every error planstream raises derives from :class:`PlanStreamError`, so one
``except PlanStreamError`` catches them all. Foreign exceptions (pydantic's
``ValidationError``, ``json`` errors, socket errors) are translated where they
cross into planstream and never escape raw.

.. code-block:: text

    PlanStreamError
    ├── SettingsError                 bad configuration (also a ValueError)
    ├── PlanStateError                an event folded into the wrong plan (also a ValueError)
    ├── FatalError                    retrying cannot help: stop and tell the user
    │   └── IncompatibleProtocolError the server speaks another protocol/schema major
    ├── RetryableError                transient: reconnect with backoff and resume
    └── ProtocolError                 the peer sent something the protocol forbids
        ├── InvalidFrameError         not JSON, not an object, unknown type, bad fields
        └── FrameTooLargeError        larger than ``max_frame_bytes``

``IncompatibleProtocolError`` is both a :class:`FatalError` and a
:class:`ProtocolError`. The transport layer decides whether a
:class:`ProtocolError` from one frame is fatal; the codec only reports it.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "FatalError",
    "FrameTooLargeError",
    "IncompatibleProtocolError",
    "InvalidFrameError",
    "PlanStateError",
    "PlanStreamError",
    "ProtocolError",
    "RetryableError",
    "SettingsError",
]

#: Longest excerpt of an offending frame kept in an error (protocol errors
#: must be debuggable without letting a hostile frame bloat logs).
EXCERPT_LIMIT = 200


def frame_excerpt(raw: bytes | str, limit: int = EXCERPT_LIMIT) -> str:
    """Return at most ``limit`` characters of ``raw`` for an error message."""
    if isinstance(raw, bytes | bytearray):
        text = bytes(raw[: limit * 4]).decode("utf-8", errors="replace")
    else:
        text = raw
    if len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


class PlanStreamError(Exception):
    """Root of every exception planstream raises."""


class SettingsError(PlanStreamError, ValueError):
    """Configuration is invalid.

    ``problems`` lists ``(env_var, message)`` pairs, one per bad value; the
    offending values themselves are never included (they may be secrets).
    """

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        self.problems = tuple(problems)
        lines = "; ".join(f"{name}: {message}" for name, message in self.problems)
        super().__init__(f"invalid planstream settings: {lines}")


class PlanStateError(PlanStreamError, ValueError):
    """An event was folded into the state of a different plan."""


class FatalError(PlanStreamError):
    """Retrying cannot help; the stream stops and the user is told why."""


class RetryableError(PlanStreamError):
    """A transient failure: the client reconnects with backoff and resumes."""


class ProtocolError(PlanStreamError):
    """The peer sent something the wire protocol does not allow."""


class InvalidFrameError(ProtocolError):
    """A frame could not be decoded.

    Attributes:
        reason: what is wrong, e.g. ``"not valid JSON"`` or
            ``"event.seq: Input should be a valid integer"``.
        excerpt: the start of the frame (at most 200 characters).
    """

    def __init__(self, reason: str, raw: bytes | str) -> None:
        self.reason = reason
        self.excerpt = frame_excerpt(raw)
        super().__init__(f"invalid frame: {reason} (frame: {self.excerpt!r})")


class FrameTooLargeError(ProtocolError):
    """A frame exceeded the negotiated ``max_frame_bytes``."""

    def __init__(self, size: int, limit: int, raw: bytes | str) -> None:
        self.size = size
        self.limit = limit
        self.excerpt = frame_excerpt(raw)
        super().__init__(f"frame of {size} bytes exceeds the limit of {limit} bytes")


class IncompatibleProtocolError(FatalError, ProtocolError):
    """The server speaks a protocol or schema major this client does not.

    Attributes:
        server: the server's versions as text (e.g. ``"protocol 2, schema 2.0"``).
        client: this client's versions as text.
    """

    def __init__(self, *, server: str, client: str, detail: str = "") -> None:
        self.server = server
        self.client = client
        message = f"incompatible server: server has {server}, client supports {client}"
        if detail:
            message = f"{message} ({detail})"
        super().__init__(message)
