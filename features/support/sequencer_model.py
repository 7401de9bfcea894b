"""A model of what the user saw of each plan, a driver feeding generated ops to
a sequencer, and the checks of each op's output against the model (the
invariants property of support/sequencer_properties.py)."""

from __future__ import annotations

from collections import deque
from typing import Any

from planstream import PlanSnapshot, Resync
from planstream.delivery import RepairReason, SequencerOutput
from planstream.schema import BatchFrame, HeartbeatFrame, ResyncFrame, SubscribedFrame
from planstream.schema.events import Head
from planstream.sequencer import Sequencer
from support.sequencer_events import EPOCH, sequencer_event, sequencer_head

PROP_HUGE = 2**53 - 2**20  # near the largest JSON-safe seq (protocol §1), room for runs


class SequencerModel:
    """What the user saw of one plan since the last resync (or the start)."""

    def __init__(self, last_seq: int | None, last_id: str | None, dw: int) -> None:
        self.dw = dw
        self.last_seq = last_seq
        self.last_id = last_id
        # Ids delivered within the dedup window; the resume position counts as
        # delivered (it was, before the resume).
        self.recent: deque[str] = deque([last_id] if last_id else [], maxlen=dw)
        self.hint = 0  # where relative seqs start while last_seq is unknown

    def rebase(self, head: Head | None) -> None:
        self.last_seq = head.seq if head else 0
        self.last_id = head.event_id if head else None
        self.recent = deque([head.event_id] if head else [], maxlen=self.dw)


class SequencerDriver:
    """Feeds generated ops to a sequencer, resolving relative seqs at run time."""

    def __init__(self, seq: Sequencer, models: dict[str, SequencerModel]) -> None:
        self.seq = seq
        self.models = models
        self.now = 0.0
        self.unsolicited = 0

    def _base(self, plan: str) -> int:
        model = self.models.get(plan)
        if model is None:
            return 0
        return model.last_seq if model.last_seq is not None else model.hint

    def _seq(self, plan: str, spec: tuple[str, int]) -> int:
        kind, value = spec
        return value if kind == "abs" else min(PROP_HUGE, max(1, self._base(plan) + value))

    def _event(self, plan: str, seq: int, event_id: str | None) -> Any:
        self.unsolicited += plan not in self.models
        return sequencer_event(plan, seq, event_id)

    def _head(self, plan: str, spec: Any) -> Head | None:
        if spec is None:
            return None
        if spec == "here":
            model = self.models.get(plan)
            if model is None or model.last_id is None:
                return None
            return sequencer_head(self._base(plan), model.last_id)
        seq_spec, event_id = spec
        return sequencer_head(self._seq(plan, seq_spec), event_id)

    def apply(self, op: tuple[Any, ...]) -> SequencerOutput:
        seq, now, kind = self.seq, self.now, op[0]
        if kind == "event":
            plan, seq_spec, event_id = op[1]
            return seq.on_event(self._event(plan, self._seq(plan, seq_spec), event_id), now)
        if kind == "run":
            _, plan, start, length, swaps, as_batch = op
            first = self._base(plan) + start
            order = list(range(first, first + length))
            for i, j in swaps:
                order[i % length], order[j % length] = order[j % length], order[i % length]
            events = [self._event(plan, s, None) for s in order]
            if as_batch:
                return seq.feed(BatchFrame(events=tuple(events)), now)
            outs = [seq.on_event(event, now) for event in events]
            return SequencerOutput(
                tuple(d for o in outs for d in o.deliveries),
                tuple(a for o in outs for a in o.actions),
            )
        if kind == "batch":
            events = [self._event(p, self._seq(p, s), e) for p, s, e in op[1]]
            return seq.feed(BatchFrame(events=tuple(events)), now)
        if kind == "tick":
            self.now += op[1]
            return seq.tick(self.now)
        if kind == "heartbeat":
            heads = {plan: self._head(plan, spec) for plan, spec in op[1].items()}
            return seq.feed(HeartbeatFrame(ts=EPOCH, heads=heads), now)
        if kind == "subscribed":
            frame = SubscribedFrame(id=1, plan_id=op[1], head=self._head(op[1], op[2]))
            return seq.feed(frame, now)
        if kind == "resync":
            snapshot = PlanSnapshot(plan_id=op[1], head=self._head(op[1], op[3]))
            return seq.feed(ResyncFrame(plan_id=op[1], reason=op[2], snapshot=snapshot), now)
        if kind == "echo":
            _, plan, back, delta = op
            model = self.models.get(plan)
            if model is None or not model.recent:
                return SequencerOutput()
            event_id = model.recent[-1 - back % len(model.recent)]
            return seq.on_event(sequencer_event(plan, self._base(plan) + delta, event_id), now)
        # A reconnect, as the router performs it: every plan is tracked again
        # from its position when the server answers; the dedup window restarts.
        for plan, model in self.models.items():
            position = seq.position(plan)
            seq.track(plan, last_event_id=position.event_id, last_seq=position.seq)
            model.recent = deque([position.event_id] if position.event_id else [], maxlen=model.dw)
        return SequencerOutput()


def check_sequencer_output(
    seq: Sequencer, models: dict[str, SequencerModel], out: SequencerOutput
) -> tuple[int, int]:
    """Check one op's output against the models; returns (events, markers) delivered."""
    ids_before = {plan: m.last_id for plan, m in models.items()}
    ids_seen: dict[str, set[str | None]] = {plan: {ids_before[plan]} for plan in models}
    events = markers = 0
    for item in out.deliveries:
        assert item.plan_id in models, ("delivered for an untracked plan", item)
        model = models[item.plan_id]
        if isinstance(item, Resync):
            model.rebase(item.snapshot.head)
            markers += 1
        else:
            if model.last_seq is not None:
                assert item.seq == model.last_seq + 1, ("skipped or repeated", item, model.last_seq)
            assert item.event_id not in model.recent, ("id delivered twice", item, model.recent)
            model.last_seq, model.last_id = item.seq, item.event_id
            model.recent.append(item.event_id)
            events += 1
        ids_seen[item.plan_id].add(model.last_id)
    for action in out.actions:
        assert action.plan_id in models, ("repair for an untracked plan", action)
        assert isinstance(action.reason, RepairReason), action
        # Resume from the last delivered id (at the time the action was taken).
        assert action.last_event_id in ids_seen[action.plan_id], (action, ids_seen)
    for plan, model in models.items():
        position = seq.position(plan)
        if model.last_seq is None:
            model.last_seq = position.seq  # learned from a matching `subscribed` head
        assert position == (model.last_id, model.last_seq), (plan, position, vars(model))
    return events, markers


def check_sequencer_bounds(seq: Sequencer) -> None:
    for plan, cursor in seq._cursors.items():
        assert len(cursor.buffer) <= seq.reorder_window, (plan, sorted(cursor.buffer))
        assert len(cursor.recent_ids) <= seq.dedup_window, (plan, cursor.recent_ids)
        assert len(cursor.recent_order or ()) <= seq.dedup_window, (plan, cursor.recent_order)
        if cursor.buffer:
            last = cursor.last_seq
            assert last is not None, plan
            assert all(last + 1 < s <= last + seq.reorder_window for s in cursor.buffer), (
                plan,
                last,
                sorted(cursor.buffer),
            )
            # Buffered events mean a missing one: something must be due (no stall).
            assert cursor.gap_deadline is not None or cursor.repair_deadline is not None, plan
