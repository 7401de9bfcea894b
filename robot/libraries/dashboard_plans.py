"""The plans the dashboard suite publishes, as data: (kind, data) pairs of protocol §5.

* :func:`six_step_plan` — six steps, each running then succeeded with log lines,
  with named checkpoints so a test can publish up to one and look at the page;
* :func:`hostile_plan` — a step name, a step error and a log message made of
  HTML, a script and ANSI escapes;
* :func:`large_plan` — any number of events (the 1,000-event cost figure) with
  realistic log lines.

Pure: no I/O, so the scripts can be read (and changed) on their own.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "HOSTILE_ANSI",
    "HOSTILE_IMAGE",
    "HOSTILE_SCRIPT",
    "STEP_NAMES",
    "Event",
    "hostile_plan",
    "large_plan",
    "six_step_plan",
]

#: One event to publish: its kind and its data.
Event = tuple[str, dict[str, Any]]

STEP_NAMES = ("checkout", "install deps", "lint", "unit tests", "build image", "deploy")
HOSTILE_SCRIPT = "<script>window.__pwned=1</script>"
HOSTILE_IMAGE = '<img src=x onerror="window.__pwned=1">'
HOSTILE_ANSI = "\x1b[31mred\x1b[0m"


def _log(message: str, level: str = "info", step_id: str | None = None) -> Event:
    stream = "stderr" if level in ("warning", "error") else "stdout"
    return ("log", {"level": level, "message": message, "step_id": step_id, "stream": stream})


def _step(index: int, status: str, name: str | None = None, error: str | None = None) -> Event:
    name = STEP_NAMES[index - 1] if name is None else name
    data = {"step_id": f"s{index}", "index": index, "name": name, "status": status}
    return ("step.status", {**data, "error": error})


def _progress(done: int, total: int) -> Event:
    percent = round(100.0 * done / total, 1)
    return ("plan.progress", {"completed_steps": done, "total_steps": total, "percent": percent,
                              "message": f"{done} of {total} steps done"})  # fmt: skip


def _status(status: str, reason: str | None = None) -> Event:
    return ("plan.status", {"status": status, "reason": reason})


def six_step_plan() -> list[tuple[str, Any, str | None]]:
    """The six-step plan as (kind, data, checkpoint reached after it) in publishing order.

    Checkpoints: ``queued``, ``started``, ``step N running``, ``step N succeeded``
    (N = 1..6) and ``succeeded``.
    """
    script: list[tuple[str, Any, str | None]] = [(*_status("queued"), "queued")]
    started = [_status("running"), _progress(0, 6), *(_step(i, "pending") for i in range(1, 7))]
    started.append(_log("plan started: 6 steps", step_id=None))
    script += [(*event, None) for event in started[:-1]] + [(*started[-1], "started")]
    for i, name in enumerate(STEP_NAMES, start=1):
        level = "warning" if i in (2, 4) else "info"
        script.append((*_step(i, "running"), None))
        script.append((*_log(f"step {i} ({name}) started", step_id=f"s{i}"), f"step {i} running"))
        script.append((*_log(f"{name}: 12 items checked", level, step_id=f"s{i}"), None))
        script.append((*_step(i, "succeeded"), None))
        script.append((*_progress(i, 6), f"step {i} succeeded"))
    script.append((*_log("plan finished: 6/6 steps succeeded"), None))
    script.append((*_status("succeeded"), "succeeded"))
    return script


def large_plan(events: int, steps: int = 20) -> list[Event]:
    """``events`` events of one plan: ``steps`` steps with realistic log lines between them."""
    logs = events - 2 - 3 * steps  # running + succeeded + progress per step, start and end
    if logs < steps:
        raise AssertionError(f"{events} events are too few for {steps} steps")
    plan: list[Event] = [_status("running")]
    for i in range(1, steps + 1):
        step_id = f"s{i}"
        plan.append(_step(i, "running", name=f"stage {i:02d}"))
        for line in range(logs // steps + (1 if i <= logs % steps else 0)):
            if line % 17 == 16:
                level, text = "warning", "retrying download after a timeout (attempt 2 of 5)"
            elif line % 53 == 52:
                level, text = "error", "test_upload_resume failed: expected 200, got 503"
            else:
                level = "info"
                text = f"compiling src/planstream/module_{line:03d}.py ({1200 + 37 * line} bytes)"
            plan.append(_log(f"[stage {i:02d}] {text}", level, step_id=step_id))
        plan.append(_step(i, "succeeded", name=f"stage {i:02d}"))
        plan.append(_progress(i, steps))
    plan.append(_status("succeeded"))
    return plan


def hostile_plan() -> tuple[list[Event], dict[str, str]]:
    """A failing one-step plan whose texts are hostile; return it and those texts
    (``step_name``, ``step_error``, ``message``)."""
    texts = {
        "step_name": f"{HOSTILE_SCRIPT} build",
        "step_error": f"{HOSTILE_IMAGE} exit {HOSTILE_ANSI}",
        "message": f"{HOSTILE_SCRIPT} {HOSTILE_IMAGE} {HOSTILE_ANSI}",
    }
    plan = [
        _status("running"),
        _step(1, "running", name=texts["step_name"]),
        _log(texts["message"], "error", step_id="s1"),
        _step(1, "failed", name=texts["step_name"], error=texts["step_error"]),
        _status("failed", reason="step 1 failed"),
    ]
    return plan, texts
