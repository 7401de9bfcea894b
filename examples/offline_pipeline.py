"""The planstream pipeline without a network: decode -> sequence -> fold.

A simulated orchestrator runs a three-step plan. Its frames reach us the way a
bad network and a careless server deliver them: duplicated, reordered, one
lost. The sequencer delivers every event exactly once and in order, asks for
the lost one to be replayed, and the reducer folds the stream into the
plan's final state.

Run: ``python examples/offline_pipeline.py [--seed N]``
"""

from __future__ import annotations

import argparse
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from planstream import PlanState, Resync, UnknownEvent
from planstream.codec import decode_event, decode_server_frame, encode_frame
from planstream.delivery import Delivery, Resubscribe
from planstream.schema import BatchFrame, Head, SubscribedFrame
from planstream.sequencer import Sequencer

PLAN = "plan-demo"


def orchestrator_events() -> list[dict[str, Any]]:
    """The events a real orchestrator would publish for a three-step plan."""
    start = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
    steps = [("fetch", "Fetch sources"), ("build", "Build wheel"), ("publish", "Publish")]
    payloads: list[tuple[str, dict[str, Any]]] = [("plan.status", {"status": "running"})]
    for index, (step_id, name) in enumerate(steps):
        step = {"step_id": step_id, "index": index, "name": name}
        line = {"level": "info", "message": f"{name}…", "step_id": step_id, "stream": "stdout"}
        payloads.append(("step.status", {**step, "status": "running"}))
        payloads.append(("log", line))
        payloads.append(("step.status", {**step, "status": "succeeded"}))
        done = index + 1
        payloads.append(
            (
                "plan.progress",
                {"completed_steps": done, "total_steps": 3, "percent": 100 * done / 3},
            )
        )
    payloads.append(("plan.status", {"status": "succeeded"}))
    return [
        {
            "type": "event",
            "plan_id": PLAN,
            "event_id": f"01JD-{seq:04d}",
            "seq": seq,
            "ts": (start + timedelta(seconds=seq)).isoformat(),
            "kind": kind,
            "data": data,
        }
        for seq, (kind, data) in enumerate(payloads, start=1)
    ]


def unreliable_wire(events: list[dict[str, Any]], rng: random.Random) -> tuple[list[str], int]:
    """Frames as a faulty path delivers them; returns them and the lost seq."""
    lost = rng.randrange(3, len(events) - 2)
    frames = []
    for event in events:
        if event["seq"] == lost:
            continue
        frames.append(encode_frame(decode_event(event)))
        if rng.random() < 0.25:  # a retransmission
            frames.append(frames[-1])
    # Reorder neighbours, as a multi-path relay might.
    for i in range(0, len(frames) - 1, 4):
        frames[i], frames[i + 1] = frames[i + 1], frames[i]
    return frames, lost


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7, help="seed of the simulated faults")
    args = parser.parse_args()
    rng = random.Random(args.seed)  # noqa: S311 - simulated faults, not secrets

    published = orchestrator_events()
    frames, lost = unreliable_wire(published, rng)
    sequencer = Sequencer(gap_timeout=2.0)
    sequencer.track(PLAN)
    state = PlanState(PLAN)
    delivered: list[int] = []
    now = 0.0

    def handle(deliveries: tuple[Delivery, ...]) -> None:
        for item in deliveries:
            if isinstance(item, Resync):  # never happens here: history is retained
                print(f"resync: {item.reason}")
                continue
            state.apply(item)
            delivered.append(item.seq)
            data = item.data if isinstance(item, UnknownEvent) else item.data.model_dump_json()
            print(f"  seq {item.seq:>2}  {item.kind:<13} {data}")

    print(f"{len(published)} events published; {len(frames)} frames arrive, seq {lost} lost")
    for raw in frames:
        now += 0.1
        output = sequencer.feed(decode_server_frame(raw), now)
        handle(output.deliveries)

    # Time passes; the gap outlives gap_timeout and the sequencer asks for a replay.
    for action in sequencer.tick(now + 2.5).actions:
        if not isinstance(action, Resubscribe):  # RepairsExhausted: not after one gap
            continue
        print(f"repair: re-subscribe {action.plan_id} after {action.last_event_id}", action.reason)
        after = next(e["seq"] for e in published if e["event_id"] == action.last_event_id)
        head = Head(seq=published[-1]["seq"], event_id=published[-1]["event_id"])
        sequencer.on_subscribed(SubscribedFrame(id="r1", plan_id=PLAN, head=head), now)
        replay = BatchFrame(events=tuple(decode_event(e) for e in published if e["seq"] > after))
        handle(sequencer.feed(decode_server_frame(encode_frame(replay)), now + 2.6).deliveries)

    stats = sequencer.stats
    missing = sorted({e["seq"] for e in published} - set(delivered))
    in_order = delivered == sorted(set(delivered))
    print(
        f"final status: {state.status}, "
        f"{state.progress.percent if state.progress else 0:.0f}% "
        f"({len(state.steps)} steps)"
    )
    print(
        f"summary: {len(delivered)} delivered, {stats.duplicates_dropped} duplicates dropped, "
        f"{stats.reordered} reordered, {stats.repairs_requested} repaired, "
        f"{len(missing)} lost, in order: {'yes' if in_order else 'NO'}"
    )
    return 0 if not missing and in_order else 1


if __name__ == "__main__":
    raise SystemExit(main())
