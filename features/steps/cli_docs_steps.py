"""Steps of features/cli_docs.feature: the guides checked against the code."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import click
from behave import then

from planstream.cli import main
from planstream.schema import KNOWN_EVENT_KINDS

ROOT = Path(__file__).resolve().parents[2]
#: Pages other branches write; a link to them is checked once they exist.
PAGES_WRITTEN_ELSEWHERE: set[str] = {
    "docs/images/dashboard.png",  # the screenshot the browser suite takes, committed by the lead
}


@then("the payloads guide shows an event of every kind, a resync frame and a resync poll")
def then_payloads_complete(context: Any) -> None:
    kinds = {example["kind"] for example in context.examples if example.get("type") == "event"}
    assert kinds == set(KNOWN_EVENT_KINDS), kinds
    assert any(example.get("type") == "resync" for example in context.examples)
    assert any(example.get("resync") for example in context.examples if "type" not in example)
    assert "poll" in context.example_kinds


@then('every planstream command and each of its options appear in "{path}"')
def then_cli_documented(context: Any, path: str) -> None:
    text = (ROOT / path).read_text(encoding="utf-8")
    assert isinstance(main, click.Group)
    ctx = click.Context(main)
    commands = {name: main.get_command(ctx, name) for name in main.list_commands(ctx)}
    missing = []
    for name, command in commands.items():
        assert command is not None, name
        if f"`planstream {name}" not in text:
            missing.append(f"planstream {name}")
        # A group's subcommands (planstream token create, hash) and their options too.
        subcommands = list(command.commands.values()) if isinstance(command, click.Group) else []
        for each in [command, *subcommands]:
            if each is not command and f"`planstream {name} {each.name}" not in text:
                missing.append(f"planstream {name} {each.name}")
            for param in each.params:
                if isinstance(param, click.Option):
                    missing += [f"{name} {opt}" for opt in param.opts if f"`{opt}" not in text]
    assert len(commands) == 6, sorted(commands)
    assert not missing, missing


@then('the README main job command installs the package and runs "{command}"')
def then_readme_main_job(context: Any, command: str) -> None:
    pattern = re.compile(r"^    (.*)  # run the main job$")
    (line,) = [m.group(1) for line in context.readme if (m := pattern.match(line))]
    steps = [step.strip() for step in line.split("&&")]
    assert steps[0] == "python3 -m venv .venv", steps
    assert steps[1] == ".venv/bin/pip install -e .", steps
    assert steps[-1] == f".venv/bin/{command}", steps


@then("every relative link in the README and docs/ leads to an existing file")
def then_links_resolve(context: Any) -> None:
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    broken = []
    checked = 0
    for page in pages:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target):
                continue  # an absolute URL
            resolved = (page.parent / target).resolve()
            checked += 1
            if (
                not resolved.exists()
                and str(resolved.relative_to(ROOT)) not in PAGES_WRITTEN_ELSEWHERE
            ):
                broken.append(f"{page.relative_to(ROOT)} -> {target}")
    assert checked >= 20, checked
    assert not broken, broken
