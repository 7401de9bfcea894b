"""Routes what the server sends to the subscriptions that asked for it.

One :class:`StreamRouter` serves a client. It owns the pure
:class:`~planstream.sequencer.Sequencer` and one :class:`PlanChannel` per
subscribed plan; each channel fans its in-order deliveries out to the
:class:`~planstream.client.inbox.SubscriptionInbox` of every local subscriber.
It queues the frames the connection must send (``subscribe`` /
``unsubscribe``) and never performs I/O itself.

Every (re)subscription of a channel — the first one, the resume after a
reconnect, the rewind of a slow or late subscriber — goes the same way: the
plan leaves the sequencer, a ``subscribe`` with a fresh request id is sent, and
the plan is tracked again from the requested position when the server answers
that request (``subscribed`` or ``resync``). Anything the server sent for the
plan in between belongs to the old position and is dropped; the replay
re-sends it. Repairs asked for by the sequencer itself (gaps, lost tails)
keep the plan tracked: its position is known.
"""

from __future__ import annotations

import logging
from itertools import count

from planstream.client.channel import PlanChannel, Position, precedes_or_equals
from planstream.client.clock import now as clock
from planstream.client.flag import Flag
from planstream.client.inbox import SubscriptionInbox
from planstream.client.log_throttle import WarningThrottle
from planstream.codec import encode_frame
from planstream.delivery import RepairAction, RepairsExhausted, SequencerOutput
from planstream.errors import PlanStreamError, RepairFailedError, SubscriptionError, frame_excerpt
from planstream.schema.events import EventBase
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

__all__ = ["StreamRouter"]

logger = logging.getLogger("planstream.client")

#: Queued items above which the reader lets consumers run (see ``backlogged``).
#: Small on purpose: events a consumer has not taken yet survive the garbage
#: collector's young-generation passes and get promoted, which makes the full
#: passes expensive. Measured on 64-event batches: 16 -> ~1.0x a bare client,
#: 64 -> ~0.6x (benchmarks/client_bench.py).
_BACKLOG = 16


