"""The reconnect storm's report: ``build/reliability/storm.json`` and ``storm.md``.

``storm.md`` is the table ``docs/reliability.md`` shows (the lead pastes it
from the run quoted there); ``storm.json`` holds every figure of every mode,
the parameters, the command and the machine.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from storm_analysis import WINDOW, StormFigures
from storm_run import StormParameters

__all__ = ["COMMAND", "storm_json", "storm_markdown", "write_report"]

#: How the report is made (docs/reliability.md quotes it).
COMMAND = (
    ".venv/bin/robot --pythonpath features --pythonpath reliability "
    "--outputdir build/reports/reliability reliability/storm.robot"
)


def _ratio(none: StormFigures | None, figures: StormFigures) -> float | None:
    """How many times lower the peak of attempts on the restarted server is than none's."""
    if none is None or figures.peak_attempts == 0:
        return None
    return none.peak_attempts / figures.peak_attempts


def _machine() -> dict[str, Any]:
    return {"cpus": os.cpu_count(), "load_average": list(os.getloadavg())}


def storm_json(parameters: StormParameters, modes: Sequence[StormFigures]) -> dict[str, Any]:
    """Every figure, the parameters, the command and the machine, as JSON."""
    none = next((figures for figures in modes if figures.jitter == "none"), None)
    return {
        "command": COMMAND,
        "parameters": asdict(parameters),
        "window_s": WINDOW,
        "machine": _machine(),
        "modes": [
            {**figures.as_json(), "peak_ratio_vs_none": _ratio(none, figures)} for figures in modes
        ],
    }


def storm_markdown(parameters: StormParameters, modes: Sequence[StormFigures]) -> str:
    """The table of docs/reliability.md, with the setup it was measured with."""
    none = next((figures for figures in modes if figures.jitter == "none"), None)
    window = round(WINDOW * 1000)
    lines = [
        f"{parameters.clients} clients in {parameters.processes} processes on one reference "
        f"server (Redis log); backoff: initial {parameters.initial_delay:g} s, factor 2, "
        f"cap {parameters.max_delay:g} s; the server is killed ({parameters.restart_signal}) "
        f"and started again {parameters.down_time:g} s after it exited.",
        "",
        f"| jitter | peak attempts / {window} ms on the restarted server | "
        f"peak completed handshakes / {window} ms | peak attempts / {window} ms, whole storm | "
        "all resumed after | median resume | max per-client delay (drop → resumed) | "
        "reconnect attempts | peak none / this |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for figures in modes:
        ratio = _ratio(none, figures)
        lines.append(
            f"| {figures.jitter} | {figures.peak_attempts} | {figures.peak_handshakes} | "
            f"{figures.peak_attempts_all} | {figures.all_resumed_after:.2f} s | "
            f"{figures.median_resumed_after:.2f} s | {figures.longest_outage:.2f} s | "
            f"{figures.attempts} | {'-' if ratio is None else f'{ratio:.1f}x'} |"
        )
    lines += [
        "",
        "Every client saw every event of its plan exactly once, in order, with no resync: "
        + ", ".join(
            f"{figures.jitter} {figures.events_delivered} delivered / {figures.lost} lost / "
            f"{figures.duplicated} duplicated"
            for figures in modes
        )
        + ".",
    ]
    return "\n".join(lines) + "\n"


def write_report(
    directory: Path, parameters: StormParameters, modes: Sequence[StormFigures]
) -> tuple[Path, Path]:
    """Write ``storm.json`` and ``storm.md`` into ``directory``; returns their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    json_path = directory / "storm.json"
    markdown_path = directory / "storm.md"
    json_path.write_text(
        json.dumps(storm_json(parameters, modes), indent=2) + "\n", encoding="utf-8"
    )
    markdown_path.write_text(storm_markdown(parameters, modes), encoding="utf-8")
    return json_path, markdown_path
