"""Steps shared by every server feature: starting servers, publishing events.

``context.server`` is the embedded :class:`PlanStreamServer` (or
``context.server_process`` for a subprocess); ``context.published`` maps each
plan to the events appended to it, in order, as ``(seq, event_id)``.
"""

from __future__ import annotations

import json
from typing import Any

from behave import given, when
from support.server_stream_support import publish_logs
from support.servers import run, start_process, start_reference_server

_INT_SETTINGS = {
    "retention",
    "max_frame_bytes",
    "max_subscriptions",
    "batch_max_events",
    "control_queue_size",
    "bad_frame_limit",
}
_FLOAT_SETTINGS = {
    "heartbeat_s",
    "ws_ping_interval",
    "ws_ping_timeout",
    "poll_interval",
    "max_poll_wait",
    "close_timeout",
}


def _settings_from_table(context: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    for row in context.table or []:
        key, value = row["setting"], row["value"]
        if key in _INT_SETTINGS:
            settings[key] = int(value)
        elif key in _FLOAT_SETTINGS:
            settings[key] = float(value)
        elif key in {"tokens", "publish_tokens"}:
            settings[key] = [token.strip() for token in value.split(",") if token.strip()]
        elif key in {"allow_unknown_kinds", "compression"}:
            settings[key] = value.lower() == "true"
        else:
            settings[key] = value
    return settings


@given("a reference server")
def given_server(context: Any) -> None:
    start_reference_server(context)


@given("a reference server with settings")
def given_server_with_settings(context: Any) -> None:
    start_reference_server(context, **_settings_from_table(context))


@given("a reference server running as a subprocess")
def given_server_process(context: Any) -> None:
    env = {
        f"PLANSTREAM_SERVER_{key.upper()}": (
            json.dumps(value) if isinstance(value, list) else str(value)
        )
        for key, value in _settings_from_table(context).items()
    }
    context.server_process = start_process(context, env)


@when("the reference server stops")
def when_server_stops(context: Any) -> None:
    run(context, context.server.stop())


@given('{count:d} events were published to plan "{plan_id}"')
@when('{count:d} events are published to plan "{plan_id}"')
def when_publish(context: Any, count: int, plan_id: str) -> None:
    publish_logs(context, plan_id, count)
