"""Steps of callback_typing.feature: ``mypy --strict`` over examples, typed usage and misuse."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from behave import then, when
from support.cli_support import ROOT
from support.mypy_checks import expected_errors, reported_errors, run_mypy


@when('mypy --strict checks every Python file of "{directory}"')
def step_mypy_directory(context: Any, directory: str) -> None:
    files = sorted((ROOT / directory).glob("*.py"))
    assert files, f"no Python file in {directory}"
    context.mypy_files = files
    context.mypy_run = run_mypy(context, *files)


@when('mypy --strict checks "{path}"')
def step_mypy_file(context: Any, path: str) -> None:
    context.mypy_files = [ROOT / path]
    context.mypy_run = run_mypy(context, ROOT / path)


@then("mypy found no error in the files it checked")
def step_mypy_clean(context: Any) -> None:
    result = context.mypy_run
    assert result.returncode == 0, str(result)
    assert f"no issues found in {len(context.mypy_files)} source file" in result.stdout, str(result)


@then(
    'every line marked "# error:" in "{path}" failed with its code and text, '
    "and no other line failed"
)
def step_mypy_expected(context: Any, path: str) -> None:
    result = context.mypy_run
    assert result.returncode == 1, str(result)
    expected = {mark.line: mark for mark in expected_errors(ROOT / path)}
    reported = [
        error for error in reported_errors(result) if Path(error.path).name == Path(path).name
    ]
    unexpected = [error for error in reported if error.line not in expected]
    assert not unexpected, f"lines that should pass failed: {unexpected}\n{result}"
    for mark in expected.values():
        matching = [
            error
            for error in reported
            if error.line == mark.line and error.code == mark.code and mark.text in error.message
        ]
        assert matching, f"line {mark.line} did not fail with [{mark.code}] {mark.text!r}\n{result}"
    context.mypy_expected = expected


@then('mypy reported at least {count:d} errors in "{path}"')
def step_mypy_count(context: Any, count: int, path: str) -> None:
    assert len(context.mypy_expected) >= count, context.mypy_expected
    summary = f"Found {len(context.mypy_expected)} errors in 1 file"
    assert summary in context.mypy_run.stdout, str(context.mypy_run)
