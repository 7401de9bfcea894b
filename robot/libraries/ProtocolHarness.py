"""Keywords that drive the browser's protocol client and compute the Python side.

``Run Client Script`` runs a page script with a small harness in front of it:

* ``mod(name)`` imports ``dashboard/js/protocol/<name>.js`` relative to the page;
* ``startClient(options)`` creates a ``StreamClient`` for the page's origin
  (fast test backoff unless given) and records its states and fatal problems;
* ``follow(planId, lastEventId)`` subscribes, recording seqs (a resync as
  ``resync@<head seq>``), ids and errors;
* ``waitFor(condition, what)`` waits (20 ms steps, 10 s) for a condition;
* ``report()`` returns what was recorded plus ``client.stats`` and the state.

The Python side (``Python Backoff Delays``, ``Python Folded Snapshot``) uses the
SDK's own ``planstream.backoff`` and ``planstream.plan_state``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from robot.libraries.BuiltIn import BuiltIn

from planstream.backoff import BackoffPolicy
from planstream.codec import decode_event
from planstream.plan_state import PlanState

__all__ = ["ProtocolHarness"]

HARNESS = r"""
const base = new URL('.', document.baseURI);
const mod = (name) => import(new URL(`dashboard/js/protocol/${name}.js`, base).href);
const h = (window.__protocolHarness ??= { client: null, record: null });
const FAST_BACKOFF = { initial: 0.05, factor: 2, max: 0.2 };
async function startClient(options = {}) {
  const { StreamClient } = await mod('stream_client');
  const record = { states: [], fatals: [], plans: {} };
  const client = new StreamClient({ baseUrl: base.href, backoff: FAST_BACKOFF, ...options });
  client.onState((change) => record.states.push({ ...change, at: performance.now() }));
  client.onFatal((problem) => record.fatals.push({ ...problem, state: client.state }));
  h.client = client;
  h.record = record;
  return client;
}
function follow(planId, lastEventId = null) {
  const plan = { seqs: [], ids: [], messages: [], resyncs: [], errors: [] };
  h.record.plans[planId] = plan;
  return h.client.subscribe(planId, {
    lastEventId,
    onEvent: (event) => {
      plan.seqs.push(event.seq);
      plan.ids.push(event.event_id);
      plan.messages.push(event.data?.message ?? null);
    },
    onResync: ({ reason, snapshot }) => {
      plan.seqs.push(`resync@${snapshot.head ? snapshot.head.seq : 0}`);
      plan.resyncs.push({ reason, snapshot });
    },
    onError: (error) => plan.errors.push(error),
  });
}
const seqs = (planId = 'plan-1') => h.record.plans[planId]?.seqs ?? [];
const states = () => h.record.states.map((change) => change.state);
function report() {
  return {
    plans: h.record.plans, states: states(), changes: h.record.states, fatals: h.record.fatals,
    stats: h.client.stats, state: h.client.state,
  };
}
async function waitFor(condition, what, timeoutS = 10) {
  const end = performance.now() + timeoutS * 1000;
  for (;;) {
    const value = condition();
    if (value) return value;
    if (performance.now() > end) {
      throw new Error(`timed out waiting for ${what}: ${JSON.stringify(report())}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
const pause = (seconds) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));
"""

#: What Chromium itself logs as a console error when a request is refused:
#: a refused WebSocket upgrade, and any HTTP answer of status 4xx/5xx to a
#: fetch (``Failed to load resource: the server responded with a status of
#: 401``). Nothing in a page can prevent these; the suite forgives them only in
#: the tests that make the server refuse on purpose.


class _ListRandom:
    """``random.Random.uniform`` over a given list of [0, 1) draws."""

    def __init__(self, draws: list[float]) -> None:
        self._draws: Iterator[float] = iter(draws)

    def uniform(self, a: float, b: float, /) -> float:
        return a + (b - a) * next(self._draws)


def _step(index: int, status: str) -> dict[str, Any]:
    return {
        "step_id": f"s{index}",
        "index": index,
        "name": f"step {index}",
        "status": status,
        "error": None,
    }


class ProtocolHarness:
    """Robot keywords for the protocol client suite."""

    ROBOT_LIBRARY_SCOPE = "SUITE"

    def run_client_script(self, *lines: str) -> Any:
        """Run ``lines`` (an async function body, one statement or more per line)
        with the harness in front of it; return its JSON value."""
        browser = BuiltIn().get_library_instance("DashboardBrowser")
        browser.driver.set_script_timeout(30)
        return browser.run_page_script(HARNESS + "\n".join(lines))

    def close_client_in_page(self) -> None:
        """Close the page's client, if one was started (teardown)."""
        browser = BuiltIn().get_library_instance("DashboardBrowser")
        browser.run_page_script("window.__protocolHarness?.client?.close();")

    def python_backoff_delays(
        self, draws: list[float], initial: float = 0.5, factor: float = 2.0, maximum: float = 30.0
    ) -> list[float]:
        """The SDK's full-jitter delays for the given random draws."""
        policy = BackoffPolicy(
            initial_delay=float(initial), factor=float(factor), max_delay=float(maximum)
        )
        schedule = policy.schedule(_ListRandom([float(draw) for draw in draws]))
        return [next(schedule) for _ in draws]

    def six_step_plan_events(self, plan_id: str = "plan-1") -> list[dict[str, Any]]:
        """A 6-step plan's stream: statuses, progress, steps out of index order, logs, a repeat."""
        bodies: list[tuple[str, dict[str, Any]]] = [
            ("plan.status", {"status": "queued", "reason": None})
        ]
        bodies.append(("plan.status", {"status": "running", "reason": None}))
        for index in (2, 0, 1, 5, 3, 4):
            bodies.append(("step.status", _step(index, "pending")))
        for index in range(6):
            bodies.append(("step.status", _step(index, "running")))
            bodies.append(
                (
                    "log",
                    {
                        "level": "info",
                        "message": f"<b>step {index}</b>",
                        "step_id": f"s{index}",
                        "stream": "stdout",
                    },
                )
            )
            done = {**_step(index, "failed" if index == 4 else "succeeded")}
            if index == 4:
                done["error"] = "exit 3"
            bodies.append(("step.status", done))
            progress = {
                "completed_steps": index + 1,
                "total_steps": 6,
                "percent": (index + 1) * 100 / 6,
                "message": None,
            }
            bodies.append(("plan.progress", progress))
        bodies.append(("plan.status", {"status": "failed", "reason": "step 4 failed"}))
        bodies.append(("unknown.kind", {"anything": [1, 2]}))
        return [
            {
                "type": "event",
                "plan_id": plan_id,
                "event_id": f"e{seq}",
                "seq": seq,
                "ts": f"2026-01-01T00:{seq // 60:02d}:{seq % 60:02d}.250000Z",
                "kind": kind,
                "data": data,
            }
            for seq, (kind, data) in enumerate(bodies, start=1)
        ]

    def python_folded_snapshot(self, events: list[dict[str, Any]]) -> dict[str, Any]:
        """Fold ``events`` (wire form) with the SDK's reducer; the snapshot as JSON values."""
        state = PlanState(events[0]["plan_id"])
        for event in events:
            state.apply(decode_event(event))
        value: dict[str, Any] = json.loads(state.snapshot().model_dump_json())
        return value

    def to_json(self, value: Any) -> str:
        """``value`` as JSON text (to embed in a page script)."""
        return json.dumps(value)