class StreamRouter:
    """Sequencer, channels and the outgoing frame queue of one client."""

    __slots__ = (
        "_request_ids",
        "backlogged",
        "channels",
        "channels_changed",
        "error_warnings",
        "online",
        "outbox",
        "outbox_ready",
        "queue_size",
        "rewinds",
        "sequencer",
        "subscribe_errors",
    )

    def __init__(self, sequencer: Sequencer, *, queue_size: int) -> None:
        self.sequencer = sequencer
        self.queue_size = queue_size
        self.channels: dict[str, PlanChannel] = {}
        self.outbox: list[str] = []  # encoded frames for the connection to send
        self.outbox_ready = Flag()
        self.channels_changed = Flag()
        self.online = False  # a WebSocket carries the stream: frames may be queued
        self._request_ids = count(1)
        self.subscribe_errors = 0
        self.rewinds = 0  # slow subscribers re-subscribed from their position
        self.error_warnings = WarningThrottle(logger)  # server errors tied to no plan
        #: Set when a subscriber has more than a few items queued: the reader then
        #: yields to the event loop so consumers catch up. Short queues keep few
        #: objects alive, which keeps the garbage collector's passes cheap.
        self.backlogged = False

    # --- subscribers ---------------------------------------------------------------

    def attach(self, plan_id: str, *, last_event_id: str | None, follow: bool) -> SubscriptionInbox:
        """A new local subscriber of ``plan_id`` resuming after ``last_event_id``."""
        inbox = SubscriptionInbox(
            plan_id, last_event_id=last_event_id, follow=follow, capacity=self.queue_size
        )
        channel = self.channels.get(plan_id)
        if channel is None:
            channel = self.channels[plan_id] = PlanChannel(plan_id)
            channel.inboxes.append(inbox)
            self._resubscribe(channel, (last_event_id, inbox.taken_seq))
            self.channels_changed.set()
        else:
            channel.inboxes.append(inbox)
            self.rewind(inbox)
        return inbox

    def detach(self, inbox: SubscriptionInbox) -> None:
        """The subscriber left; the last one to leave unsubscribes the plan."""
        channel = self.channels.get(inbox.plan_id)
        if channel is None or inbox not in channel.inboxes:
            return
        channel.inboxes.remove(inbox)
        if channel.inboxes:
            return
        del self.channels[channel.plan_id]
        self.sequencer.untrack(channel.plan_id)
        self.channels_changed.set()
        if self.online:
            self.send(UnsubscribeFrame(id=next(self._request_ids), plan_id=channel.plan_id))

    def rewind(self, inbox: SubscriptionInbox) -> None:
        """Make the channel replay from ``inbox``'s position (a slow or late subscriber).

        When the order of positions cannot be told yet (ids whose seq is not
        known), the rewind waits: ``inbox`` stays overflowed and is woken to
        retry when the pending answer or the plan's next delivery tells.
        """
        channel = self.channels.get(inbox.plan_id)
        if channel is None:
            return
        wanted: Position = (inbox.taken_event_id, inbox.taken_seq)
        if channel.pending_from is not None:
            earlier = precedes_or_equals(wanted, channel.pending_from)
            if earlier is None:
                inbox.hold_for_rewind()  # retried when the pending answer arrives
                return
            self._rewound(inbox)
            if earlier and wanted != channel.pending_from:
                self._resubscribe(channel, wanted)
            return
        last_seq, last_event_id = self.sequencer.position(channel.plan_id)
        if precedes_or_equals((last_event_id, last_seq), wanted) is True:
            self._rewound(inbox)
            return
        if not self._pin_positions(channel, inbox):
            # Another subscriber stands at an id whose seq is not known yet: a
            # replay now could hand it events from before that id again.
            channel.rewind_waiting = True
            inbox.hold_for_rewind()  # retried with the plan's next delivery
            return
        self._rewound(inbox)
        self._resubscribe(channel, wanted)

    def _rewound(self, inbox: SubscriptionInbox) -> None:
        if inbox.overflowed and not inbox.late:
            self.rewinds += 1  # a slow subscriber, not one that joined late
        inbox.rewound()

    def _pin_positions(self, channel: PlanChannel, rewinding: SubscriptionInbox) -> bool:
        """Give each subscriber of ``channel`` that stands at an id of unknown seq
        the seq the sequencer knows for it, so that a replay skips what it had.
        False if one stays unknown (``rewinding`` and waiting ones take the replay)."""
        known = True
        for inbox in channel.inboxes:
            if inbox is rewinding or inbox.overflowed or inbox.accepted_seq is not None:
                continue
            event_id = inbox.taken_event_id
            seq = None if event_id is None else self.sequencer.seq_of(channel.plan_id, event_id)
            if seq is None:
                known = False
            else:
                inbox.accepted_seq = seq
        return known

    def _wake_waiting(self, channel: PlanChannel) -> None:
        """Wake the subscribers waiting to be rewound: they retry now."""
        channel.rewind_waiting = False
        for inbox in channel.inboxes:
            if inbox.overflowed:
                inbox.wake()

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
            if channel.pending_from is None:
                last_seq, last_event_id = self.sequencer.position(channel.plan_id)
                self._resubscribe(channel, (last_event_id, last_seq))
            else:
                self._resubscribe(channel, channel.pending_from)

    def go_offline(self) -> None:
        """The WebSocket is gone; frames wait for the next one."""
        self.online = False
        self.outbox.clear()

    # --- what the server sends -----------------------------------------------------

    def on_frame(self, frame: ServerFrame, now: float | None = None) -> None:
        """Feed one decoded frame (``hello`` and ``pong`` are the connection's).

        ``now``: the monotonic time; read from the clock when needed if None
        (the hot path, the next event of its plan, never needs it).
        """
        sequencer = self.sequencer
        if isinstance(frame, EventBase):
            if sequencer.take_next(frame):  # the hot path: the next event of its plan
                channel = self.channels.get(frame.plan_id)
                if channel is not None:
                    for inbox in channel.inboxes:
                        inbox.push_event(frame)
                        if len(inbox.items) > _BACKLOG:
                            self.backlogged = True
                    if channel.rewind_waiting:
                        self._wake_waiting(channel)
                return
            output = sequencer.on_event(frame, clock() if now is None else now)
        elif isinstance(frame, BatchFrame):
            output = sequencer.on_batch(frame.events, clock() if now is None else now)
        elif isinstance(frame, SubscribedFrame | ResyncFrame):
            output = self._on_answer(frame, clock() if now is None else now)
        elif isinstance(frame, HeartbeatFrame):
            output = sequencer.on_heartbeat(frame, clock() if now is None else now)
        elif isinstance(frame, ErrorFrame):
            self._on_error(frame)
            return
        else:
            return  # unsubscribed, and frames the connection consumes
        self.apply(output)

    def tick(self, now: float) -> None:
        """Let the sequencer act on gaps and unanswered repairs past their deadline."""
        self.apply(self.sequencer.tick(now))

    def apply(self, output: SequencerOutput) -> None:
        """Deliver to the subscribers and perform the repair actions."""
        deliveries, actions, plan_id = output
        if deliveries:
            channels = self.channels
            if plan_id is not None:  # one plan's batch: queue it at once
                channel = channels.get(plan_id)
                if channel is not None:
                    for inbox in channel.inboxes:
                        inbox.push_many(deliveries)
                        if len(inbox.items) > _BACKLOG:
                            self.backlogged = True
                    if channel.rewind_waiting:
                        self._wake_waiting(channel)
            else:
                for item in deliveries:
                    channel = channels.get(item.plan_id)
                    if channel is not None:
                        for inbox in channel.inboxes:
                            inbox.push(item)
                        if channel.rewind_waiting:
                            self._wake_waiting(channel)
        for action in actions:
            self._repair(action)

    def poll_position(self, plan_id: str) -> tuple[int, str | None] | None:
        """``(generation, after)`` for the next poll of ``plan_id``; None if unsubscribed."""
        channel = self.channels.get(plan_id)
        if channel is None:
            return None
        if channel.pending_from is not None:
            return channel.generation, channel.pending_from[0]
        return channel.generation, self.sequencer.position(plan_id)[1]

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
        self.apply(SequencerOutput(output.deliveries, given_up, output.plan_id))

    def on_invalid_event(self, plan_id: str, seq: int, reason: str, now: float) -> None:
        """An event of ``plan_id`` at ``seq`` arrived that the client cannot read."""
        self.sequencer.on_invalid_event(plan_id, seq, reason, now)

    # --- internals -----------------------------------------------------------------

    def _resubscribe(self, channel: PlanChannel, position: Position) -> None:
        self.sequencer.untrack(channel.plan_id)
        channel.pending_from = position
        channel.generation += 1
        request_id = next(self._request_ids)
        channel.pending_id = request_id
        if self.online:
            self.send(
                SubscribeFrame(id=request_id, plan_id=channel.plan_id, last_event_id=position[0])
            )

    def _track(self, channel: PlanChannel) -> None:
        assert channel.pending_from is not None
        last_event_id, last_seq = channel.pending_from
        self.sequencer.track(channel.plan_id, last_event_id=last_event_id, last_seq=last_seq)
        channel.pending_from = None
        channel.pending_id = None
        self._wake_waiting(channel)

    def _on_answer(self, frame: SubscribedFrame | ResyncFrame, now: float) -> SequencerOutput:
        channel = self.channels.get(frame.plan_id)
        if channel is None:
            return SequencerOutput()
        if channel.pending_from is not None:
            if frame.id != channel.pending_id:
                return SequencerOutput()  # the answer to a superseded request
            self._track(channel)
        return self.sequencer.feed(frame, now)

    def _on_error(self, frame: ErrorFrame) -> None:
        channel = self.channels.get(frame.plan_id) if frame.plan_id is not None else None
        if channel is None and frame.id is not None:
            channel = next((ch for ch in self.channels.values() if ch.pending_id == frame.id), None)
        message = frame_excerpt(frame.message)
        if channel is None:  # a flood of these gives a few counted lines
            self.error_warnings.warning(clock(), "server error %s: %s", frame.code, message)
            return
        self.subscribe_errors += 1
        logger.warning(
            "subscription to plan %r failed (%s): %s", channel.plan_id, frame.code, message
        )
        self._fail(channel, SubscriptionError(channel.plan_id, frame.code, frame.message))

    def _fail(self, channel: PlanChannel, error: SubscriptionError) -> None:
        """End ``channel``'s subscriptions with ``error``; the other plans carry on."""
        for inbox in list(channel.inboxes):
            inbox.end(error)
        del self.channels[channel.plan_id]
        self.sequencer.untrack(channel.plan_id)
        self.channels_changed.set()

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
        self.subscribe_errors += 1
        self._fail(channel, error)
        if self.online:  # stop the broken stream; the server may keep it otherwise
            self.send(UnsubscribeFrame(id=next(self._request_ids), plan_id=channel.plan_id))

    def send(self, frame: SubscribeFrame | UnsubscribeFrame | PingFrame) -> None:
        """Queue ``frame`` for the connection (sent by its housekeeping task)."""
        self.outbox.append(encode_frame(frame))
        self.outbox_ready.set()

    def take_outbox(self) -> list[str]:
        """The queued frames, oldest first; the queue is left empty."""
        frames, self.outbox = self.outbox, []
        return frames
