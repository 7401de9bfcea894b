"""Events and heads for the sequencer features, and the scenario's sequencer."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from typing import Any

from planstream import LogData, LogEvent
from planstream.schema.events import Head
from planstream.sequencer import Sequencer

EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


@functools.lru_cache(maxsize=65536)
def sequencer_event(plan_id: str, seq: int, event_id: str | None = None) -> LogEvent:
    """A log event of ``plan_id`` at ``seq``; its id is ``e<seq>`` unless given.

    Events are frozen models, so the cached instances can be shared freely.
    """
    return LogEvent(
        plan_id=plan_id,
        event_id=event_id if event_id is not None else f"e{seq}",
        seq=seq,
        ts=EPOCH + timedelta(seconds=min(seq, 10**9)),
        data=LogData(level="info", message=f"line {seq}", stream="stdout"),
    )


def sequencer_head(seq: int | None, event_id: str | None = None) -> Head | None:
    """A stream head, or None when ``seq`` is None."""
    if seq is None:
        return None
    return Head(seq=seq, event_id=event_id if event_id is not None else f"e{seq}")


def scenario_sequencer(context: Any) -> Sequencer:
    return context.seq_sequencer
