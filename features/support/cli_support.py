"""Run the real ``planstream`` command (and the examples) in subprocesses.

Commands run as ``python -m planstream.cli`` with ``src/`` on the path, in the
scenario's event loop (``asyncio`` subprocesses), so a server embedded in that
loop keeps serving while the command talks to it. The environment is cleaned
of what would change the output: ``PLANSTREAM_*`` settings and the variables
rich reads to decide whether stdout is a terminal.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from support.servers import free_port, on_cleanup, run

ROOT = Path(__file__).resolve().parents[2]
CLI = (sys.executable, "-m", "planstream.cli")
#: What rich reads to decide on colour and terminal-ness, or the size.
_TERMINAL_VARIABLES = {"FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "COLUMNS"}


def cli_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a command: ours, minus settings and terminal hints."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("PLANSTREAM_") and name not in _TERMINAL_VARIABLES | {"LINES"}
    }
    path = [str(ROOT / "src"), *filter(None, [env.get("PYTHONPATH")])]
    env["PYTHONPATH"] = os.pathsep.join(path)
    env.update(extra or {})
    return env


@dataclass(frozen=True)
class CommandResult:
    """How a command ended and what it printed."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    def __str__(self) -> str:
        return (
            f"$ {' '.join(self.args)}\n-> {self.returncode} after {self.seconds:.1f} s\n"
            f"--- stdout\n{self.stdout}--- stderr\n{self.stderr}"
        )


async def _run_async(
    args: tuple[str, ...], stdin: str | None, env: dict[str, str], timeout: float
) -> CommandResult:
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        *args,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=ROOT,
    )
    try:
        async with asyncio.timeout(timeout):
            out, err = await process.communicate(None if stdin is None else stdin.encode())
    except TimeoutError:
        process.kill()
        out, err = await process.communicate()
        raise AssertionError(
            f"{' '.join(args)} still ran after {timeout} s:\n{out.decode()}\n{err.decode()}"
        ) from None
    assert process.returncode is not None
    return CommandResult(
        args, process.returncode, out.decode(), err.decode(), time.monotonic() - started
    )


