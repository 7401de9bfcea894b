"""Steps of router_signals.feature: what the pure router tells the asyncio layer.

The router of client_router_steps.py gets a recording
:class:`~planstream.router.RouterSignals` in place of the client's flags.
"""

from __future__ import annotations

from typing import Any

from behave import given, then


class _RecordedSignals:
    """Notes each signal's name, in order."""

    def __init__(self) -> None:
        self.said: list[str] = []

    def outbox_ready(self) -> None:
        self.said.append("outbox_ready")

    def channels_changed(self) -> None:
        self.said.append("channels_changed")

    def deadline_changed(self) -> None:
        self.said.append("deadline_changed")


@given("the router's signals are recorded")
def step_record_signals(context: Any) -> None:
    context.router_signals = context.router.signals = _RecordedSignals()


@then('the router signalled "{expected}"')
def step_signalled(context: Any, expected: str) -> None:
    recorded: _RecordedSignals = context.router_signals
    said, recorded.said = recorded.said, []
    assert said == ([] if expected == "nothing" else expected.split(", ")), said


@then('the router still subscribes plan "{plan_id}" for router subscriber "{name}"')
def step_still_subscribed(context: Any, plan_id: str, name: str) -> None:
    inbox = context.router_subscribers[name]._inbox
    channel = context.router.channels.get(plan_id)
    assert channel is not None, context.router.channels
    assert inbox in channel.inboxes, channel.inboxes
    assert not inbox.ended, inbox
