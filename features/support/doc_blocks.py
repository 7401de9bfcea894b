"""The code blocks of the documentation, with their page, line and marker.

The docs-execution test (features/docs_run.feature) runs every block this
module finds, so a command or a program shown to users cannot rot. A block
is a fenced block (```python, ```sh, ```bash, ```console, and the languages
that are only shown: ```text, ```json), or, in the README, an indented
command line. What happens to a block is said by an HTML comment on the line
right before it (blank lines between are allowed); a block without one runs:

``<!-- doc-test: run -->`` (the default)
    python: a program run to its end (exit 0 within the timeout); sh: a
    ``bash -e -o pipefail`` script run to its end.
``<!-- doc-test: background -->``
    started, then the page goes on; it must end with exit status 0 before the
    page's last block is done (a ``planstream watch`` waiting for a plan that a
    later block publishes).
``<!-- doc-test: server -->``
    a program that serves until stopped: started with fresh ports (see
    below); it must listen on them (or print ``ready="TEXT"``) and still be
    running; at the page's end it gets SIGTERM (``exit=N``: and must then exit N).
``<!-- doc-test: typecheck reason="..." -->``
    python that cannot run here (it names a host of the reader's network):
    ``mypy --strict``, not run.
``<!-- doc-test: fragment -->``
    python that is a piece of a bigger program: compiled (top-level ``await``
    allowed), not run.
``<!-- doc-test: parse-only reason="..." -->``
    sh whose commands cannot run here: each ``planstream`` command line is
    parsed by the real click command (options, their types), not run.
``<!-- doc-test: skip reason="..." -->``
    not run at all; the reason is required and the skip list is kept small.

Attributes of any marker: ``plan="ID"`` (before the block, the harness
publishes a finished plan ``ID``: 2 steps, then ``succeeded``), ``env="K=V ..."``
(extra environment), ``expect="TEXT"`` (run and background blocks: what
stdout must hold at the end), ``prelude='...'`` (sh: a line run before the block, say
the definition of a command the text assumes), ``timeout="S"`` (seconds,
default 30), ``dir="scratch"`` (run in a temporary directory the page's blocks
share, not in the repository: for blocks that write files). A value may be in
single quotes instead, to hold double ones.

Every block runs with ``PLANSTREAM_URL`` naming the page's own ``planstream
serve --token reader --publish-token writer`` and port ``8765`` in its text
rewritten to that server's port; in ``server`` blocks every port number
(``--port N``, ``PORT=N``, ``port=N``) becomes a fresh free port instead, and
such a port N (other than 8765) in a later block of the page becomes that
server's fresh port.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "EXECUTED_LANGUAGES",
    "HANDLINGS",
    "SHOWN_LANGUAGES",
    "DocBlock",
    "doc_pages",
    "extract_blocks",
    "page_blocks",
    "planstream_command_lines",
]

#: Languages whose blocks the harness executes (or checks), by kind.
EXECUTED_LANGUAGES = {
    "python": "python",
    "py": "python",
    "sh": "sh",
    "bash": "sh",
    "shell": "sh",
    "console": "sh",
}
#: Languages that are only shown (output, diagrams); JSON is validated by docs.feature.
SHOWN_LANGUAGES = {"text", "json"}
#: Every marker and the block kinds it applies to.
HANDLINGS = {
    "run": {"python", "sh"},
    "background": {"python", "sh"},
    "server": {"python", "sh"},
    "typecheck": {"python"},
    "fragment": {"python"},
    "parse-only": {"sh"},
    "skip": {"python", "sh"},
}
#: Markers that need a ``reason``.
NEEDS_REASON = {"typecheck", "parse-only", "skip"}

_FENCE = re.compile(r"^```(\S*)\s*$")
_MARKER = re.compile(r"^<!--\s*doc-test:\s*(?P<body>.*?)\s*-->\s*$")
_ATTRIBUTE = re.compile(r"""(\w[\w-]*)=(?:"([^"]*)"|'([^']*)')""")


@dataclass(frozen=True)
class DocBlock:
    """One code block of a page: where it is, what it is, what to do with it."""

    page: str
    line: int  # 1-based line of the opening fence (or of the indented line)
    language: str  # as written after the fence ("" for an indented README line)
    text: str
    handling: str = "run"
    attributes: dict[str, str] = field(default_factory=dict)

    @property
    def kind(self) -> str | None:
        """``python``, ``sh``, or None for a block that is only shown."""
        if self.language == "":
            return "sh"  # the README's indented command lines
        return EXECUTED_LANGUAGES.get(self.language)

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"

    @property
    def reason(self) -> str:
        return self.attributes.get("reason", "")

    def commands(self) -> str:
        """The shell script of an sh block (a ``console`` block: its ``$`` lines)."""
        text = self.text
        if self.language == "console":
            text = "".join(line[2:] + "\n" for line in text.splitlines() if line.startswith("$ "))
        prelude = self.attributes.get("prelude")
        return f"{prelude}\n{text}" if prelude else text


