"""Run the venv's ``mypy --strict`` over files and read what it reported.

mypy runs in a subprocess of the scenario's loop (:func:`support.cli_support.run_command`),
from the project root so that ``pyproject.toml`` (the pydantic plugin) applies.
A file of lines that must fail marks each with a comment on the line before::

    # error: [arg-type] incompatible type "Callable[[LogEvent], None]"
    client.on(StepStatusEvent, logged)

:func:`expected_errors` reads those marks, :func:`reported_errors` mypy's output.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from support.cli_support import CommandResult, run_command

__all__ = [
    "Expected",
    "Reported",
    "expected_errors",
    "reported_errors",
    "run_mypy",
]

#: Generous: a cold cache on a shared machine takes tens of seconds.
MYPY_TIMEOUT = 300.0
_MARK = re.compile(r"^\s*# error: \[(?P<code>[a-z-]+)\] (?P<text>.+?)\s*$")
_REPORTED = re.compile(
    r"^(?P<path>[^:\n]+):(?P<line>\d+): error: (?P<message>.*?)  \[(?P<code>[a-z-]+)\]$"
)


@dataclass(frozen=True)
class Expected:
    """A line that must fail: its number, the error code and a part of the message."""

    line: int
    code: str
    text: str


@dataclass(frozen=True)
class Reported:
    """An error mypy reported."""

    path: str
    line: int
    code: str
    message: str


def run_mypy(context: Any, *paths: str | Path) -> CommandResult:
    """``python -m mypy --strict PATHS`` with the interpreter running the tests."""
    return run_command(
        context, sys.executable, "-m", "mypy", "--strict", *map(str, paths), timeout=MYPY_TIMEOUT
    )


def reported_errors(result: CommandResult) -> list[Reported]:
    """Every ``path:line: error: message  [code]`` line of mypy's output."""
    return [
        Reported(match["path"], int(match["line"]), match["code"], match["message"])
        for match in map(_REPORTED.match, result.stdout.splitlines())
        if match is not None
    ]


def expected_errors(path: Path) -> list[Expected]:
    """The ``# error: [code] text`` marks of ``path``, each tied to the next code line."""
    marks: list[Expected] = []
    pending: tuple[str, str] | None = None
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        mark = _MARK.match(line)
        if mark is not None:
            assert pending is None, f"{path}:{number}: two marks in a row"
            pending = (mark["code"], mark["text"])
        elif pending is not None and line.strip() and not line.lstrip().startswith("#"):
            marks.append(Expected(number, *pending))
            pending = None
    assert pending is None, f"{path}: a mark at the end of the file marks no line"
    return marks
