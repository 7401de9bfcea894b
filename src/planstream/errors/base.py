"""The root of the exception tree, its three branches, and frame excerpts.

``FatalError`` (stop and tell the user), ``RetryableError`` (reconnect and
resume) and ``ProtocolError`` (the peer broke the protocol) are the branches
the other modules of :mod:`planstream.errors` hang their errors on.
"""

from __future__ import annotations

__all__ = [
    "EXCERPT_LIMIT",
    "FatalError",
    "PlanStreamError",
    "ProtocolError",
    "RetryableError",
    "frame_excerpt",
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


class FatalError(PlanStreamError):
    """Retrying cannot help; the stream stops and the user is told why."""


class RetryableError(PlanStreamError):
    """A transient failure: the client reconnects with backoff and resumes."""


class ProtocolError(PlanStreamError):
    """The peer sent something the wire protocol does not allow."""
