"""The frame tap: every WebSocket frame in and out of the client, one log line each.

For support and bug reports: turned on by ``ClientSettings.debug_frames``
(``PLANSTREAM_DEBUG_FRAMES=1``) or ``planstream watch --debug-frames``; off,
nothing here exists (the reader awaits the connection's own ``recv``). Each
line goes to the logger ``planstream.frames`` at DEBUG level::

    < ws://127.0.0.1:8765/v1/stream text 176 B: {"type":"hello",...}
    > ws://127.0.0.1:8765/v1/stream [k3Jx] text 71 B: {"type":"subscribe",...}
    < ws://127.0.0.1:8765/v1/stream [k3Jx] text 20480 B: {"type":"batch",...… (20480 bytes)
    < ws://127.0.0.1:8765/v1/stream [k3Jx] close 4008 "slow consumer"

``<`` received, ``>`` sent; the connection's URL (credentials redacted) and,
once the ``hello`` named it, the server's session id; the frame's size in
bytes; a text frame's first :data:`TEXT_CAP` characters. What a server sent
cannot steer the terminal (control and bidirectional characters are shown
as escapes) and cannot show a secret: the connection's own token (as sent and
as its ``planstream.bearer.*`` form) and anything bearer-looking
(:func:`~planstream.redaction.redact_secrets`) read ``***``.

Visible without logging configuration: turning the tap on sets the logger to
DEBUG unless it has a level of its own, and gives it a stderr handler when
neither it nor an ancestor (the root logger included) has one that shows
records (the ``NullHandler`` on ``planstream`` does not count). Pure apart
from logging: no asyncio, no network.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Final

from planstream.redaction import REDACTED, redact_secrets, token_forms

if TYPE_CHECKING:
    from asyncio import Future

    from websockets.frames import Close

__all__ = ["FRAME_LOGGER", "TEXT_CAP", "FrameTap", "enable_frame_log", "escaped", "shown_text"]

#: The tap's logger.
FRAME_LOGGER: Final = "planstream.frames"
#: Characters of a text frame shown; the rest is cut and its size said.
TEXT_CAP: Final = 512
_FORMAT: Final = "%(asctime)s %(name)s %(message)s"

#: A connection's ``recv``.
Receive = Callable[[], Awaitable[str | bytes]]

# What could steer a terminal, as planstream.cli.terminal.printable escapes it
# (C0, DEL, C1, bidirectional formatting, line separators, lone surrogates).
_UNSAFE: Final = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ud800-\udfff]"
)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def escaped(text: str) -> str:
    """``text`` with every character that could steer a terminal shown as an escape."""
    return _UNSAFE.sub(_escape, text)


def shown_text(
    text: str, secrets: tuple[str, ...] = (), cap: int = TEXT_CAP, size: int | None = None
) -> str:
    """What a log line shows of ``text``: redacted, cut at ``cap`` characters, escaped.

    Only the first ``cap`` characters (and a margin, so that a secret straddling
    the cut is still recognised) are looked at: a 1 MiB frame costs no more
    than a short one. A cut text ends with ``… (N bytes)``: ``size``, else
    the UTF-8 size of ``text``.
    """
    margin = max((len(secret) for secret in secrets), default=0) + 16
    window = text[: cap + margin]
    for secret in secrets:
        window = window.replace(secret, REDACTED)
    window = redact_secrets(window)
    cut = len(window) > cap or len(text) > cap + margin
    head = window[:cap]
    if cut:
        head = _without_partial_secret(head, secrets)
        if size is None:
            size = _utf8_size(text)
        return f"{escaped(head)}… ({size} bytes)"
    return escaped(head)


def _without_partial_secret(head: str, secrets: tuple[str, ...]) -> str:
    """``head`` (a cut text) without a trailing start of a secret the cut split
    (of 4 characters or more: a shorter one tells nothing, and would redact a
    stray letter)."""
    for secret in secrets:
        for length in range(min(len(secret) - 1, len(head)), 3, -1):
            if head.endswith(secret[:length]):
                return head[:-length] + REDACTED
    return head


def enable_frame_log() -> logging.Logger:
    """The tap's logger, made to show its lines (see the module doc); idempotent."""
    logger = logging.getLogger(FRAME_LOGGER)
    # No RedactingFilter here: every line is redacted as it is made (shown_text);
    # a second pass over each frame's text would double the tap's cost.
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.DEBUG)  # the setting is the switch, not the level
    if not _shown_anywhere(logger):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(_FORMAT))
        logger.addHandler(handler)
    return logger


