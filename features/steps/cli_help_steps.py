"""Steps of features/cli_help.feature: every command's ``--help`` in click's format.

The help is the real output of ``planstream COMMAND --help`` in a subprocess;
what each option should show is read from the click command itself (its
declared variable and default) and, for ``serve``, from ``ServerSettings``.
"""

from __future__ import annotations

import importlib
import re
from typing import Any

import click
from behave import then, when
from support.cli_support import run_cli

from planstream.cli.main import COMMANDS
from planstream.server.settings import SERVER_ENV_PREFIX, ServerSettings

_OPTION_LINE = re.compile(r"^  (-\S.*)$")


def _option_entries(help_text: str) -> dict[str, str]:
    """Each option's help entry, its wrapped lines joined, keyed by each of its names."""
    blocks: list[list[str]] = []
    for line in help_text.split("Options:\n", 1)[1].splitlines():
        if _OPTION_LINE.match(line):
            blocks.append([line.strip()])
        elif line.startswith("   ") and blocks:
            blocks[-1].append(line.strip())
    entries = {}
    for block in blocks:
        declaration = block[0].split("  ")[0]  # "-h, --help", "--url TEXT"
        for name in re.findall(r"(?:^|(?<=[ ,]))--?[\w-]+", declaration):
            entries[name] = " ".join(block)
    return entries


def _commands() -> dict[str, click.Command]:
    commands = {}
    for name, lazy in COMMANDS.items():
        command = getattr(importlib.import_module(lazy.module), name)
        assert isinstance(command, click.Command), command
        commands[name] = command
    return commands


def _options(command: click.Command) -> list[click.Option]:
    return [
        param
        for param in command.params
        if isinstance(param, click.Option) and "--help" not in param.opts
    ]


def _long_name(option: click.Option) -> str:
    return max(option.opts, key=len)


@when('"planstream COMMAND --help" runs for every command')
def when_help_of_every_command(context: Any) -> None:
    context.helps = {}
    for name in COMMANDS:
        result = run_cli(context, name, "--help")
        assert result.returncode == 0, str(result)
        assert result.stderr == "", str(result)
        context.helps[name] = result.stdout


def _entry(context: Any, command: str, option: str) -> str:
    entries = _option_entries(context.helps[command])
    assert option in entries, f"{option} not in the help of {command}:\n{context.helps[command]}"
    return entries[option]


@then('every option with an environment variable shows "env var: NAME" in its help')
def then_env_vars_shown(context: Any) -> None:
    seen = 0
    for name, command in _commands().items():
        for option in _options(command):
            if option.envvar:
                assert isinstance(option.envvar, str), option.envvar
                entry = _entry(context, name, _long_name(option))
                assert f"env var: {option.envvar}" in entry, (name, entry)
                seen += 1
    assert seen >= 13, seen  # serve's ten, and the client commands' --url, --token, --ca-file


def _default(name: str, option: click.Option) -> Any:
    """The option's default as ``--help`` sees it; None when it has none."""
    default = option.get_default(click.Context(_commands()[name]), call=False)
    # click 8.3+ marks "no default" with a sentinel of its own
    return None if default in ((), None) or type(default).__name__ == "Sentinel" else default


def _has_default(name: str, option: click.Option) -> bool:
    return not option.is_flag and _default(name, option) is not None


@then('every option with a default that is not a flag shows "default: VALUE" in its help')
def then_defaults_shown(context: Any) -> None:
    seen = 0
    for name, command in _commands().items():
        for option in _options(command):
            if _has_default(name, option):
                entry = _entry(context, name, _long_name(option))
                default = _default(name, option)
                shown = ", ".join(default) if isinstance(default, tuple) else str(default)
                assert f"default: {shown}" in entry, (name, entry)
                assert entry.endswith("]"), (name, entry)
                seen += 1
    assert seen >= 6, seen


@then('no help has a hand-written "[PLANSTREAM_...]" or "[env PLANSTREAM_...]" note')
def then_no_hand_written_notes(context: Any) -> None:
    for name, text in context.helps.items():
        flat = " ".join(text.split())
        for note in ("[PLANSTREAM_", "[env PLANSTREAM_", "[or PLANSTREAM_"):
            assert note not in flat, (name, text)
        # every bracketed note is click's: starts with "env var:", "default:" or a range
        for note in re.findall(r"\[([^\]]*)\]", flat):
            if "PLANSTREAM_" in note:
                assert note.startswith("env var: PLANSTREAM_"), (name, note)


@then("the options that are neither flags nor have a default are exactly these")
def then_options_without_default(context: Any) -> None:
    found = {
        (name, _long_name(option))
        for name, command in _commands().items()
        for option in _options(command)
        if not option.is_flag and not _has_default(name, option)
    }
    expected = {(row["command"], row["option"]) for row in context.table}
    assert found == expected, (
        f"no default and not listed: {sorted(found - expected)}; "
        f"listed but have one: {sorted(expected - found)}"
    )
    for name, option in found:  # shown without a default, in click's format or bare
        assert "default:" not in _entry(context, name, option), (name, option)


@then(
    'the help of "planstream serve" ends each option with these notes, which ServerSettings agrees with'
)
def then_serve_notes(context: Any) -> None:
    options = {_long_name(option): option for option in _options(_commands()["serve"])}
    listed = {row["option"] for row in context.table}
    assert set(options) - {"--debug"} == listed, sorted(set(options) ^ listed)
    for row in context.table:
        entry = _entry(context, "serve", row["option"])
        assert entry.endswith(row["note"]), (entry, row["note"])
        setting = row["setting"]
        field = ServerSettings.model_fields[setting]
        assert f"env var: {SERVER_ENV_PREFIX}{setting.upper()}" in row["note"], row
        if field.default in (None, (), False):
            assert "default:" not in row["note"], row
        else:
            assert f"default: {field.default}" in row["note"], (row, field.default)


@then('the planstream command\'s stderr ends with "{text}"')
def then_cli_stderr_ends(context: Any, text: str) -> None:
    assert context.cli.stderr.rstrip("\n").endswith(text), str(context.cli)
    assert "env var" not in context.cli.stderr, str(context.cli)
