"""Steps of features/dashboard_serving.feature: the page, its files and their headers,
over real HTTP, from an embedded server, ``planstream serve`` processes and an
app mounted in a Starlette host; and the static checks of every shipped file.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from behave import given, then, when
from support.cli_support import CLI, BackgroundProcess, start_background
from support.dashboard_http import RawResponse, raw_get
from support.dashboard_sources import (
    module_imports,
    page_references,
    review_sources,
    shipped_files,
    style_references,
    url_path_of,
)
from support.loud_servers import MountedServer
from support.servers import free_port, on_cleanup, run

from planstream.server.dashboard import STATIC_DIRECTORY


def _root(context: Any) -> str:
    """The scenario's server root URL (a mounted app's host, or the reference server)."""
    root: str | None = getattr(context, "dashboard_root", None)
    return root if root is not None else str(context.server.http_url)


def _get(context: Any, path: str, headers: dict[str, str] | None = None) -> RawResponse:
    return run(context, raw_get(_root(context), path, headers))  # type: ignore[no-any-return]


# --- the files and their headers --------------------------------------------------------


@when("every file the dashboard ships is fetched from the reference server")
def when_fetch_every_file(context: Any) -> None:
    served = [(path, url_path_of(path)) for path in shipped_files()]
    assert all(url is not None for _, url in served), served
    context.dashboard_answers = {
        path: _get(context, url) for path, url in served if url is not None
    }
    assert len(context.dashboard_answers) >= 2, context.dashboard_answers


@then("each file answered 200 with its own bytes and the content type of its suffix")
def then_files_typed(context: Any) -> None:
    types = {row["suffix"]: row["content type"] for row in context.table}
    for path, answer in context.dashboard_answers.items():
        assert answer.status == 200, str(answer)
        assert answer.body == path.read_bytes(), f"{answer.path}: not the file's bytes"
        assert path.suffix in types, f"{path.name}: a type this feature does not know"
        assert answer.headers.get("content-type") == types[path.suffix], str(answer)


@then("each answer carries these headers")
def then_answers_headers(context: Any) -> None:
    for answer in context.dashboard_answers.values():
        for row in context.table:
            assert answer.headers.get(row["header"]) == row["value"], (row["header"], str(answer))


@then("each answer carries exactly this Content-Security-Policy")
def then_answers_csp(context: Any) -> None:
    context.dashboard_csp = context.text.strip()
    for answer in context.dashboard_answers.values():
        policy = answer.headers.get("content-security-policy")
        assert policy == context.dashboard_csp, str(answer)


@then("asking for the page again with its ETag answers 304 with the same Content-Security-Policy")
def then_page_revalidates(context: Any) -> None:
    page = next(a for a in context.dashboard_answers.values() if a.path == "/")
    assert page.headers.get("etag"), str(page)
    again = _get(context, "/", {"If-None-Match": page.headers["etag"]})
    assert (again.status, again.body) == (304, b""), str(again)
    assert again.headers.get("content-security-policy") == context.dashboard_csp, str(again)


@then('each of these paths answers the JSON 404 "{code}"')
def then_paths_not_found(context: Any, code: str) -> None:
    for row in context.table:
        answer = _get(context, row["path"])
        assert answer.status == 404, str(answer)
        assert answer.headers.get("content-type") == "application/json", str(answer)
        assert answer.json()["error"] == code, str(answer)


# --- planstream serve: option, variable, default ---------------------------------------


def _server_command(command: str) -> list[str]:
    words = command.split()
    if words[:2] == ["planstream", "serve"]:
        return [*CLI, "serve", *words[2:]]
    assert words[:3] == ["python", "-m", "planstream.server"], command
    return [sys.executable, "-m", "planstream.server", *words[3:]]


@when("these servers start together, each on a free port")
def when_servers_start(context: Any) -> None:
    started = []
    for row in context.table:  # all started before any is waited for: imports overlap
        port = free_port()
        variable = row["PLANSTREAM_SERVER_DASHBOARD"]
        env = {"PLANSTREAM_SERVER_DASHBOARD": variable} if variable else None
        args = [*_server_command(row["command"]), "--port", str(port)]
        started.append(
            (row["command"], variable, row, port, start_background(context, args, env=env))
        )
    for *_, port, server in started:
        server.wait_http_ready(f"http://127.0.0.1:{port}/healthz")
    context.dashboard_servers = started


def _case(command: str, variable: str) -> str:
    return f"{command!r} with PLANSTREAM_SERVER_DASHBOARD={variable or '(unset)'}"


@then("each server answers the page at / exactly when its dashboard is on, else the JSON 404")
def then_servers_page(context: Any) -> None:
    page = (STATIC_DIRECTORY / "index.html").read_bytes()
    for command, variable, row, port, _server in context.dashboard_servers:
        answer = run(context, raw_get(f"http://127.0.0.1:{port}", "/"))
        if row["dashboard"] == "on":
            assert (answer.status, answer.body) == (200, page), (_case(command, variable), answer)
        else:
            assert answer.status == 404, (_case(command, variable), str(answer))
            assert answer.json()["error"] == "not_found", str(answer)


@then(
    'each server printed "planstream dashboard on http://127.0.0.1:PORT/" after its listening'
    " line exactly when its dashboard is on"
)
def then_servers_printed(context: Any) -> None:
    for command, variable, row, port, server in context.dashboard_servers:
        process: BackgroundProcess = server
        assert process.stop() == 0, (_case(command, variable), process.stderr)
        lines = process.stdout.splitlines()
        expected = [f"planstream server listening on ws://127.0.0.1:{port}/v1/stream"]
        if row["dashboard"] == "on":
            expected.append(f"planstream dashboard on http://127.0.0.1:{port}/")
        assert lines == expected, (_case(command, variable), process.stdout)


# --- mounted in a host app -----------------------------------------------------------


def _mount(context: Any, prefix: str, settings: dict[str, Any]) -> None:
    mounted = MountedServer(prefix, **settings)
    run(context, mounted.start())
    on_cleanup(context, mounted.stop)
    context.dashboard_root = f"http://127.0.0.1:{mounted.port}"
    context.dashboard_mounted = mounted


@given(
    'the server\'s app mounted at "{prefix}" in a Starlette host served by uvicorn, with settings'
)
def given_mounted(context: Any, prefix: str) -> None:
    settings = {row["setting"]: row["value"] for row in context.table}
    _mount(context, prefix, settings)


@given(
    'the server\'s app mounted at "{prefix}" in a Starlette host served by uvicorn,'
    " with its default settings"
)
def given_mounted_default(context: Any, prefix: str) -> None:
    _mount(context, prefix, {})


async def _load_like_a_browser(root: str, page_path: str) -> dict[str, RawResponse]:
    """Fetch the page, then every URL it names and every module or sheet those
    name, each resolved against the URL it was found in."""
    loaded: dict[str, RawResponse] = {}
    pending = [urljoin(root, page_path)]
    while pending:
        url = pending.pop()
        if url in loaded:
            continue
        answer = await raw_get(root, urlsplit(url).path)
        loaded[url] = answer
        if answer.status != 200:
            continue
        kind = answer.headers.get("content-type", "")
        text = answer.body.decode("utf-8")
        if kind.startswith("text/html"):
            names = page_references(text)
        elif kind.startswith("text/javascript"):
            names = module_imports(text)
        elif kind.startswith("text/css"):
            names = style_references(text)
        else:
            names = []
        pending += [urljoin(url, name) for name in names if not name.startswith("#")]
    return loaded


@when(
    'the page "{path}" is loaded like a browser would: each file it names, each module those'
    " import, relative to where it was found"
)
def when_page_loaded(context: Any, path: str) -> None:
    context.dashboard_loaded = run(context, _load_like_a_browser(_root(context), path))


@then(
    'every file loaded answered 200 under "{prefix}" with the Content-Security-Policy,'
    " at least {count:d} of them"
)
def then_loaded_under_prefix(context: Any, prefix: str, count: int) -> None:
    loaded: dict[str, RawResponse] = context.dashboard_loaded
    assert len(loaded) >= count, list(loaded)
    for url, answer in loaded.items():
        assert urlsplit(url).path.startswith(prefix), url
        assert answer.status == 200, f"{url}: {answer}"
        assert "default-src 'none'" in answer.headers.get("content-security-policy", ""), url


@then("every shipped module and style sheet was among them")
def then_every_module_loaded(context: Any) -> None:
    mounted: MountedServer = context.dashboard_mounted
    paths = {urlsplit(url).path for url in context.dashboard_loaded}
    wanted = {
        mounted.prefix + str(url_path_of(path))
        for path in shipped_files()
        if path.suffix in {".js", ".css"}
    }
    assert wanted, "no module or style sheet ships"
    assert wanted <= paths, sorted(wanted - paths)


@then('"{path}", where the page\'s API base leads, answers a plan list')
def then_api_under_prefix(context: Any, path: str) -> None:
    answer = _get(context, path)
    assert answer.status == 200, str(answer)
    assert answer.json()["plans"] == [], str(answer)


@then('"/" is still the host\'s own route')
def then_host_route(context: Any) -> None:
    answer = _get(context, "/")
    assert answer.status == 200, str(answer)
    assert answer.json() == {"host": "the host app"}, str(answer)


# --- the sources --------------------------------------------------------------------------


@given("the files the dashboard ships")
def given_shipped_files(context: Any) -> None:
    context.dashboard_review = review_sources()


@then("they hold index.html, a module script and at least {count:d} files")
def then_files_present(context: Any, count: int) -> None:
    names = [
        path.relative_to(STATIC_DIRECTORY).as_posix() for path in context.dashboard_review.files
    ]
    assert "index.html" in names, names
    assert any(name.endswith(".js") for name in names), names
    assert len(names) >= count, names


@then(
    "no file has a problem: no HTML sink or string evaluation in a script, no inline script,"
    " style or event handler in markup, no absolute URL, no import or reference to a missing file"
)
def then_no_problem(context: Any) -> None:
    problems = context.dashboard_review.problems
    assert not problems, "\n".join(problems)


@then(
    "index.html names its module script, its style sheet and its icon by relative URLs that exist"
)
def then_page_references(context: Any) -> None:
    suffixes = {path.suffix for path in context.dashboard_review.referenced_by_page}
    assert {".js", ".css", ".svg"} <= suffixes, context.dashboard_review.referenced_by_page


_BAD_FILES = {
    "index.html": (
        "<!doctype html><script>alert(1)</script>\n"
        '<div style="color: red" onclick="go()"></div>\n'
        '<script type="module" src="/dashboard/js/bad.js"></script>\n'
        '<link rel="stylesheet" href="dashboard/missing.css">\n'
        "<style>body {}</style>\n"
        '<a href="#/plans/x">a route is fine</a><img src="dashboard/icon.svg" alt="">\n'
    ),
    "assets/js/bad.js": (
        "// innerHTML in a comment, and https://example.org/docs in a comment, are fine\n"
        "import { b } from './missing.js';\n"
        "import x from 'some-package';\n"
        "el.innerHTML = text;\n"
        "el.outerHTML = text;\n"
        "el.insertAdjacentHTML('beforeend', text);\n"
        "document.write(text);\n"
        "eval(text);\n"
        "const f = new Function('x', text);\n"
        'setTimeout("tick()", 5);\n'
        "fetch('/v1/plans');\n"
        "const u = `http://example.org/${path}`;\n"
        'const s = "//cdn.example.org/x.js";\n'
        "const fine = [`v1/plans/${id}/events?${query}`, 'https:', /[\"'\\/]/g, 'innerHTML'];\n"
        "export * from './good.js';\n"
    ),
    "assets/js/good.js": "/** A module that keeps every rule. */\nexport const good = 1;\n",
    "assets/icon.svg": '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>\n',
    "assets/notes.py": "print('not a dashboard file')\n",
}


@given("a dashboard folder whose files break every rule")
def given_bad_folder(context: Any) -> None:
    folder = Path(tempfile.mkdtemp(prefix="planstream-dashboard-"))
    for name, text in _BAD_FILES.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")

    async def remove() -> None:
        await asyncio.to_thread(shutil.rmtree, folder, True)

    on_cleanup(context, remove)
    context.dashboard_review = review_sources(folder)


@then("the source checks report exactly these problems")
def then_problems_found(context: Any) -> None:
    expected = sorted(row["problem"] for row in context.table)
    found = sorted(context.dashboard_review.problems)
    assert found == expected, "\n".join(
        [*(f"missing: {p}" for p in expected if p not in found)]
        + [f"unexpected: {p}" for p in found if p not in expected]
    )
