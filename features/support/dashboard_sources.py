"""Static checks over every file the dashboard ships (``planstream/server/static``).

The page runs under a strict Content-Security-Policy and renders everything
user-supplied as text; these checks keep the sources honest about it without
a browser: no HTML-parsing sinks or string evaluation in scripts, no inline
script, style or event handler in markup, no absolute URL (the page must work
under a mount prefix), and every module import and every file the page
references resolves to a shipped file.

Scripts are split by :func:`support.dashboard_js_lexer.split_js` (comments,
strings, template literals, regular expressions), so a comment that says
"never innerHTML" or a JSDoc link is not taken for code, and a URL is judged
by the string literal it is in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath

from planstream.server.dashboard import STATIC_DIRECTORY
from support.dashboard_js_lexer import JsToken, split_js

__all__ = [
    "SourceReview",
    "css_problems",
    "html_problems",
    "module_imports",
    "page_references",
    "review_sources",
    "script_problems",
    "shipped_files",
    "style_references",
    "svg_problems",
    "url_path_of",
]

#: What no script may do, on code with its comments removed.
_SCRIPT_SINKS = {
    "innerHTML": re.compile(r"\binnerHTML\b"),
    "outerHTML": re.compile(r"\bouterHTML\b"),
    "insertAdjacentHTML": re.compile(r"\binsertAdjacentHTML\b"),
    "document.write": re.compile(r"\bdocument\s*\.\s*write(ln)?\b"),
    "eval(": re.compile(r"\beval\s*\("),
    "new Function": re.compile(r"\bnew\s+Function\b"),
    "a string timer": re.compile(r"\bset(Timeout|Interval)\s*\(\s*['\"`]"),
    "createContextualFragment": re.compile(r"\bcreateContextualFragment\b"),
    "setHTMLUnsafe": re.compile(r"\bsetHTMLUnsafe\b"),
    "srcdoc": re.compile(r"\bsrcdoc\b"),
}
#: A string that is an absolute URL or path: the page must stay relative to itself.
_ABSOLUTE_STRING = re.compile(r"^(?:(?:https?|wss?):)?//|^/[\w.$-]|^javascript:", re.I)
_ABSOLUTE_ANYWHERE = re.compile(r"(?:https?|wss?)://", re.I)


def shipped_files(root: Path = STATIC_DIRECTORY) -> list[Path]:
    """Every file under ``static/``, sorted."""
    return sorted(path for path in root.rglob("*") if path.is_file())


def url_path_of(path: Path, root: Path = STATIC_DIRECTORY) -> str | None:
    """The URL path (from the app root) a shipped file is served at, None if at none."""
    relative = path.relative_to(root).as_posix()
    if relative == "index.html":
        return "/"
    if relative.startswith("assets/"):
        return "/dashboard/" + relative.removeprefix("assets/")
    return None


# --- JavaScript ------------------------------------------------------------------------


def _code_only(tokens: list[JsToken]) -> str:
    """The script's code, every literal emptied and every comment blanked
    (line breaks kept, so positions still give line numbers)."""
    parts = []
    for token in tokens:
        if token.kind == "code":
            parts.append(token.text)
        elif token.kind == "string":
            parts.append("''")
        elif token.kind == "template":
            parts.append("`" + "\n" * token.text.count("\n") + "`")
        elif token.kind == "regex":
            parts.append("/(?:)/")
        else:
            parts.append("\n" * token.text.count("\n") or " ")
    return "".join(parts)


def script_problems(path: Path, root: Path = STATIC_DIRECTORY) -> tuple[list[str], list[Path]]:
    """What is wrong with one module, and the shipped files it imports."""
    name = path.relative_to(root).as_posix()
    try:
        tokens = split_js(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        return [f"{name}: cannot be read as JavaScript: {exc}"], []
    problems = []
    code = _code_only(tokens)
    for what, pattern in _SCRIPT_SINKS.items():
        for found in pattern.finditer(code):
            line = code.count("\n", 0, found.start()) + 1
            problems.append(f"{name}:{line}: {what}")
    for token in tokens:
        if token.kind not in {"string", "template"}:
            continue
        starts_absolute = not token.continued and _ABSOLUTE_STRING.search(token.text)
        if starts_absolute or _ABSOLUTE_ANYWHERE.search(token.text):
            problems.append(f"{name}:{token.line}: an absolute URL {token.text[:60]!r}")
    imported = []
    for line, spec in _imports(tokens):
        if not spec.startswith(("./", "../")):
            problems.append(f"{name}:{line}: import of {spec!r} is not relative to the module")
            continue
        target = _resolve(path, spec, root)
        if target is None:
            problems.append(f"{name}:{line}: import of {spec!r}: no such shipped file")
        else:
            imported.append(target)
    return problems, imported


def _imports(tokens: list[JsToken]) -> list[tuple[int, str]]:
    """``(line, specifier)`` of every static import, re-export and literal ``import()``."""
    found = []
    for previous, token in zip([None, *tokens], tokens, strict=False):
        if token.kind != "string" or previous is None or previous.kind != "code":
            continue
        if re.search(r"(?:\bfrom|\bimport)\s*$|\bimport\s*\(\s*$", previous.text):
            found.append((token.line, token.text))
    return found


def _resolve(source: Path, reference: str, root: Path) -> Path | None:
    """The shipped file (under ``assets/``) a relative reference from ``source`` names."""
    reference = reference.split("#", 1)[0].split("?", 1)[0]
    target = (source.parent / PurePosixPath(reference)).resolve()
    assets = (root / "assets").resolve()
    if assets not in target.parents or not target.is_file():
        return None
    return target


# --- HTML, CSS, SVG ------------------------------------------------------------------


class _PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.references: list[tuple[int, str, str]] = []  # line, tag, URL
        self.in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        line = self.getpos()[0]
        names = {name.lower(): value for name, value in attrs}
        for name in names:
            if name.startswith("on"):
                self.problems.append(f"{line}: <{tag} {name}=...>: an inline event handler")
            if name == "style":
                self.problems.append(f"{line}: <{tag} style=...>: an inline style")
        if tag == "style":
            self.problems.append(f"{line}: a <style> element")
        if tag == "base":
            self.problems.append(f"{line}: a <base> element")
        if tag == "script":
            self.in_script = True
            if not names.get("src"):
                self.problems.append(f"{line}: an inline <script>")
            elif names.get("type") != "module":
                self.problems.append(f"{line}: a <script> that is not a module")
        for name in ("src", "href", "action", "formaction", "poster", "data"):
            value = names.get(name)
            if value is not None:
                self.references.append((line, tag, value))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self.in_script = False

    def handle_data(self, data: str) -> None:
        if self.in_script and data.strip():
            self.problems.append(f"{self.getpos()[0]}: an inline <script> body")


def html_problems(path: Path, root: Path = STATIC_DIRECTORY) -> tuple[list[str], list[Path]]:
    """What is wrong with a page, and the shipped files it references."""
    name = path.relative_to(root).as_posix()
    parser = _PageParser()
    parser.feed(path.read_text(encoding="utf-8"))
    parser.close()
    problems = [f"{name}:{problem}" for problem in parser.problems]
    referenced = []
    for line, tag, url in parser.references:
        if url.startswith("#"):
            continue  # a route of the page itself
        if _ABSOLUTE_STRING.search(url) or re.match(r"^[a-z][\w+.-]*:", url, re.I):
            problems.append(f"{name}:{line}: <{tag}> names {url!r}, not a relative URL")
            continue
        # index.html is served at the app root: "dashboard/x" is assets/x.
        if not url.startswith("dashboard/"):
            problems.append(f"{name}:{line}: <{tag}> names {url!r}, outside dashboard/")
            continue
        target = _resolve(root / "assets" / "page", "./" + url.removeprefix("dashboard/"), root)
        if target is None:
            problems.append(f"{name}:{line}: <{tag}> names {url!r}: no such shipped file")
        else:
            referenced.append(target)
    return problems, referenced


_CSS_URL = re.compile(
    r"""url\(\s*(['"]?)(?P<url>[^'")]*)\1\s*\)|@import\s+(['"])(?P<imp>[^'"]*)\3"""
)


def css_problems(path: Path, root: Path = STATIC_DIRECTORY) -> tuple[list[str], list[Path]]:
    """Absolute or missing ``url(...)``/``@import`` targets of a style sheet."""
    name = path.relative_to(root).as_posix()
    text = re.sub(r"/\*.*?\*/", " ", path.read_text(encoding="utf-8"), flags=re.S)
    problems, referenced = [], []
    for found in _CSS_URL.finditer(text):
        url = found.group("url") if found.group("url") is not None else found.group("imp")
        line = text.count("\n", 0, found.start()) + 1
        if url.startswith("data:"):
            continue  # an inline image: img-src 'self' refuses it, the browser suite sees that
        if _ABSOLUTE_STRING.search(url) or re.match(r"^[a-z][\w+.-]*:", url, re.I):
            problems.append(f"{name}:{line}: url {url!r} is not relative")
        elif (target := _resolve(path, url if url.startswith(".") else "./" + url, root)) is None:
            problems.append(f"{name}:{line}: url {url!r}: no such shipped file")
        else:
            referenced.append(target)
    return problems, referenced


_SVG_NAMESPACE = re.compile(r"""\sxmlns(?::\w+)?\s*=\s*(['"])http://www\.w3\.org/[^'"]*\1""")


def svg_problems(path: Path, root: Path = STATIC_DIRECTORY) -> list[str]:
    """Scripts, event handlers or outside references in an image."""
    name = path.relative_to(root).as_posix()
    text = _SVG_NAMESPACE.sub(" ", path.read_text(encoding="utf-8"))
    problems = []
    if re.search(r"<\s*script", text, re.I):
        problems.append(f"{name}: a <script>")
    if re.search(r"\son\w+\s*=", text, re.I):
        problems.append(f"{name}: an event handler attribute")
    if _ABSOLUTE_ANYWHERE.search(text) or re.search(r"href\s*=\s*['\"]/", text):
        problems.append(f"{name}: an outside reference")
    return problems


@dataclass(frozen=True)
class SourceReview:
    """What the checks found over every shipped file."""

    files: list[Path]
    problems: list[str]
    referenced_by_page: list[Path]  # what index.html names, directly
    reachable: set[Path]  # what the page loads, following imports and url()s


def review_sources(root: Path = STATIC_DIRECTORY) -> SourceReview:
    """Run every check over every shipped file; follow the page's references."""
    files = shipped_files(root)
    problems: list[str] = []
    references: dict[Path, list[Path]] = {}
    for path in files:
        suffix = path.suffix.lower()
        name = path.relative_to(root).as_posix()
        if suffix == ".html":
            found, references[path.resolve()] = html_problems(path, root)
        elif suffix == ".js":
            found, references[path.resolve()] = script_problems(path, root)
        elif suffix == ".css":
            found, references[path.resolve()] = css_problems(path, root)
        elif suffix == ".svg":
            found = svg_problems(path, root)
        elif suffix in {".png", ".ico", ".woff2"}:
            found = []
        else:
            found = [f"{name}: a file of a type the dashboard does not serve"]
        if url_path_of(path, root) is None:
            found.append(f"{name}: served at no URL (only index.html and assets/ are)")
        problems += found
    page = (root / "index.html").resolve()
    if page not in references:
        problems.append("index.html: missing")
    reachable: set[Path] = set()
    pending = list(references.get(page, []))
    while pending:
        target = pending.pop()
        if target not in reachable:
            reachable.add(target)
            pending += references.get(target, [])
    return SourceReview(files, problems, references.get(page, []), reachable)


# --- what a browser would load, from a file's text -------------------------------------


def page_references(html: str) -> list[str]:
    """The URLs a page names (``src``, ``href``, ...), as written."""
    parser = _PageParser()
    parser.feed(html)
    parser.close()
    return [url for _line, _tag, url in parser.references]


def module_imports(script: str) -> list[str]:
    """The specifiers a module imports, as written."""
    return [spec for _line, spec in _imports(split_js(script))]


def style_references(css: str) -> list[str]:
    """The ``url(...)`` and ``@import`` targets of a style sheet, as written."""
    text = re.sub(r"/\*.*?\*/", " ", css, flags=re.S)
    found = _CSS_URL.finditer(text)
    return [m.group("url") if m.group("url") is not None else m.group("imp") for m in found]
