"""Steps checking what importing planstream really loads, in fresh interpreters.

Purity is checked at runtime, not only by reading import lines: a module is
imported alone by a new ``python -c`` and its ``sys.modules`` is examined. The
same holds for ``import planstream``, the package faces and the CLI's start.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import click
from behave import then, when

import planstream
from planstream.cli.main import COMMANDS, main

#: Runs some code, then prints the modules loaded (and what the code printed before).
_PROBE = """
import contextlib, io, json, sys
out = io.StringIO()
with contextlib.redirect_stdout(out):
    try:
{code}
    except SystemExit:
        pass
print(json.dumps({{"modules": sorted(sys.modules), "stdout": out.getvalue()}}))
"""


def _probe(code: str) -> dict[str, Any]:
    body = "\n".join(f"        {line}" for line in code.splitlines())
    result = subprocess.run(
        [sys.executable, "-c", _PROBE.format(code=body)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    found: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
    return found


def _statement(text: str) -> str:
    """``planstream ARGS`` runs the CLI's entry point; anything else is Python."""
    if text.startswith("planstream "):
        args = text.split()[1:]
        return f"from planstream.cli.main import main\nmain({args!r}, prog_name='planstream')"
    return text.replace("; ", "\n")


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def _loaded(context: Any, name: str) -> bool:
    return any(
        module == name or module.startswith(name + ".") for module in context.probe["modules"]
    )


@when('"{statement}" runs in a fresh interpreter')
def when_fresh(context: Any, statement: str) -> None:
    context.probe = _probe(_statement(statement))


@then('it loaded none of "{names}"')
def then_loaded_none(context: Any, names: str) -> None:
    loaded = [name for name in _names(names) if _loaded(context, name)]
    assert not loaded, f"loaded {loaded}"


@then('it loaded "{names}"')
def then_loaded(context: Any, names: str) -> None:
    missing = [name for name in _names(names) if not _loaded(context, name)]
    assert not missing, f"did not load {missing}"


@then('it loaded no planstream module but "{names}"')
def then_planstream_modules(context: Any, names: str) -> None:
    ours = {name for name in context.probe["modules"] if name.split(".")[0] == "planstream"}
    assert ours == set(_names(names)), sorted(ours)


@then('it printed "{text}" and the package version')
def then_printed_version(context: Any, text: str) -> None:
    assert context.probe["stdout"] == f"{text} {planstream.__version__}\n", context.probe


@then("it listed every planstream command with its short help")
def then_listed_commands(context: Any) -> None:
    lines = context.probe["stdout"].split("Commands:\n", 1)[1].splitlines()
    listed = {line.split()[0]: " ".join(line.split()[1:]) for line in lines if line.strip()}
    assert listed == {name: lazy.short_help for name, lazy in COMMANDS.items()}, listed
    assert len(listed) == 6, listed


@then(
    "every planstream command loads from its own module with the short help planstream --help shows"
)
def then_commands_load(context: Any) -> None:
    ctx = click.Context(main)
    assert isinstance(main, click.Group)
    assert main.list_commands(ctx) == sorted(COMMANDS)
    for name, lazy in COMMANDS.items():
        command = main.get_command(ctx, name)
        assert isinstance(command, click.Command), name
        assert command.name == name, (name, command.name)
        assert command.callback is not None
        assert command.callback.__module__ == lazy.module == f"planstream.cli.commands.{name}"
        assert command.get_short_help_str(limit=200) == lazy.short_help, name
    assert main.get_command(ctx, "no-such-command") is None


# --- purity at runtime -------------------------------------------------------------------


@when("each pure planstream module is imported alone in a fresh interpreter")
def when_import_pure_alone(context: Any) -> None:
    context.pure_loaded = {
        name: _probe(f"import {name}")["modules"] for name in context.pure_modules
    }


@then('no pure planstream module loaded "{names}"')
def then_pure_loaded_none(context: Any, names: str) -> None:
    forbidden = set(_names(names))
    offenders = {
        module: sorted({name for name in loaded if name.split(".")[0] in forbidden})
        for module, loaded in context.pure_loaded.items()
    }
    offenders = {module: names for module, names in offenders.items() if names}
    assert not offenders, offenders
    assert len(context.pure_loaded) >= 17, sorted(context.pure_loaded)
