"""Routes what the server sends to the subscriptions that asked for it (pure).

One :class:`StreamRouter` serves a client. It owns the pure
:class:`~planstream.sequencer.Sequencer` and one
:class:`~planstream.channel.PlanChannel` per subscribed plan; each channel
fans its in-order deliveries out to the inbox of every local subscriber
(:class:`~planstream.channel.SubscriberInbox`). It queues the frames the
connection must send (``subscribe`` / ``unsubscribe``) and never performs
I/O itself: like the rest of the pure core it imports no asyncio, is given
the time (``on_frame(frame, now)``, ``tick(now)``) and tells the asyncio
layer what changed through :class:`RouterSignals`.

Every (re)subscription of a channel (the first, the resume after a reconnect,
the rewind of a slow or late subscriber) goes one way: the plan leaves the
sequencer, a ``subscribe`` with a fresh request id is sent, and the plan is
tracked again from the requested position when that request is answered;
frames in between are dropped (the replay re-sends them). Repairs the
sequencer asks for keep the plan tracked: its position is known.
"""

from __future__ import annotations

import logging
from itertools import count, groupby
from typing import Final, Protocol

from planstream.channel import PlanChannel, SubscriberInbox, precedes_or_equals
from planstream.codec import encode_frame
from planstream.delivery import Delivery, RepairAction, RepairsExhausted, SequencerOutput
from planstream.errors import PlanStreamError, RepairFailedError, SubscriptionError, frame_excerpt
from planstream.log_limiter import LogLimiter
from planstream.plan_cursor import Position
from planstream.schema.events import Event, EventBase
from planstream.schema.frames import (
    BatchFrame,
    ErrorFrame,
    HeartbeatFrame,
    PingFrame,
    ResyncFrame,
    ServerFrame,
    SubscribedFrame,
    SubscribeFrame,
    UnsubscribeFrame,
)
from planstream.schema.http import PollResponse
from planstream.sequencer import Sequencer

#: Machinery of the client, imported by name; not public API.
__all__: list[str] = []

logger = logging.getLogger("planstream.client")

#: Queued items above which the reader lets consumers run (see ``backlogged``).
#: Small on purpose: events a consumer has not taken yet survive the garbage
#: collector's young-generation passes and get promoted, which makes the full
#: passes expensive (no yield at all: 64-event batches at ~0.6x a bare client).
#: Not smaller: each yield is an event-loop round trip (~15 µs on the test VM);
#: at 16, single-event frames paid about 1 µs per event for them, at 64 the
#: young-generation passes stay as few as at 16 (benchmarks/client_bench.py).
_BACKLOG: Final = 64
#: Server errors tied to no plan: lines let through per interval, and its length (s).
_ERROR_BURST: Final = 5
_ERROR_INTERVAL: Final = 10.0


#: Every event model: one ``type()`` lookup picks the hot path out of the frames
#: (``isinstance`` against a pydantic model costs several times more).
_EVENT_TYPES: Final = frozenset(EventBase.__subclasses__())


class RouterSignals(Protocol):
    """What the router tells the asyncio layer (which wakes its tasks)."""

    def outbox_ready(self) -> None:
        """Frames were queued for the connection to send."""

    def channels_changed(self) -> None:
        """A plan was subscribed or unsubscribed."""

    def deadline_changed(self) -> None:
        """The sequencer may have an earlier deadline (never said on the in-order path)."""


