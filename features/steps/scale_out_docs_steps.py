"""Steps of features/scale_out_docs.feature: docs/guide/scale_out.md's command
lines use real options, its sizing figure names its command, its Python blocks
run (against the scenario's real redis-server)."""

from __future__ import annotations

import re
import shlex
import sys
from typing import Any

import click
from behave import given, then
from support.cli_support import ROOT, run_command

_ASSIGNMENT = re.compile(r"[A-Z_]+=")


def _blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.DOTALL)


def _command_lines(text: str) -> list[list[str]]:
    """Each ``planstream ...`` line of the sh blocks, leading ``VAR=value`` dropped."""
    lines = []
    for block in _blocks(text, "sh"):
        for line in block.splitlines():
            words = shlex.split(line, comments=True)
            while words and _ASSIGNMENT.match(words[0]):
                words.pop(0)
            if words[:1] == ["planstream"]:
                lines.append(words)
    return lines


@given('the text of the guide "{path}"')
def given_guide(context: Any, path: str) -> None:
    context.guide = (ROOT / path).read_text(encoding="utf-8")


@then("every planstream command line of the guide uses options the command has")
def then_guide_commands_real(context: Any) -> None:
    from planstream.cli.main import main

    lines = _command_lines(context.guide)
    assert len(lines) >= 3, lines
    for _, name, *args in lines:
        command = main.get_command(click.Context(main), name)
        assert command is not None, name
        known = {option for param in command.params for option in param.opts}
        used = {arg.split("=")[0] for arg in args if arg.startswith("--")}
        assert used <= known, (name, args, used - known)


@then('the guide\'s commands include "{first}" and "{second}"')
def then_guide_commands_include(context: Any, first: str, second: str) -> None:
    used = {word for line in _command_lines(context.guide) for word in line}
    assert {first, second} <= used, used


@then('the guide quotes "{figure}" after the command "{command}"')
def then_guide_figure(context: Any, figure: str, command: str) -> None:
    text = context.guide
    assert command in text, command
    after = text.split(command, 1)[1]
    found = re.search(rf"([0-9][0-9,]*) {re.escape(figure)}", after)
    assert found is not None, figure
    assert int(found.group(1).replace(",", "")) > 0


@then(
    "every Python block of the guide runs in a fresh interpreter "
    "with PLANSTREAM_SERVER_REDIS_URL set"
)
def then_guide_python_runs(context: Any) -> None:
    blocks = _blocks(context.guide, "python")
    assert len(blocks) >= 2, blocks
    env = {"PLANSTREAM_SERVER_REDIS_URL": context.redis_url}
    for block in blocks:
        result = run_command(context, sys.executable, "-c", block, env=env, timeout=60)
        assert result.returncode == 0, f"{block}\n{result}"
