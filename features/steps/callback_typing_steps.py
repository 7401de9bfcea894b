"""Steps of callback_typing.feature: ``mypy --strict`` over examples, typed usage and misuse."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from behave import then, when
from support.cli_support import ROOT
from support.mypy_checks import expected_errors, markdown_python_blocks, reported_errors, run_mypy
from support.servers import on_cleanup


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


@when('mypy --strict checks the python blocks of the section "{heading}" of "{path}"')
@when('mypy --strict checks every python block of "{path}"')
def step_mypy_markdown(context: Any, path: str, heading: str | None = None) -> None:
    blocks = markdown_python_blocks(Path(path), heading)
    assert blocks, f"{path} has no python block" + (f" in {heading!r}" if heading else "")
    directory = Path(tempfile.mkdtemp(prefix="planstream-docs-"))
    on_cleanup(context, _remover(directory))
    files = []
    for number, block in enumerate(blocks, start=1):
        file = directory / f"block_{number}.py"
        file.write_text(block)
        files.append(file)
    context.mypy_files = files
    context.mypy_run = run_mypy(context, *files)


def _remover(directory: Path) -> Any:
    async def remove() -> None:
        shutil.rmtree(directory, ignore_errors=True)

    return remove


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
