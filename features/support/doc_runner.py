"""Run a page's code blocks (see :mod:`support.doc_blocks`) as a user would.

One :class:`PageRun` per page: the page's own ``planstream serve --token
reader --publish-token writer`` on a free port, then every block in page
order, as subprocesses with the test run's virtualenv first on ``PATH``.
Blocks marked ``background`` or ``server`` keep running while the page goes
on; :meth:`PageRun.finish` waits for the first and stops the second.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import httpx

from support.cli_support import cli_env, plan_events, start_cli_server
from support.doc_blocks import DocBlock, planstream_command_lines
from support.servers import free_port, on_cleanup

__all__ = ["BIN", "PageRun", "block_file_name", "check_options", "fragment_compiles"]

ROOT = Path(__file__).resolve().parents[2]
#: The virtualenv the tests run in: ``.venv/bin/`` of a command means this one.
BIN = Path(sys.executable).parent
DOC_PORT = "8765"
_PORT_SETTING = re.compile(r"(--port[ =]|PORT=|port=)(\d+)")
_PIP_INSTALL = re.compile(r"\S*pip install -e (\S+)")


def block_file_name(block: DocBlock) -> str:
    """``docs_guide_client_md_L8.py``: a file name that says where a block is."""
    return re.sub(r"\W", "_", block.page) + f"_L{block.line}.py"


def fragment_compiles(block: DocBlock) -> None:
    """Compile a fragment (top-level ``await`` allowed, as in an asyncio REPL)."""
    import ast

    compile(block.text, block.where, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)


def check_options(words: list[str], where: str) -> None:
    """A ``planstream`` command line whose options (names and non-path values)
    the real command accepts; paths name files of the reader's machine."""
    from planstream.cli.main import main

    assert isinstance(main, click.Group)
    name, *args = words
    ctx = click.Context(main)
    command = main.get_command(ctx, name)
    if isinstance(command, click.Group) and args:  # planstream token create ...
        name, *args = [f"{name} {args[0]}", *args[1:]]
        command = command.get_command(click.Context(command), name.split()[-1])
    assert command is not None, f"{where}: no command planstream {name}"
    # secondary_opts: the "off" side of a flag pair (--no-dashboard)
    options = {
        opt: param for param in command.params for opt in [*param.opts, *param.secondary_opts]
    }
    index = 0
    while index < len(args):
        option, has_value, value = args[index].partition("=")
        index += 1
        if not option.startswith("-"):
            continue
        param = options.get(option)
        assert isinstance(param, click.Option), f"{where}: planstream {name} has no {option}"
        if param.is_flag:
            continue
        if not has_value:
            value, index = args[index], index + 1
        placeholder = re.fullmatch(r"[A-Z_]+|\$.*", value) is not None  # SECONDS, $TOKEN
        if not isinstance(param.type, click.Path) and not placeholder:
            param.type.convert(value, param, click.Context(command))