def run_command(
    context: Any,
    *args: str,
    stdin: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> CommandResult:
    """Run a command to its end in the scenario's loop (servers there keep serving)."""
    return run(context, _run_async(tuple(args), stdin, cli_env(env), timeout), timeout + 5)


def run_cli(context: Any, *args: str, **options: Any) -> CommandResult:
    """``planstream ARGS...``."""
    return run_command(context, *CLI, *args, **options)


def _interruptible() -> None:
    """In the child before exec: SIGINT as at a terminal. A test run started in
    the background (``nox &``) has SIGINT ignored, and children inherit that;
    Python then installs no KeyboardInterrupt handler and Ctrl-C does nothing."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class BackgroundProcess:
    """A long-running command (``planstream serve``, an example server)."""

    def __init__(self, args: list[str], env: dict[str, str] | None = None) -> None:
        self.args = args
        self.process = subprocess.Popen(
            args,
            env=cli_env(env),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=_interruptible,
        )
        self.stdout = ""
        self.stderr = ""

    def wait_http_ready(self, url: str, timeout: float = 15.0) -> None:
        """Poll ``url`` until it answers 200 (the process may still be importing)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.stop()
                raise AssertionError(f"{self.args} exited early:\n{self.stdout}\n{self.stderr}")
            try:
                if httpx.get(url, timeout=0.5).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise AssertionError(f"{self.args} did not serve within {timeout} s")

    def wait_for_output(self, text: str, timeout: float = 15.0) -> None:
        """Read stdout as it comes until it holds ``text``."""
        assert self.process.stdout is not None
        descriptor = self.process.stdout.fileno()
        deadline = time.monotonic() + timeout
        while text not in self.stdout:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([descriptor], [], [], max(left, 0))
            chunk = os.read(descriptor, 65536) if ready else b""
            if not chunk:
                raise AssertionError(f"{self.args} never printed {text!r}:\n{self.stdout}")
            self.stdout += chunk.decode()

    def stop(self, timeout: float = 15.0, sig: int = signal.SIGTERM) -> int:
        """Signal (SIGTERM lets coverage write its data), wait, collect the output."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            out, err = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, err = self.process.communicate()
        self.stdout += out or ""
        self.stderr += err or ""
        return self.process.returncode


def start_background(
    context: Any, args: list[str], ready_url: str | None = None, env: dict[str, str] | None = None
) -> BackgroundProcess:
    """Start a command, wait until ``ready_url`` answers (if given), stop it after the scenario."""
    background = BackgroundProcess(args, env)

    async def stop() -> None:
        background.stop()

    on_cleanup(context, stop)
    if ready_url is not None:
        background.wait_http_ready(ready_url)
    return background


def start_cli_server(context: Any, *flags: str) -> tuple[BackgroundProcess, int]:
    """``planstream serve --port P FLAGS...`` on a free port."""
    port = free_port()
    server = start_background(
        context, [*CLI, "serve", "--port", str(port), *flags], f"http://127.0.0.1:{port}/healthz"
    )
    return server, port


def fill_placeholders(context: Any, text: str) -> str:
    """Fill ``{url}``, ``{http_url}`` (the scenario's server), ``{free_port}`` and
    ``{event_id_N}`` (of the events published in the scenario) into ``text``."""
    values = {"free_port": str(free_port())}
    if getattr(context, "cli_server_port", None):
        port = context.cli_server_port
        values |= {
            "url": f"ws://127.0.0.1:{port}/v1/stream",
            "http_url": f"http://127.0.0.1:{port}",
        }
    elif getattr(context, "server", None) is not None:
        values |= {"url": context.server.url, "http_url": context.server.http_url}
    for stored_events in getattr(context, "cli_published", {}).values():
        for stored in stored_events:
            values[f"event_id_{stored.seq}"] = stored.event.event_id
    return re.sub(r"\{(\w+)\}", lambda match: values[match.group(1)], text)


def run_in_terminal(
    args: list[str],
    *,
    columns: int,
    rows: int,
    timeout: float = 30.0,
    answer: tuple[bytes, bytes] | None = None,
) -> tuple[int, bytes]:
    """Run ``args`` with a pseudo-terminal of ``columns`` x ``rows`` as its
    stdin/stdout/stderr; return its exit status and every byte it wrote.

    ``answer``: ``(prompt, typed)``: once the output shows ``prompt``, type
    ``typed`` and Enter. The program then runs in a session of its own, with
    no controlling terminal: ``getpass`` turns off the echo of the
    pseudo-terminal, not of the test runner's own terminal.
    """
    controller, terminal = pty.openpty()
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    env = cli_env({"TERM": "xterm-256color"})
    process = subprocess.Popen(
        args,
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env=env,
        cwd=ROOT,
        start_new_session=answer is not None,
    )
    os.close(terminal)
    output = bytearray()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([controller], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(controller, 65536)
                except OSError:  # EIO: the terminal's last writer is gone
                    break
                if not chunk:
                    break
                output += chunk
            elif process.poll() is not None:
                break
            if answer is not None and answer[0] in output:
                os.write(controller, answer[1] + b"\r")
                answer = None
        else:
            process.kill()
            raise AssertionError(f"{args} still ran after {timeout} s")
        return process.wait(timeout), bytes(output)
    finally:
        os.close(controller)
        if process.poll() is None:
            process.kill()
            process.wait()


def plan_events(steps: int, final: str) -> list[tuple[str, dict[str, Any]]]:
    """A small plan as ``(kind, data)`` pairs: running, each step with a log and
    its progress, then ``final`` (a failed plan fails its last step)."""
    events: list[tuple[str, dict[str, Any]]] = [
        ("plan.status", {"status": "running", "reason": None})
    ]
    for index in range(1, steps + 1):
        step = {"step_id": f"s{index}", "index": index, "name": f"Step {index}"}
        failed = final == "failed" and index == steps
        events.append(("step.status", {**step, "status": "running"}))
        events.append(
            (
                "log",
                {
                    "level": "info",
                    "message": f"working on {index}",
                    "step_id": f"s{index}",
                    "stream": "stdout",
                },
            )
        )
        ended = {"status": "failed", "error": "exit code 3"} if failed else {"status": "succeeded"}
        events.append(("step.status", {**step, **ended}))
        events.append(
            (
                "plan.progress",
                {
                    "completed_steps": index,
                    "total_steps": steps,
                    "percent": 100.0 * index / steps,
                    "message": None,
                },
            )
        )
    events.append(("plan.status", {"status": final, "reason": None}))
    return events
