"""Steps of features/cli.feature about the demo: its output, its reader leaving, and
the live view read back from a pseudo-terminal through pyte."""

from __future__ import annotations

import re
import shlex
import subprocess
from typing import Any

import pyte
from behave import then, when
from support.cli_support import CLI, ROOT, cli_env, run_in_terminal

# --- the demo -----------------------------------------------------------------------

_SUMMARY = re.compile(
    r"^demo finished: plan (?P<status>\w+); (?P<received>\d+) events received, "
    r"(?P<lost>\d+) lost, (?P<duplicated>\d+) duplicated, (?P<reconnects>\d+) reconnects, "
    r"(?P<repaired>\d+) gaps repaired$"
)
_EVENT_LINE = re.compile(r"^\[demo-release #(\d+)\] ")
_RESUMED = re.compile(r"^demo-release: resumed from seq (\d+), (\d+) lost$")


def _demo_summary(context: Any) -> dict[str, str]:
    matches = [m for line in context.cli.stdout.splitlines() if (m := _SUMMARY.match(line))]
    assert len(matches) == 1, str(context.cli)
    assert context.cli.stdout.splitlines()[-1] == matches[0].group(0), "the summary closes"
    return matches[0].groupdict()


@then("the demo summary says the plan succeeded with 0 lost and 0 duplicated")
def then_demo_lossless(context: Any) -> None:
    summary = _demo_summary(context)
    assert summary["status"] == "succeeded", summary
    assert summary["lost"] == "0", summary
    assert summary["duplicated"] == "0", summary


@then("the demo summary counts every event line the demo printed")
def then_demo_counts(context: Any) -> None:
    summary = _demo_summary(context)
    seqs = [
        int(m.group(1))
        for line in context.cli.stdout.splitlines()
        if (m := _EVENT_LINE.match(line))
    ]
    assert seqs == list(range(1, len(seqs) + 1)), seqs
    assert int(summary["received"]) == len(seqs) >= 40, (summary, len(seqs))


@then("the demo printed every step of its plan as succeeded")
def then_demo_steps(context: Any) -> None:
    from planstream.cli.demo import DEMO_STEPS

    for index, step in enumerate(DEMO_STEPS, start=1):
        line = f"step {index} {step.name} succeeded"
        assert any(out.endswith(line) for out in context.cli.stdout.splitlines()), line


@then("the demo summary reports at least {count:d} reconnects")
def then_demo_reconnects(context: Any, count: int) -> None:
    assert int(_demo_summary(context)["reconnects"]) >= count, str(context.cli)


@then('the demo printed "reconnecting…" before each "resumed from seq N, 0 lost"')
def then_demo_story(context: Any) -> None:
    lines = context.cli.stdout.splitlines()
    resumes = [number for number, line in enumerate(lines) if _RESUMED.match(line)]
    assert resumes, str(context.cli)
    previous = 0
    for number in resumes:
        assert _RESUMED.match(lines[number]).group(2) == "0", lines[number]  # type: ignore[union-attr]
        story = lines[previous:number]
        assert any(line.startswith("connection: reconnecting…") for line in story), story
        previous = number + 1


@then("each resume the demo printed is followed by the event it names")
def then_demo_resume_positions(context: Any) -> None:
    lines = context.cli.stdout.splitlines()
    for number, line in enumerate(lines):
        if match := _RESUMED.match(line):
            event = _EVENT_LINE.match(lines[number + 1])
            assert event is not None, lines[number : number + 2]
            assert event.group(1) == match.group(1), lines[number : number + 2]


@when('"planstream {arguments}" is read until its first line, then its stdout is closed')
def when_reader_leaves(context: Any, arguments: str) -> None:
    process = subprocess.Popen(
        [*CLI, *shlex.split(arguments)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env(),
        cwd=ROOT,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    context.first_line = process.stdout.readline()
    process.stdout.close()  # like `| head -1`: the next write meets a broken pipe
    context.left_status = process.wait(30)
    context.left_stderr = process.stderr.read().decode()
    process.stderr.close()


@then("the command whose reader left exits with status {status:d} and nothing on stderr")
def then_reader_left(context: Any, status: int) -> None:
    assert context.first_line.startswith(b"planstream demo: reference server on "), (
        context.first_line
    )
    assert context.left_status == status, (context.left_status, context.left_stderr)
    assert context.left_stderr == "", context.left_stderr


# --- the live view in a terminal ------------------------------------------------------


@when('"planstream {arguments}" runs in a {columns:d}x{rows:d} pseudo-terminal')
def when_cli_in_terminal(context: Any, arguments: str, columns: int, rows: int) -> None:
    status, output = run_in_terminal([*CLI, *shlex.split(arguments)], columns=columns, rows=rows)
    screen = pyte.Screen(columns, rows)
    pyte.ByteStream(screen).feed(output)
    context.terminal_status = status
    context.terminal_screen = screen
    context.terminal_lines = [line.rstrip() for line in screen.display]
    context.terminal_dump = "\n".join(context.terminal_lines)


@then("the command in the terminal exits with status {status:d}")
def then_terminal_status(context: Any, status: int) -> None:
    assert context.terminal_status == status, context.terminal_dump


@then('the terminal screen shows a full progress bar with "{percent}" and "{steps}"')
def then_terminal_progress(context: Any, percent: str, steps: str) -> None:
    bars = [line for line in context.terminal_lines if "━" * 40 in line]
    assert len(bars) == 1, context.terminal_dump
    assert percent in bars[0], bars[0]
    assert steps in bars[0], bars[0]


@then('the terminal screen shows the step table with every step "{status}"')
def then_terminal_steps(context: Any, status: str) -> None:
    from planstream.cli.demo import DEMO_STEPS

    header = next(
        n for n, line in enumerate(context.terminal_lines) if re.match(r"#\s+step\s+status", line)
    )
    rows = context.terminal_lines[header + 2 : header + 2 + len(DEMO_STEPS)]
    for index, (row, step) in enumerate(zip(rows, DEMO_STEPS, strict=True), start=1):
        assert row.split() == [str(index), *step.name.split(), status], row


@then("the terminal screen shows the recent log and the connection line")
def then_terminal_log(context: Any) -> None:
    lines = context.terminal_lines
    log = lines.index("recent log")
    assert any("release 0.1.0 is on staging" in line for line in lines[log : log + 9]), lines
    connection = next(n for n, line in enumerate(lines) if re.fullmatch(r"connection \w+", line))
    assert lines[connection + 1].startswith("events "), lines
    assert " · duplicates dropped 0 · " in lines[connection + 1], lines


@then("the terminal screen ends with the demo summary")
def then_terminal_summary(context: Any) -> None:
    lines = [line for line in context.terminal_lines if line]
    match = _SUMMARY.match(lines[-1])
    assert match is not None, context.terminal_dump
    assert match.group("status") == "succeeded", lines[-1]
    assert match.group("lost") == "0", lines[-1]


@then('the terminal screen shows "{word}" in colour')
def then_terminal_colour(context: Any, word: str) -> None:
    screen = context.terminal_screen
    for row, line in enumerate(context.terminal_lines):
        column = line.find(word)
        if column >= 0 and screen.buffer[row][column].fg not in {"default"}:
            return
    raise AssertionError(f"{word!r} is never coloured:\n{context.terminal_dump}")
