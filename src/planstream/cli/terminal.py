"""Text the server sent, made safe for a terminal: the one escaping function.

A log message, a step name, an error or a close reason comes from the server
(or from whoever published to it). Printed raw, ``\\x1b]0;TITLE\\x07`` retitles
the terminal, ``\\x1b[2J`` clears it, U+202E reverses the rest of the line and
a newline forges another line of output. Every human-readable line the CLI
prints goes through :func:`printable`, which shows such characters as visible
escapes (``\\x1b``, ``\\u202e``, ``\\n``). ``--json`` output is not escaped: JSON
encodes them itself and stays lossless.

Escaped: C0 controls (tab and newline included: output is one line per item),
DEL, C1 controls, the Unicode line and paragraph separators, the bidirectional
formatting characters and lone surrogates (which cannot be encoded at all).
Backslashes are left as they are (``C:\\temp`` stays readable), so an escape
is not a proof that the original held a control character.
"""

from __future__ import annotations

import logging
import re
import sys
import traceback
from types import TracebackType
from typing import Final

from planstream.redaction import RedactingFilter

__all__ = [
    "EscapingFormatter",
    "escape_last_resort",
    "log_to_stderr",
    "print_traceback",
    "printable",
]

_UNSAFE: Final = re.compile(
    "[\x00-\x1f\x7f-\x9f"  # C0, DEL, C1
    "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"  # bidirectional formatting
    "\u2028\u2029"  # line and paragraph separators
    "\ud800-\udfff]"  # lone surrogates (valid JSON, not encodable)
)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with every character that could steer a terminal shown as an escape."""
    return _UNSAFE.sub(_escape, text)


def _printable_lines(text: str) -> str:
    # A traceback keeps its line breaks; each line is escaped.
    return "\n".join(printable(line) for line in text.split("\n"))


class EscapingFormatter(logging.Formatter):
    """A log formatter whose output cannot steer the terminal.

    The message is escaped whole (a newline in it shows as ``\\n``, so a record
    cannot forge a second log line); tracebacks keep their line breaks.
    """

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        return printable(super().formatMessage(record))

    def formatException(  # noqa: N802 - logging's name
        self,
        ei: tuple[type[BaseException], BaseException, TracebackType | None]
        | tuple[None, None, None],
    ) -> str:
        return _printable_lines(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:  # noqa: N802 - logging's name
        return _printable_lines(super().formatStack(stack_info))


def _stderr_handler(level: int, fmt: str) -> logging.Handler:
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(level)
    handler.setFormatter(EscapingFormatter(fmt))
    handler.addFilter(RedactingFilter())  # whatever logger a record comes from
    return handler


def escape_last_resort() -> None:
    """Escape and redact what logging's last-resort handler prints.

    With no handler configured, Python prints a library's warnings to stderr
    as they are (:data:`logging.lastResort`); this one escapes them first.
    """
    logging.lastResort = _stderr_handler(logging.WARNING, "%(message)s")


def log_to_stderr(level: int, fmt: str) -> None:
    """Log to stderr at ``level``, escaped and redacted, unless logging is configured.

    Like :func:`logging.basicConfig`: a no-op once the root logger has a handler.
    """
    escape_last_resort()
    logging.basicConfig(level=level, handlers=[_stderr_handler(logging.NOTSET, fmt)])


def print_traceback(exc: BaseException) -> None:
    """Print ``exc``'s traceback to stderr, each line escaped (``--debug``)."""
    sys.stderr.write(_printable_lines("".join(traceback.format_exception(exc))))
    sys.stderr.flush()
