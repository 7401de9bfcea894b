"""Steps checking the README, docs and examples against the code."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from behave import given, then, when
from pydantic import BaseModel

from planstream import ClientSettings
from planstream.settings import env_var_name

ROOT = Path(__file__).resolve().parents[2]


@when('the example "{script}" runs with seed {seed:d}')
def run_example(context: Any, script: str, seed: int) -> None:
    context.example = subprocess.run(
        [sys.executable, str(ROOT / script), "--seed", str(seed)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@then("the example exits with status {status:d}")
def example_status(context: Any, status: int) -> None:
    result = context.example
    assert result.returncode == status, (result.returncode, result.stdout, result.stderr)


def _summary(context: Any) -> dict[str, str]:
    line = next(x for x in context.example.stdout.splitlines() if x.startswith("summary:"))
    fields = dict(re.findall(r"(\d+) (delivered|duplicates dropped|reordered|repaired|lost)", line))
    named = {name: count for count, name in fields.items()}
    named["in order"] = line.rsplit("in order: ", 1)[1]
    return named


@then("the example reports 0 lost and in order")
def example_lossless(context: Any) -> None:
    summary = _summary(context)
    assert summary["lost"] == "0", summary
    assert summary["in order"] == "yes", summary


@then("the example reports at least {dups:d} duplicates dropped and {repairs:d} repaired")
def example_counters(context: Any, dups: int, repairs: int) -> None:
    summary = _summary(context)
    assert int(summary["duplicates dropped"]) >= dups, summary
    assert int(summary["repaired"]) >= repairs, summary


@given("the README of the project")
def read_readme(context: Any) -> None:
    context.readme = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()


@then('the README has a line ending in "{suffix}"')
def readme_line(context: Any, suffix: str) -> None:
    matches = [line for line in context.readme if line.rstrip().endswith(suffix)]
    assert len(matches) == 1, matches


@then("the README test command runs nox")
def readme_runs_nox(context: Any) -> None:
    # .ci/run extracts this exact line (4-space indented, "  # run the tests").
    pattern = re.compile(r"^    (.*)  # run the tests$")
    commands = [m.group(1) for line in context.readme if (m := pattern.match(line))]
    assert len(commands) == 1, commands
    assert commands[0].endswith("nox"), commands[0]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "# run the tests$" in ci


@given('the settings reference "{path}"')
def read_settings_reference(context: Any, path: str) -> None:
    context.reference = (ROOT / path).read_text(encoding="utf-8")


def _env_vars(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> list[str]:
    names = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names.extend(_env_vars(annotation, (*prefix, name)))
        else:
            names.append(env_var_name((*prefix, name)))
    return names


@then("every ClientSettings field has its environment variable in the reference")
def settings_documented(context: Any) -> None:
    names = _env_vars(ClientSettings)
    assert len(names) >= 15, names
    missing = [name for name in names if f"`{name}`" not in context.reference]
    assert not missing, missing
