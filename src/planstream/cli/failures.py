"""How a command ends: exit codes, and one line on stderr when it fails.

``planstream watch`` exits 0 when every plan succeeded, 1 when one failed or
was cancelled, 2 on usage, connection and authentication errors. A failure
is one line on stderr, ``planstream: error: ...``; ``--debug`` adds the
traceback and the library's debug log.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from typing import NoReturn

import click

from planstream.cli.terminal import escape_last_resort, log_to_stderr, print_traceback, printable
from planstream.errors import PlanStreamError

__all__ = [
    "EXIT_BROKEN_PIPE",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_PLAN_FAILED",
    "EXIT_USAGE",
    "CommandError",
    "run_command",
]

EXIT_OK = 0
EXIT_PLAN_FAILED = 1
EXIT_USAGE = 2  # also click's own exit code for usage errors
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report it
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: stdout's reader went away


class CommandError(PlanStreamError):
    """A command cannot do what it was asked; the message is one line for stderr.

    Attributes:
        exit_code: the process exit status (2: usage, connection or auth).
        http_status: the status of the HTTP answer that refused the request, if any.
    """

    def __init__(
        self, message: str, exit_code: int = EXIT_USAGE, *, http_status: int | None = None
    ) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.http_status = http_status


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _fail(message: str, exit_code: int) -> NoReturn:
    # The message may quote the server (an HTTP error body, a close reason).
    click.echo(f"planstream: error: {printable(_one_line(message))}", err=True)
    sys.exit(exit_code)


def _leaves(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in _leaves(inner)]
    return [exc]


def _reported(exc: BaseException) -> BaseException:
    """What to report of what task groups wrapped: the first of ours, else the first."""
    leaves = _leaves(exc)
    for kind in (CommandError, PlanStreamError):
        for leaf in leaves:
            if isinstance(leaf, kind):
                return leaf
    return leaves[0]


def run_command(body: Callable[[], int], *, debug: bool) -> NoReturn:
    """Run a command's body and exit with its status; failures become one line.

    Args:
        body: returns the exit status; raises :class:`CommandError` (or any
            :class:`~planstream.errors.PlanStreamError`) to fail.
        debug: log at debug level and print tracebacks.
    """
    if debug:
        log_to_stderr(logging.DEBUG, "%(asctime)s %(name)s %(levelname)s %(message)s")
    else:
        escape_last_resort()
    try:
        status = body()
    except KeyboardInterrupt:
        click.echo("planstream: interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    except Exception as raised:
        exc = _reported(raised)
        if all(isinstance(leaf, BrokenPipeError) for leaf in _leaves(raised)):
            # The reader left (``planstream watch --json | head``): stop quietly,
            # as the Python docs advise (no second error when stdout is flushed).
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(EXIT_BROKEN_PIPE)
        if debug:
            print_traceback(raised)
        if isinstance(exc, CommandError):
            _fail(str(exc), exc.exit_code)
        if isinstance(exc, PlanStreamError):
            _fail(str(exc), EXIT_USAGE)
        # a bug: still one line; the traceback with --debug
        bug = f"internal error: {type(exc).__name__}: {exc} (--debug shows the traceback)"
        _fail(bug, EXIT_USAGE)
    sys.exit(status)