def _parse_marker(body: str, where: str) -> tuple[str, dict[str, str]]:
    handling, _, rest = body.partition(" ")
    attributes = {name: double or single for name, double, single in _ATTRIBUTE.findall(rest)}
    leftover = _ATTRIBUTE.sub("", rest).strip()
    if handling not in HANDLINGS or leftover:
        raise ValueError(f"{where}: unknown doc-test marker {body!r}")
    return handling, attributes


def extract_blocks(page: str, text: str, *, indented_commands: bool = False) -> list[DocBlock]:
    """Every code block of ``text`` (the page ``page``), in order.

    ``indented_commands``: also take lines indented by four spaces outside
    fences and lists (the README's command lines) as sh blocks.
    """
    blocks: list[DocBlock] = []
    lines = text.splitlines()
    marker: tuple[str, dict[str, str]] | None = None
    index = 0
    previous_blank = True
    while index < len(lines):
        line = lines[index]
        where = f"{page}:{index + 1}"
        if found := _MARKER.match(line):
            marker = _parse_marker(found.group("body"), where)
        elif fence := _FENCE.match(line):
            end = index + 1
            while end < len(lines) and not lines[end].startswith("```"):
                end += 1
            if end == len(lines):
                raise ValueError(f"{where}: a code block that is never closed")
            body = "".join(f"{body_line}\n" for body_line in lines[index + 1 : end])
            blocks.append(_block(page, index + 1, fence.group(1), body, marker))
            marker = None
            index = end
        elif indented_commands and line.startswith("    ") and previous_blank and line.strip():
            end = index
            while end < len(lines) and lines[end].startswith("    "):
                end += 1
            body = "".join(f"{body_line[4:]}\n" for body_line in lines[index:end])
            blocks.append(_block(page, index + 1, "", body, marker))
            marker = None
            index = end - 1
        elif line.strip() and marker is not None:
            raise ValueError(f"{where}: a doc-test marker not followed by a code block")
        previous_blank = not line.strip()
        index += 1
    return blocks


def _block(
    page: str, line: int, language: str, body: str, marker: tuple[str, dict[str, str]] | None
) -> DocBlock:
    handling, attributes = marker or ("run", {})
    block = DocBlock(page, line, language, body, handling, attributes)
    if marker is not None:
        kinds = HANDLINGS[handling]
        if block.kind not in kinds:
            raise ValueError(f"{block.where}: {handling!r} is for {sorted(kinds)} blocks")
        if handling in NEEDS_REASON and not block.reason.strip():
            raise ValueError(f'{block.where}: {handling!r} needs a reason="..."')
    return block


def doc_pages(root: Path) -> list[str]:
    """The pages whose blocks must run: README, getting started, every guide,
    the dashboard, security and architecture (relative to ``root``)."""
    guides = sorted(
        path.relative_to(root).as_posix() for path in (root / "docs/guide").glob("*.md")
    )
    return [
        "README.md",
        "docs/getting_started.md",
        *guides,
        "docs/dashboard.md",
        "docs/security.md",
        "docs/architecture.md",
    ]


def page_blocks(root: Path, page: str) -> list[DocBlock]:
    """The blocks of one page (the README's indented command lines included)."""
    text = (root / page).read_text(encoding="utf-8")
    return extract_blocks(page, text, indented_commands=page == "README.md")


def planstream_command_lines(script: str) -> list[list[str]]:
    """The words of each ``planstream ...`` command of a shell script (after a
    pipe, ``&&`` or leading ``VAR=value`` assignments), continuation lines joined."""
    joined = re.sub(r"\\\n", " ", script)
    commands = []
    for line in joined.splitlines():
        words = shlex.split(line, comments=True) if line.strip() else []
        current: list[str] = []
        for word in [*words, "|"]:
            if word in {"|", "&&", "||", ";"}:
                while current and re.match(r"[A-Z_]+=", current[0]):
                    current.pop(0)
                if current and current[0].rsplit("/", 1)[-1] == "planstream":
                    commands.append(current[1:])
                current = []
            else:
                current.append(word)
    return commands
