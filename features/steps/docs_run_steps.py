"""Steps of features/docs_run.feature: every code block of the docs runs.

The blocks are found by :mod:`support.doc_blocks` and run by
:mod:`support.doc_runner`; this module wires them to the scenarios and prints
the tally (how many blocks ran, were type-checked, compiled, parsed or
skipped, and why).
"""

from __future__ import annotations

import ast
import re
import shlex
import shutil
import subprocess
import sys
from collections import Counter
from importlib import metadata
from pathlib import Path
from typing import Any

import click
from behave import given, then, when
from support.cli_support import ROOT
from support.doc_blocks import DocBlock, doc_pages, page_blocks, planstream_command_lines
from support.doc_install_check import normalized, provided_distributions, spec_extras
from support.doc_runner import PageRun, block_file_name, check_options

#: Tools some shell blocks pipe into that a fresh machine may lack.
_OPTIONAL_TOOLS = ("jq",)
#: Handlings whose Python is a complete program, checked by mypy --strict.
_COMPLETE = {"run", "background", "server", "typecheck"}
#: Commands run once per docs run: the same line on two pages (the README's
#: main job is getting started's first step) runs the first time only.
_ALREADY_RAN: dict[str, str] = {}


def _all_blocks() -> list[DocBlock]:
    return [block for page in doc_pages(ROOT) for block in page_blocks(ROOT, page)]


@given("the code blocks of the documentation pages")
def given_doc_blocks(context: Any) -> None:
    context.doc_blocks = _all_blocks()


@then("every page of the docs with a code block to run has a row in this feature's outline")
def then_pages_listed(context: Any) -> None:
    feature = (ROOT / "features/docs_run.feature").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\s*\| ([\w/.-]+\.md)\s*\|", feature, re.M))
    pages = {block.page for block in context.doc_blocks if block.kind is not None}
    assert len(pages) >= 7, pages
    assert pages <= listed, sorted(pages - listed)


@then("every block is shown only (text, json) or is python or sh with a known marker")
def then_blocks_known(context: Any) -> None:
    unknown = [
        f"{block.where} ```{block.language}"
        for block in context.doc_blocks
        if block.kind is None and block.language not in {"text", "json"}
    ]
    assert not unknown, unknown


@then("no block left to run to its end starts a server or follows a plan forever")
def then_long_running_marked(context: Any) -> None:
    unmarked = [
        block.where
        for block in context.doc_blocks
        if block.kind == "sh" and block.handling == "run"
        for words in planstream_command_lines(block.commands())
        if words[:1] == ["serve"] or "--follow" in words
    ]
    assert not unmarked, f"mark them <!-- doc-test: server --> or background: {unmarked}"


@then("at least {count:d} blocks run and at most {most:d} are skipped, each with a reason")
def then_tally(context: Any, count: int, most: int) -> None:
    executed = [block for block in context.doc_blocks if block.kind is not None]
    tally = Counter(block.handling for block in executed)
    skipped = [block for block in executed if block.handling == "skip"]
    typed = sum(1 for b in executed if b.kind == "python" and b.handling in _COMPLETE)
    lines = [
        f"docs code blocks: {len(executed)} (python and sh) of {len(context.doc_blocks)}",
        f"  ran: {tally['run']} to their end, {tally['background']} in the background, "
        f"{tally['server']} servers stopped at the page's end",
        f"  type-checked by mypy --strict: {typed} python programs "
        f"({tally['typecheck']} of them not run)",
        f"  compiled only (fragments): {tally['fragment']}",
        f"  parsed by the real command only: {tally['parse-only']}",
        f"  skipped: {tally['skip']}",
        "  the reasons:",
    ]
    lines += [f"    {b.handling} {b.where}: {b.reason}" for b in executed if b.reason]
    report = "\n".join(lines) + "\n"
    print(report, end="")
    (ROOT / "build").mkdir(exist_ok=True)
    (ROOT / "build" / "docs-blocks.txt").write_text(report, encoding="utf-8")
    running = tally["run"] + tally["background"] + tally["server"]
    assert running >= count, tally
    assert len(skipped) <= most, [block.where for block in skipped]
    assert all(block.reason.strip() for block in skipped)


@then("every complete Python block passes mypy --strict, as a user's own program would")
def then_blocks_typecheck(context: Any) -> None:
    blocks = [b for b in context.doc_blocks if b.kind == "python" and b.handling in _COMPLETE]
    assert len(blocks) >= 8, [block.where for block in blocks]
    folder = ROOT / "build" / "docs-mypy"
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.py"):
        stale.unlink()
    names = {}
    for block in blocks:
        (folder / block_file_name(block)).write_text(block.text, encoding="utf-8")
        names[block_file_name(block)] = block.where
    # No project config: the strict flags alone, as in the reader's own project.
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", ".cache", *sorted(names)],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    report = re.sub(
        r"^(\S+\.py):(\d+)",
        lambda m: f"{names[m.group(1)]} +{m.group(2)}",
        result.stdout,
        flags=re.M,
    )
    assert result.returncode == 0, report + result.stderr