def _shown_anywhere(logger: logging.Logger) -> bool:
    """Whether a handler that shows records (not a library's ``NullHandler``)
    sits on ``logger`` or an ancestor its records reach."""
    current: logging.Logger | None = logger
    while current is not None:
        if any(not isinstance(handler, logging.NullHandler) for handler in current.handlers):
            return True
        current = current.parent if current.propagate else None
    return False


class FrameTap:
    """Logs the frames of one WebSocket connection.

    Args:
        url: the connection's URL (credentials in it are redacted).
        token: the token the connection was opened with; never shown.
    """

    __slots__ = ("_logger", "_prefix", "_secrets", "_url")

    def __init__(self, url: str, token: str | None) -> None:
        self._logger = enable_frame_log()
        self._url = escaped(redact_secrets(url))
        self._secrets = token_forms(token)
        self._prefix = self._url

    def __repr__(self) -> str:
        return f"FrameTap({self._prefix!r})"

    def named(self, session_id: str) -> None:
        """The server's ``hello`` named the session: later lines carry its id."""
        self._prefix = f"{self._url} [{shown_text(session_id, self._secrets, 64)}]"

    def received(self, raw: str | bytes) -> None:
        """A frame arrived."""
        self._log("<", _frame(raw, self._secrets))

    def sent(self, text: str) -> None:
        """A text frame is being sent."""
        self._log(">", _frame(text, self._secrets))

    def receiver(self, recv: Receive) -> Receive:
        """``recv`` wrapped so that every message it returns is logged first."""

        async def tapped() -> str | bytes:
            raw = await recv()
            self.received(raw)
            return raw

        return tapped

    def ping(self, pong: Future[float]) -> None:
        """A WebSocket ping (keepalive) was sent; ``pong`` is set (to the round
        trip) when its pong arrives."""
        self._log(">", "ping (WebSocket keepalive)")
        pong.add_done_callback(self._pong)

    def _pong(self, pong: Future[float]) -> None:
        if not pong.cancelled() and pong.exception() is None:
            self._log("<", f"pong (WebSocket keepalive, {pong.result() * 1000:.1f} ms)")

    def closing(self, code: int, reason: str) -> None:
        """The client sends a close frame."""
        self._log(">", _close(code, reason, self._secrets))

    def closed(self, received: Close | None) -> None:
        """The connection ended: with the server's close frame, or none (lost)."""
        if received is None:
            self._log("<", "connection lost (no close frame)")
        else:
            self._log("<", _close(received.code, received.reason, self._secrets))

    def refused(self, status: int, body: bytes) -> None:
        """The server answered the upgrade with an HTTP status instead."""
        text = body.decode("utf-8", "replace")
        self._log("<", f"HTTP {status}, {len(body)} B: {shown_text(text, self._secrets)}")

    def _log(self, direction: str, what: str) -> None:
        self._logger.debug("%s %s %s", direction, self._prefix, what)


def _utf8_size(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def _frame(raw: str | bytes, secrets: tuple[str, ...]) -> str:
    if isinstance(raw, bytes):
        return f"binary {len(raw)} B"
    size = _utf8_size(raw)
    return f"text {size} B: {shown_text(raw, secrets, size=size)}"


def _close(code: int, reason: str, secrets: tuple[str, ...]) -> str:
    return f'close {code} "{shown_text(reason, secrets, 125)}"' if reason else f"close {code}"
