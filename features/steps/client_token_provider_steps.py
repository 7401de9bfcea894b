"""Steps of client_token_provider.feature: a failing token provider, on real sockets.

They extend the edge steps (client_edge_steps.py): the same ``context.edge_*``
names, the same embedded reference server, token provider and log capture.
"""

from __future__ import annotations

from typing import Any

from behave import given, then
from support.client_api_support import LogCapture
from support.servers import on_cleanup, run

from planstream import PlanStreamClient
from planstream.settings import ClientSettings


@given(
    'an edge client in transport "{transport}" aimed at the reference server, '
    "giving up after {attempts:d} attempts"
)
def step_client_giving_up(context: Any, transport: str, attempts: int) -> None:
    settings = ClientSettings(
        url=context.server.url,
        transport=transport,
        reconnect={"initial_delay": 0.01, "max_delay": 0.02, "max_attempts": attempts},
        polling={"wait": 0.2, "request_timeout": 2.0},
    )
    client = PlanStreamClient(token_provider=context.edge_provider, settings=settings)
    logs = LogCapture()
    logs.install()

    async def remove_logs() -> None:
        logs.remove()

    on_cleanup(context, remove_logs)
    context.edge_logs, context.edge_client, context.edge_changes = logs, client, []
    run(context, client.__aenter__())
    on_cleanup(context, client.aclose)


@then('the edge client\'s error is caused by an {error:w} saying "{text}"')
def step_error_cause(context: Any, error: str, text: str) -> None:
    cause = context.edge_client.error.__cause__
    assert type(cause).__name__ == error, repr(cause)
    assert str(cause) == text, str(cause)
    assert context.edge_client.error.last_error is cause


@then('the edge log has {count:d} WARNING records "{text}" and then "{summary}"')
def step_log_throttled(context: Any, count: int, text: str, summary: str) -> None:
    messages = [
        r.getMessage()
        for r in context.edge_logs.records
        if r.levelname == "WARNING" and r.name == "planstream.client"
    ]
    lines = [m for m in messages if m in (text, summary)]
    assert lines == [text] * count + [summary], messages
