"""Steps of features/secrets_and_terminals.feature about docs/security.md: its
Python blocks run, its commands use real options, its Limits table exists."""

from __future__ import annotations

import re
import shlex
import sys
from typing import Any

import click
from behave import given, then
from support.cli_support import ROOT, run_command

# --- the security page ------------------------------------------------------------------


def _blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.DOTALL)


@given('the text of the security page "{path}"')
def given_security_page(context: Any, path: str) -> None:
    context.security_page = (ROOT / path).read_text(encoding="utf-8")


@then("every Python block of the security page runs in a fresh interpreter")
def then_security_python_runs(context: Any) -> None:
    blocks = _blocks(context.security_page, "python")
    assert len(blocks) >= 2, blocks
    for block in blocks:
        result = run_command(context, sys.executable, "-c", block, timeout=30)
        assert result.returncode == 0, f"{block}\n{result}"


@then("every planstream command line of the security page uses options the command has")
def then_security_commands_real(context: Any) -> None:
    from planstream.cli.main import main

    lines = [
        line.split("#")[0]
        for block in _blocks(context.security_page, "sh")
        for line in block.splitlines()
        if line.startswith("planstream ")
    ]
    assert len(lines) >= 2, lines
    for line in lines:
        _, name, *args = shlex.split(line)
        command = main.get_command(click.Context(main), name)
        if isinstance(command, click.Group) and args:  # planstream token create ...
            command = command.get_command(click.Context(command), args.pop(0))
        assert command is not None, line
        known = {option for param in command.params for option in param.opts}
        used = {arg for arg in args if arg.startswith("--")}
        assert used <= known, (line, used - known)


@then('the security page has the section "{title}" with the table header "{header}"')
def then_security_limits(context: Any, title: str, header: str) -> None:
    page = context.security_page
    assert f"\n{title}\n" in page, title
    assert header in page.split(title, 1)[1], header
