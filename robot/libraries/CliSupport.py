"""Robot Framework keywords around the ``planstream`` command line.

The commands themselves run through Robot's Process library (``robot/cli.robot``);
these keywords only find a free port, wait for a server to answer, and read
what the commands printed: the demo's summary line and ``--json`` output.
"""

from __future__ import annotations

import json
import os
import re
import socket
import sys
import time
from pathlib import Path
from typing import Any

import httpx

__all__ = ["CliSupport"]

_SUMMARY = re.compile(
    r"^demo finished: plan (?P<status>\w+); (?P<received>\d+) events received, "
    r"(?P<lost>\d+) lost, (?P<duplicated>\d+) duplicated, (?P<reconnects>\d+) reconnects, "
    r"(?P<repaired>\d+) gaps repaired$",
    re.MULTILINE,
)
_ROOT = Path(__file__).resolve().parents[2]


class CliSupport:
    """Keywords for the CLI suite."""

    ROBOT_LIBRARY_SCOPE = "SUITE"

    def python_executable(self) -> str:
        """The interpreter running Robot (it has planstream installed)."""
        return sys.executable

    def cli_python_path(self) -> str:
        """``PYTHONPATH`` for the commands: the checkout's ``src`` first."""
        current = os.environ.get("PYTHONPATH")
        return os.pathsep.join([str(_ROOT / "src"), *([current] if current else [])])

    def free_port(self) -> int:
        """A TCP port free on 127.0.0.1 right now."""
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port: int = sock.getsockname()[1]
            return port

    def wait_until_server_answers(self, port: int | str, timeout: float | str = 15) -> None:
        """Poll ``/healthz`` on ``port`` until it answers 200."""
        deadline = time.monotonic() + float(timeout)
        url = f"http://127.0.0.1:{int(port)}/healthz"
        while time.monotonic() < deadline:
            try:
                if httpx.get(url, timeout=0.5).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise AssertionError(f"nothing answered {url} within {timeout} s")

    def demo_summary(self, output: str) -> dict[str, Any]:
        """The numbers of the demo's closing line (ints, and the plan's status)."""
        matches = list(_SUMMARY.finditer(output))
        if len(matches) != 1:
            raise AssertionError(f"expected one summary line in:\n{output}")
        if output.rstrip("\n").splitlines()[-1] != matches[0].group(0):
            raise AssertionError("the summary is not the last line")
        values: dict[str, Any] = {
            key: int(value) if value.isdigit() else value
            for key, value in matches[0].groupdict().items()
        }
        return values

    def json_lines(self, output: str) -> list[dict[str, Any]]:
        """Every line of ``output`` parsed as one JSON object."""
        values = [json.loads(line) for line in output.splitlines()]
        if not all(isinstance(value, dict) for value in values):
            raise AssertionError(f"not one JSON object per line:\n{output}")
        return values

    def plan_events_as_json_lines(self, steps: int | str, final: str) -> str:
        """A small plan as ``planstream publish --stdin`` input: running, each
        step running/succeeded with a log line, then ``final``."""
        lines = [{"kind": "plan.status", "data": {"status": "running"}}]
        for index in range(1, int(steps) + 1):
            step = {"step_id": f"s{index}", "index": index, "name": f"Step {index}"}
            log = {"level": "info", "message": f"step {index}", "stream": "stdout"}
            lines.append({"kind": "step.status", "data": {**step, "status": "running"}})
            lines.append({"kind": "log", "data": log})
            lines.append({"kind": "step.status", "data": {**step, "status": "succeeded"}})
        lines.append({"kind": "plan.status", "data": {"status": final}})
        return "".join(json.dumps(line) + "\n" for line in lines)