@given('the page "{page}" with its own "planstream serve --token reader --publish-token writer"')
def given_page(context: Any, page: str) -> None:
    context.page_blocks = page_blocks(ROOT, page)
    # A page whose shell blocks pipe into a tool this machine lacks (jq: .ci/run
    # installs it) is reported as skipped in the summary line, never dropped.
    missing = sorted(
        tool
        for tool in _OPTIONAL_TOOLS
        if shutil.which(tool) is None
        and any(
            re.search(rf"\b{tool}\b", f"{block.attributes} {block.text}")
            for block in context.page_blocks
            if block.kind == "sh"
        )
    )
    if missing:
        context.scenario.skip(f"{page} needs {', '.join(missing)}, which is not installed")
        return
    context.page_run = PageRun(context)


@when("every code block of the page runs as its marker says")
def when_page_runs(context: Any) -> None:
    run: PageRun = context.page_run
    for block in context.page_blocks:
        if block.kind is None:
            continue
        key = f"{block.handling} {block.attributes} {block.text}"
        if block.handling == "run" and "plan" not in block.attributes and key in _ALREADY_RAN:
            print(f"{block.where}: the same as {_ALREADY_RAN[key]}, which ran")
            continue
        run.run(block)
        _ALREADY_RAN.setdefault(key, block.where)


@then("every block ended as declared: programs exit 0, servers served until stopped")
def then_page_ended(context: Any) -> None:
    tally = context.page_run.finish()
    print(f"{dict(sorted(tally.items()))}")


_EXAMPLE_ROW = re.compile(
    r"^\| `examples/(\w+\.py)[^`]*` \|.*\| `pip install -e ([^`]+)` \|$", re.M
)


def _third_party_imports(path: Path) -> set[str]:
    """Top-level modules ``path`` imports that are neither stdlib, planstream
    nor a module of examples/ itself."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    modules |= {
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module
    }
    local = {sibling.stem for sibling in path.parent.glob("*.py")}
    tops = {module.split(".")[0] for module in modules}
    return tops - set(sys.stdlib_module_names) - local - {"planstream", "__future__"}


@then("getting started names the install of every example, and that install provides its imports")
def then_examples_extras(context: Any) -> None:
    text = (ROOT / "docs/getting_started.md").read_text(encoding="utf-8")
    installs = dict(_EXAMPLE_ROW.findall(text))
    helpers = {"example_cli.py"}  # imported by the examples, not run on its own
    examples = {path.name for path in (ROOT / "examples").glob("*.py")} - helpers
    assert set(installs) == examples, (sorted(installs), sorted(examples))
    owners = metadata.packages_distributions()
    problems = []
    for name, spec in sorted(installs.items()):
        provided = provided_distributions(spec_extras(spec))
        for module in sorted(_third_party_imports(ROOT / "examples" / name)):
            dists = {normalized(dist) for dist in owners.get(module, [module])}
            if not dists & provided:
                problems.append(f"{name} imports {module}, which `pip install -e {spec}` lacks")
    assert not problems, problems


@then("each of these pages fails the docs run with its message")
def then_broken_pages_fail(context: Any) -> None:
    from support.doc_blocks import extract_blocks

    run = PageRun(context)
    for row in context.table:
        text = row["page"].replace("\\n", "\n")
        try:
            for block in extract_blocks("broken.md", text):
                run.run(block)
            run.finish()
        except (AssertionError, ValueError) as error:
            message = str(error)
        else:
            raise AssertionError(f"{text!r} passed the docs run")
        finally:
            run.background.clear()
            run.servers.clear()
        assert row["message"] in message, (row["message"], message)


@then("every planstream command quoted inline in the docs' prose uses options its command has")
def then_inline_commands(context: Any) -> None:
    from planstream.cli.main import main

    names = set(main.list_commands(click.Context(main)))
    checked = []
    for page in doc_pages(ROOT):
        prose = re.sub(r"```.*?```", "", (ROOT / page).read_text(encoding="utf-8"), flags=re.S)
        for span in re.findall(r"`(planstream [^`]+)`", prose.replace("\n", " ")):
            words = shlex.split(span)[1:]
            for separator in ("|", "&&"):
                words = words[: words.index(separator)] if separator in words else words
            if words and words[0] in names:  # not "planstream server listening on ..."
                check_options(words, f"{page}: `{span}`")
                checked.append(span)
    assert len(checked) >= 20, checked