class StreamRouter:
    """Sequencer, channels and the outgoing frame queue of one client."""

    __slots__ = (
        "_request_ids",
        "backlogged",
        "channels",
        "error_lines",
        "online",
        "outbox",
        "rewinds",
        "sequencer",
        "signals",
    )

    def __init__(self, sequencer: Sequencer, signals: RouterSignals) -> None:
        self.sequencer = sequencer
        self.signals = signals
        self.channels: dict[str, PlanChannel] = {}
        self.outbox: list[str] = []  # encoded frames for the connection to send
        self.online = False  # a WebSocket carries the stream: frames may be queued
        self._request_ids = count(1)
        self.rewinds = 0  # slow subscribers re-subscribed from their position
        #: Server errors tied to no plan: a flood of them gives a few counted lines.
        self.error_lines = LogLimiter(_ERROR_INTERVAL, _ERROR_BURST)
        #: Set when a subscriber has more than a few items queued: the reader then
        #: yields to the event loop so consumers catch up. Short queues keep few
        #: objects alive, which keeps the garbage collector's passes cheap.
        self.backlogged = False

    # --- subscribers ---------------------------------------------------------------

    def attach(self, inbox: SubscriberInbox) -> None:
        """A new local subscriber of ``inbox.plan_id``, resuming where ``inbox`` starts."""
        plan_id = inbox.plan_id
        channel = self.channels.get(plan_id)
        if channel is None:
            channel = self.channels[plan_id] = PlanChannel(plan_id)
            channel.inboxes.append(inbox)
            self._resubscribe(channel, inbox.taken_position)
            self.signals.channels_changed()
        else:
            channel.inboxes.append(inbox)
            self.rewind(inbox)

    def detach(self, inbox: SubscriberInbox) -> None:
        """The subscriber left; the last one to leave unsubscribes the plan."""
        channel = self.channels.get(inbox.plan_id)
        if channel is None or inbox not in channel.inboxes:
            return
        channel.inboxes.remove(inbox)
        if channel.inboxes:
            return
        del self.channels[channel.plan_id]
        self.sequencer.untrack(channel.plan_id)
        self.signals.channels_changed()
        if self.online:
            self.send(UnsubscribeFrame(id=next(self._request_ids), plan_id=channel.plan_id))

    def rewind(self, inbox: SubscriberInbox) -> None:
        """Make the channel replay from ``inbox``'s position (a slow or late subscriber).

        When the order of positions cannot be told yet (ids whose seq is not
        known), the rewind waits: ``inbox`` stays overflowed and is woken to
        retry when the pending answer or the plan's next delivery tells.
        """
        channel = self.channels.get(inbox.plan_id)
        if channel is None:
            return
        wanted = inbox.taken_position
        if channel.pending_from is not None:
            earlier = precedes_or_equals(wanted, channel.pending_from)
            if earlier is None:
                inbox.hold_for_rewind()  # retried when the pending answer arrives
                return
            self._rewound(inbox)
            if earlier and wanted != channel.pending_from:
                self._resubscribe(channel, wanted)
            return
        if precedes_or_equals(self.sequencer.position(channel.plan_id), wanted) is True:
            self._rewound(inbox)
            return
        if not channel.pin_positions(inbox, self.sequencer.seq_of):
            # Another subscriber stands at an id whose seq is not known yet: a
            # replay now could hand it events from before that id again.
            channel.rewind_waiting = True
            inbox.hold_for_rewind()  # retried with the plan's next delivery
            return
        self._rewound(inbox)
        self._resubscribe(channel, wanted)

    def _rewound(self, inbox: SubscriberInbox) -> None:
        if inbox.rewound():
            self.rewinds += 1  # a slow subscriber, not one that joined late

    def end_all(self, error: PlanStreamError | None) -> None:
        """The client stopped: every subscription ends (with ``error`` once drained)."""
        for channel in self.channels.values():
            for inbox in channel.inboxes:
                inbox.end(error)

    # --- connection lifecycle ------------------------------------------------------

    def go_online(self) -> None:
        """A new WebSocket carries the stream: re-subscribe every plan where it stood."""
        self.online = True
        self.outbox.clear()  # frames meant for the previous connection
        for channel in self.channels.values():
            position = channel.pending_from
            if position is None:
                position = self.sequencer.position(channel.plan_id)
            self._resubscribe(channel, position)

    def go_offline(self) -> None:
        """The WebSocket is gone; frames wait for the next one."""
        self.online = False
        self.outbox.clear()

    # --- what the server sends -----------------------------------------------------

    def on_frame(self, frame: ServerFrame, now: float) -> None:
        """Feed one decoded frame received at monotonic time ``now`` (``hello``
        and ``pong`` are the connection's)."""
        sequencer = self.sequencer
        if type(frame) in _EVENT_TYPES:
            event: Event = frame  # type: ignore[assignment]  # (a cast() call costs more)
            # The hot path: the next event of its plan. One tuple and one read of
            # each field per event (a pydantic attribute read costs ~70 ns).
            plan_id = event.plan_id
            events = (event,)
            if sequencer.take_next(plan_id, events):
                self._fan_out(plan_id, events)
                return
            output = sequencer.place(event, now)
        elif isinstance(frame, BatchFrame):
            output = sequencer.on_batch(frame.events, now)
        elif isinstance(frame, SubscribedFrame | ResyncFrame):
            output = self._on_answer(frame, now)
        elif isinstance(frame, HeartbeatFrame):
            output = sequencer.on_heartbeat(frame, now)
        elif isinstance(frame, ErrorFrame):
            self._on_error(frame, now)
            return
        else:
            return  # unsubscribed, and frames the connection consumes
        self.apply(output)

    def tick(self, now: float) -> None:
        """Let the sequencer act on gaps and unanswered repairs past their deadline."""
        self.apply(self.sequencer.tick(now))

    def apply(self, output: SequencerOutput) -> None:
        """Deliver to the subscribers, perform the repair actions, and signal a
        deadline the sequencer may have set."""
        deliveries, actions, plan_id, deadlines = output
        if plan_id is not None:  # one plan's batch: queue it at once
            self._fan_out(plan_id, deliveries)
        elif deliveries:  # runs of one plan each (a resync marker comes alone)
            for run_plan_id, run in groupby(deliveries, _plan_of):
                self._fan_out(run_plan_id, tuple(run))
        for action in actions:
            self._repair(action)
        if deadlines:
            self.signals.deadline_changed()

    def _fan_out(self, plan_id: str, items: tuple[Delivery, ...]) -> None:
        """Queue in-order ``items`` of ``plan_id`` for each of its subscribers."""
        channel = self.channels.get(plan_id)
        if channel is None or not items:
            return
        for inbox in channel.inboxes:
            if inbox.push(items) > _BACKLOG:
                self.backlogged = True
        if channel.rewind_waiting:
            channel.wake_waiting()

    def poll_position(self, plan_id: str) -> tuple[int, str | None] | None:
        """``(generation, after)`` for the next poll of ``plan_id``; None if unsubscribed."""
        channel = self.channels.get(plan_id)
        if channel is None:
            return None
        position = channel.pending_from
        if position is None:
            position = self.sequencer.position(plan_id)
        return channel.generation, position.event_id

    def on_poll(self, generation: int, response: PollResponse, now: float) -> None:
        """Feed a poll answer made at ``generation`` (stale answers are dropped)."""
        channel = self.channels.get(response.plan_id)
        if channel is None or channel.generation != generation:
            return
        if channel.pending_from is not None:
            self._track(channel)
        if response.resync is not None:
            frame = ResyncFrame(
                plan_id=response.plan_id,
                reason=response.resync.reason,
                snapshot=response.resync.snapshot,
            )
            output = self.sequencer.on_resync(frame, now)
        else:
            output = self.sequencer.on_batch(response.events, now)
        # Polls always ask from the sequencer's position: its re-subscriptions
        # are moot (a plan given up still ends).
        given_up = tuple(a for a in output.actions if isinstance(a, RepairsExhausted))
        self.apply(output._replace(actions=given_up))

    def on_poll_forbidden(self, plan_id: str, message: str) -> None:
        """A poll of ``plan_id`` was refused 403: that subscription ends, the others go on."""
        channel = self.channels.get(plan_id)
        if channel is not None:
            self._refused(channel, "forbidden", message)

    def on_invalid_event(self, plan_id: str, seq: int, reason: str, now: float) -> None:
        """An event of ``plan_id`` at ``seq`` arrived that the client cannot read."""
        self.sequencer.on_invalid_event(plan_id, seq, reason, now)
        self.signals.deadline_changed()  # a gap timer may have started

    # --- internals -----------------------------------------------------------------

    def _resubscribe(self, channel: PlanChannel, position: Position) -> None:
        self.sequencer.untrack(channel.plan_id)
        channel.pending_from = position
        channel.generation += 1
        request_id = next(self._request_ids)
        channel.pending_id = request_id
        if self.online:
            self.send(
                SubscribeFrame(
                    id=request_id, plan_id=channel.plan_id, last_event_id=position.event_id
                )
            )

    def _track(self, channel: PlanChannel) -> None:
        position = channel.pending_from
        assert position is not None
        self.sequencer.track(
            channel.plan_id, last_event_id=position.event_id, last_seq=position.seq
        )
        channel.pending_from = None
        channel.pending_id = None
        channel.wake_waiting()

    def _on_answer(self, frame: SubscribedFrame | ResyncFrame, now: float) -> SequencerOutput:
        channel = self.channels.get(frame.plan_id)
        if channel is None:
            return SequencerOutput()
        if channel.pending_from is not None:
            if frame.id != channel.pending_id:
                return SequencerOutput()  # the answer to a superseded request
            self._track(channel)
        return self.sequencer.feed(frame, now)

    def _on_error(self, frame: ErrorFrame, now: float) -> None:
        channel = self.channels.get(frame.plan_id) if frame.plan_id is not None else None
        if channel is None and frame.id is not None:
            channel = next((ch for ch in self.channels.values() if ch.pending_id == frame.id), None)
        if channel is None:  # a flood of these gives a few counted lines
            silenced = self.error_lines.allow(now)
            if silenced is not None:
                more = f" ({silenced} similar warnings suppressed before this one)"
                message = frame_excerpt(frame.message) + (more if silenced else "")
                logger.warning("server error %s: %s", frame.code, message)
            return
        self._refused(channel, frame.code, frame.message)

    def _refused(self, channel: PlanChannel, code: str, message: str) -> None:
        """The server refused ``channel``'s subscription (an ``error`` frame, a 403 poll)."""
        logger.warning(
            "subscription to plan %r failed (%s): %s", channel.plan_id, code, frame_excerpt(message)
        )
        self._fail(channel, SubscriptionError(channel.plan_id, code, message))

    def _fail(self, channel: PlanChannel, error: SubscriptionError) -> None:
        """End ``channel``'s subscriptions with ``error``; the other plans carry on."""
        for inbox in list(channel.inboxes):
            inbox.end(error)
        del self.channels[channel.plan_id]
        self.sequencer.untrack(channel.plan_id)
        self.signals.channels_changed()

    def _repair(self, action: RepairAction) -> None:
        channel = self.channels.get(action.plan_id)
        if isinstance(action, RepairsExhausted):
            if channel is not None:
                self._give_up(channel, action)
            return
        if channel is None or channel.pending_from is not None or not self.online:
            return
        logger.info(
            "re-subscribing plan %r after %r (%s)",
            action.plan_id,
            action.last_event_id,
            action.reason.value,
        )
        self.send(
            SubscribeFrame(
                id=next(self._request_ids),
                plan_id=action.plan_id,
                last_event_id=action.last_event_id,
            )
        )

    def _give_up(self, channel: PlanChannel, action: RepairsExhausted) -> None:
        error = RepairFailedError(
            channel.plan_id, attempts=action.attempts, last_seq=action.last_seq, cause=action.cause
        )
        logger.error("%s", error)
        self._fail(channel, error)
        if self.online:  # stop the broken stream; the server may keep it otherwise
            self.send(UnsubscribeFrame(id=next(self._request_ids), plan_id=channel.plan_id))

    def send(self, frame: SubscribeFrame | UnsubscribeFrame | PingFrame) -> None:
        """Queue ``frame`` for the connection to send."""
        self.outbox.append(encode_frame(frame))
        self.signals.outbox_ready()

    def take_outbox(self) -> list[str]:
        """The queued frames, oldest first; the queue is left empty."""
        frames, self.outbox = self.outbox, []
        return frames


def _plan_of(item: Delivery) -> str:
    return item.plan_id