class BlockProcess:
    """A block running in the background, in a process group of its own (a
    script's children get the signal too), its output in files (no pipe that
    a grandchild could keep open)."""

    def __init__(
        self, block: DocBlock, args: list[str], env: dict[str, str], folder: Path, cwd: Path
    ):
        self.block = block
        self.out_path = folder / (block_file_name(block) + ".out")
        self.err_path = folder / (block_file_name(block) + ".err")
        with self.out_path.open("wb") as out, self.err_path.open("wb") as err:
            self.process = subprocess.Popen(
                args,
                env=cli_env(env),
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )

    def output(self) -> str:
        out = self.out_path.read_text(errors="replace")
        err = self.err_path.read_text(errors="replace")
        return f"--- stdout\n{out}--- stderr\n{err}"

    def wait(self, timeout: float) -> int | None:
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self) -> int:
        """SIGTERM to the group (coverage writes its data), SIGKILL if it lingers.

        Only while the group's leader runs: then the group id is surely ours."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            if self.wait(15) is None:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        return self.process.returncode


@dataclass
class BlockOutcome:
    """What became of one block: ran, background, server, typecheck, fragment,
    parse-only or skip."""

    block: DocBlock
    outcome: str


@dataclass
class PageRun:
    """The blocks of one page, run against the page's own server."""

    context: Any
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="doc-blocks-")))
    outcomes: list[BlockOutcome] = field(default_factory=list)
    background: list[BlockProcess] = field(default_factory=list)
    servers: list[BlockProcess] = field(default_factory=list)

    _port: int | None = None
    #: The fresh port of each port a server block named (8765 aside: the page's own).
    _server_ports: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        async def cleanup() -> None:  # also after a failed block: nothing keeps running
            for process in [*self.background, *self.servers]:
                process.stop()
            shutil.rmtree(self.workdir, ignore_errors=True)

        on_cleanup(self.context, cleanup)

    @property
    def port(self) -> int:
        """The page's ``planstream serve``, started when a block first needs it."""
        if self._port is None:
            flags = ("--token", "reader", "--publish-token", "writer")
            _, self._port = start_cli_server(self.context, *flags)
        return self._port

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/v1/stream"

    # --- preparing a block -------------------------------------------------------

    def _env(self, block: DocBlock) -> dict[str, str]:
        env = {
            "PATH": os.pathsep.join([str(BIN), os.environ.get("PATH", "")]),
            "PLANSTREAM_URL": self.url,
            "PYTHONUNBUFFERED": "1",
        }
        for assignment in shlex.split(block.attributes.get("env", "")):
            name, _, value = assignment.partition("=")
            env[name] = value
        return env

    def _rewrite(self, block: DocBlock, text: str) -> tuple[str, list[int]]:
        """The text as it runs here, and the fresh ports of a server block."""
        fresh: list[int] = []
        if block.handling == "server":

            def fresh_port(match: re.Match[str]) -> str:
                fresh.append(free_port())
                if match.group(2) != DOC_PORT:
                    self._server_ports[match.group(2)] = str(fresh[-1])
                return f"{match.group(1)}{fresh[-1]}"

            text = _PORT_SETTING.sub(fresh_port, text)
        else:
            # A later block reaches a server block at the port the page shows for it.
            for shown, port in self._server_ports.items():
                text = re.sub(rf"\b{shown}\b", port, text)
        text = text.replace(DOC_PORT, str(self.port))
        if block.kind == "sh":
            text = text.replace(".venv/bin/", f"{BIN}/")
            text = text.replace("python3 -m venv .venv", "true")
            check = ROOT / "features/support/doc_install_check.py"
            text = _PIP_INSTALL.sub(lambda m: f"{sys.executable} {check} {m.group(1)}", text)
        return text, fresh

    def _command(self, block: DocBlock) -> tuple[list[str], dict[str, str], list[int]]:
        text, fresh = self._rewrite(block, block.commands())
        path = self.workdir / block_file_name(block)
        env = self._env(block)
        if block.kind == "python":
            path.write_text(text, encoding="utf-8")
            args = [sys.executable, str(path)]
        else:
            path = path.with_suffix(".sh")
            if block.handling == "server":
                text = _exec_last_command(text)
            path.write_text(text, encoding="utf-8")
            args = ["bash", "-e", "-o", "pipefail", str(path)]
        if block.handling == "server" and not fresh:
            fresh.append(free_port())
            env["PLANSTREAM_SERVER_PORT"] = str(fresh[-1])
        return args, env, fresh

    def _publish_plan(self, plan_id: str) -> None:
        headers = {"Authorization": "Bearer writer"}
        url = f"http://127.0.0.1:{self.port}/v1/plans/{plan_id}/events"
        events = [{"kind": kind, "data": data} for kind, data in plan_events(2, "succeeded")]
        answer = httpx.post(url, json=events, headers=headers, timeout=10)  # one atomic list
        assert answer.status_code == 201, answer.text

    # --- running ------------------------------------------------------------------

    def run(self, block: DocBlock) -> None:
        """Do with ``block`` what its marker says (assertions say what went wrong)."""
        if plan_id := block.attributes.get("plan"):
            self._publish_plan(plan_id)
        handling = block.handling
        if handling == "skip":
            pass
        elif handling == "fragment":
            fragment_compiles(block)
        elif handling == "typecheck":
            compile(block.text, block.where, "exec")  # mypy --strict checks it (docs_run.feature)
        elif handling == "parse-only":
            lines = planstream_command_lines(block.commands())
            assert lines, f"{block.where}: parse-only, but no planstream command in it"
            for words in lines:
                check_options(words, block.where)
        else:
            args, env, fresh = self._command(block)
            if handling == "run":
                self._run_to_end(block, args, env)
            else:
                process = BlockProcess(block, args, env, self.workdir, self._cwd(block))
                if handling == "server":
                    self.servers.append(process)
                    self._wait_serving(process, fresh)
                else:
                    self.background.append(process)
        self.outcomes.append(BlockOutcome(block, handling))

    def _cwd(self, block: DocBlock) -> Path:
        """The repository root, or with ``dir="scratch"`` the page's scratch directory."""
        if block.attributes.get("dir") != "scratch":
            return ROOT
        scratch = self.workdir / "scratch"
        scratch.mkdir(exist_ok=True)
        return scratch

    def _timeout(self, block: DocBlock) -> float:
        return float(block.attributes.get("timeout", "30"))

    def _run_to_end(self, block: DocBlock, args: list[str], env: dict[str, str]) -> None:
        started = time.monotonic()
        try:
            result = subprocess.run(
                args,
                env=cli_env(env),
                cwd=self._cwd(block),
                capture_output=True,
                text=True,
                timeout=self._timeout(block),
                stdin=subprocess.DEVNULL,
                check=False,
            )
        except subprocess.TimeoutExpired as error:
            raise AssertionError(f"{block.where} still ran after {error.timeout} s") from None
        took = time.monotonic() - started
        assert result.returncode == 0, (
            f"{block.where} exited {result.returncode} after {took:.1f} s\n{block.text}"
            f"--- stdout\n{result.stdout}--- stderr\n{result.stderr}"
        )
        expected = block.attributes.get("expect", "")
        assert expected in result.stdout, (
            f"{block.where} never printed {expected!r}:\n{result.stdout}"
        )

    def _wait_serving(self, process: BlockProcess, ports: list[int]) -> None:
        """Until the server block listens on its ports (and printed ``ready``)."""
        block = process.block
        ready = block.attributes.get("ready", "")
        deadline = time.monotonic() + self._timeout(block)
        while not (all(map(_listening, ports)) and ready in process.output()):
            if process.process.poll() is not None or time.monotonic() > deadline:
                process.stop()
                raise AssertionError(
                    f"{block.where} never served on {ports} (ready: {ready!r}):\n{process.output()}"
                )
            time.sleep(0.05)

    def finish(self) -> Counter[str]:
        """Wait for the background blocks (exit 0), stop the servers (SIGTERM)."""
        failures = []
        for process in self.background:
            status = process.wait(self._timeout(process.block))
            process.stop()
            printed = process.out_path.read_text(errors="replace")
            if status != 0 or process.block.attributes.get("expect", "") not in printed:
                failures.append(
                    f"{process.block.where} (background) ended with {status}\n{process.output()}"
                )
        for process in self.servers:
            alive = process.process.poll() is None
            status = process.stop()
            expected = process.block.attributes.get("exit")
            if not alive or (expected is not None and status != int(expected)):
                failures.append(
                    f"{process.block.where} (server) ended with {status}, "
                    f"{'after SIGTERM' if alive else 'before it was stopped'}\n{process.output()}"
                )
        assert not failures, "\n".join(failures)
        return Counter(outcome.outcome for outcome in self.outcomes)


def _exec_last_command(script: str) -> str:
    """The script with ``exec`` before its last command (after its ``VAR=value``
    words): the server then is the process that gets SIGTERM and exits."""
    lines = re.sub(r"\\\n\s*", " ", script).strip().splitlines()
    words = lines[-1].split()
    first = next(i for i, word in enumerate(words) if not re.match(r"[A-Z_]+=", word))
    lines[-1] = " ".join([*words[:first], "exec", *words[first:]])
    return "\n".join(lines) + "\n"


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0
