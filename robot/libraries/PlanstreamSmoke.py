"""Robot Framework keywords for the planstream smoke suite.

The keywords drive the pure pipeline (codec -> sequencer) the way a transport
would: frames go in as JSON text, typed models and deliveries come out. They
assert in Python where a check needs a loop, and otherwise return plain values
for the suite to check with BuiltIn keywords.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

import planstream
import planstream.codec
import planstream.schema
from planstream import InvalidFrameError
from planstream.delivery import SequencerStats
from planstream.sequencer import Sequencer

__all__ = ["PlanstreamSmoke"]

#: Sample frames, one JSON object per file (``robot/data/<name>.json``).
DATA_DIR = Path(__file__).resolve().parent.parent / "data"

_T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
_LOG_LEVELS = ("debug", "info", "info", "info", "warning", "error")


class PlanstreamSmoke:
    """Keywords to decode sample frames and sequence a disordered stream."""

    ROBOT_LIBRARY_SCOPE = "SUITE"

    def __init__(self) -> None:
        self._sequencer: Sequencer | None = None
        self._actions: list[Any] = []

    # --- package --------------------------------------------------------------

    def planstream_version(self) -> str:
        """Return ``planstream.__version__`` after checking it matches the
        installed distribution's metadata."""
        installed = metadata.version("planstream")
        if planstream.__version__ != installed:
            raise AssertionError(
                f"planstream.__version__ is {planstream.__version__!r} "
                f"but the installed distribution is {installed!r}"
            )
        return planstream.__version__

    def planstream_constant(self, name: str) -> Any:
        """Return the wire constant ``planstream.schema.<name>`` (e.g. ``PROTOCOL_VERSION``)."""
        if name not in planstream.schema.__all__:
            raise AssertionError(f"planstream.schema does not export {name!r}")
        return getattr(planstream.schema, name)

    # --- codec ----------------------------------------------------------------

    def read_sample_frame(self, name: str) -> str:
        """Return the text of ``robot/data/<name>.json``."""
        path = DATA_DIR / f"{name}.json"
        if not path.is_file():
            raise AssertionError(f"no sample frame {path}")
        return path.read_text(encoding="utf-8")

    def decode_sample_frame(self, name: str) -> Any:
        """Decode ``robot/data/<name>.json`` with ``planstream.codec.decode_server_frame``."""
        return planstream.codec.decode_server_frame(self.read_sample_frame(name))

    def decode_frame(self, text: str) -> Any:
        """Decode one server frame given as text; errors propagate unchanged."""
        return planstream.codec.decode_server_frame(text)

    def frame_should_be(self, frame: Any, type_name: str) -> None:
        """Fail unless ``frame`` is exactly the planstream model ``type_name``."""
        expected = self.planstream_constant(type_name)
        if type(frame) is not expected:
            raise AssertionError(f"expected a {type_name}, got {type(frame).__name__}: {frame!r}")

    def decoding_should_fail(self, text: str) -> str:
        """Decode ``text``, expecting ``InvalidFrameError``; return its reason."""
        try:
            frame = planstream.codec.decode_server_frame(text)
        except InvalidFrameError as exc:
            if not exc.reason:
                raise AssertionError("InvalidFrameError carries no reason") from exc
            return exc.reason
        raise AssertionError(f"frame decoded without error: {frame!r}")

    # --- sequencer ------------------------------------------------------------

    def build_shuffled_stream(
        self,
        plans: int = 2,
        events_per_plan: int = 500,
        window: int = 64,
        duplicate_ratio: float = 0.05,
        seed: int = 20250301,
    ) -> list[str]:
        """Return ``event`` frames (JSON text) of ``plans`` interleaved plans,
        shuffled within blocks of ``window`` and with about ``duplicate_ratio``
        of them sent again a little later (protocol §1: the client must not
        trust the server to be perfect)."""
        plans, events_per_plan, window = int(plans), int(events_per_plan), int(window)
        rng = random.Random(int(seed))
        in_order = [
            _event_frame(f"plan-{p}", seq)
            for seq in range(1, events_per_plan + 1)
            for p in range(plans)
        ]
        shuffled: list[str] = []
        for start in range(0, len(in_order), window):
            block = in_order[start : start + window]
            rng.shuffle(block)
            shuffled.extend(block)
        stream = list(shuffled)
        for frame in rng.sample(shuffled, round(len(shuffled) * float(duplicate_ratio))):
            # Re-send within the window, after the original.
            at = stream.index(frame) + 1 + rng.randrange(window)
            stream.insert(min(at, len(stream)), frame)
        return stream

    def count_duplicates(self, stream: list[str]) -> int:
        """Number of frames in ``stream`` that repeat an earlier one."""
        return len(stream) - len(set(stream))

    def stream_should_be_out_of_order(self, stream: list[str]) -> None:
        """Fail if some plan's events already arrive in ``seq`` order."""
        seqs = _seqs_by_plan(json.loads(frame) for frame in stream)
        ordered = [plan for plan, got in seqs.items() if got == sorted(got)]
        if ordered:
            raise AssertionError(f"stream is already in order for {ordered}")

    def feed_stream_to_sequencer(self, stream: list[str], plans: int = 2) -> list[Any]:
        """Decode every frame and feed it to a fresh ``Sequencer`` tracking
        ``plan-0`` .. ``plan-<plans-1>`` from the start; return the deliveries."""
        sequencer = Sequencer()
        for p in range(int(plans)):
            sequencer.track(f"plan-{p}")
        deliveries: list[Any] = []
        self._actions = []
        for now, text in enumerate(stream):
            # One tick per frame: far below gap_timeout, so no repair is due.
            out = sequencer.feed(planstream.codec.decode_server_frame(text), now * 0.0001)
            deliveries.extend(out.deliveries)
            self._actions.extend(out.actions)
        self._sequencer = sequencer
        return deliveries

    def sequencer_stats(self) -> SequencerStats:
        """The stats of the sequencer of the last ``Feed Stream To Sequencer``."""
        if self._sequencer is None:
            raise AssertionError("no stream was fed to a sequencer yet")
        return self._sequencer.stats

    def sequencer_should_have_requested_no_repairs(self) -> None:
        """Fail if the last fed stream made the sequencer ask to re-subscribe."""
        if self._actions:
            raise AssertionError(f"unexpected repair actions: {self._actions}")

    def deliveries_should_be_in_order_exactly_once(
        self, deliveries: list[Any], plans: int = 2, events_per_plan: int = 500
    ) -> None:
        """Fail unless each plan delivered ``seq`` 1..N in order, each event once."""
        ids = [d.event_id for d in deliveries]
        if len(ids) != len(set(ids)):
            raise AssertionError(f"{len(ids) - len(set(ids))} events were delivered twice")
        seqs = _seqs_by_plan({"plan_id": d.plan_id, "seq": d.seq} for d in deliveries)
        expected = list(range(1, int(events_per_plan) + 1))
        if sorted(seqs) != [f"plan-{p}" for p in range(int(plans))]:
            raise AssertionError(f"deliveries for plans {sorted(seqs)}")
        for plan_id, got in seqs.items():
            if got != expected:
                first_bad = next(
                    (i for i, (a, b) in enumerate(zip(got, expected, strict=False)) if a != b),
                    min(len(got), len(expected)),
                )
                raise AssertionError(
                    f"{plan_id}: delivered {len(got)} events, expected {len(expected)}; "
                    f"first difference at position {first_bad}: "
                    f"got {got[first_bad : first_bad + 5] or 'nothing'}, "
                    f"expected {expected[first_bad : first_bad + 5] or 'nothing'}"
                )


def _event_frame(plan_id: str, seq: int) -> str:
    """A ``log`` event frame; every 50th event is a ``step.status`` instead."""
    event: dict[str, Any] = {
        "type": "event",
        "plan_id": plan_id,
        "event_id": f"{plan_id}-{seq:06d}",
        "seq": seq,
        "ts": (_T0 + timedelta(milliseconds=250 * seq)).isoformat().replace("+00:00", "Z"),
    }
    if seq % 50 == 0:
        event["kind"] = "step.status"
        event["data"] = {
            "step_id": f"s-{seq // 50}",
            "index": seq // 50,
            "name": f"step {seq // 50}",
            "status": "succeeded",
            "error": None,
        }
    else:
        event["kind"] = "log"
        event["data"] = {
            "level": _LOG_LEVELS[seq % len(_LOG_LEVELS)],
            "message": f"line {seq} of the build output",
            "step_id": f"s-{seq // 50 + 1}",
            "stream": "stdout",
        }
    return json.dumps(event)


def _seqs_by_plan(events: Any) -> dict[str, list[int]]:
    seqs: dict[str, list[int]] = defaultdict(list)
    for event in events:
        seqs[event["plan_id"]].append(event["seq"])
    return dict(seqs)
