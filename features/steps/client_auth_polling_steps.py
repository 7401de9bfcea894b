"""Steps of the client's connection life: tokens, the connection state, fatal
stops, the polling fallback and closing (client_auth_polling.feature, and the
state and closing steps of client_api.feature).

Every step text contains "api". Connecting a client and what its consumers
received are steps of client_api_steps.py; the scenario's state on
``context`` is described in :mod:`support.client_api_scenario`.
``context.upgrade_proxy`` is the :class:`~support.client_api_servers.UpgradeGateProxy`
and ``context.api_provider_calls`` counts the token provider's calls.
"""

from __future__ import annotations

import asyncio
import gc
import json
import time
from typing import Any

from behave import given, then, when
from support.client_api_checks import secret_bearing_texts
from support.client_api_scenario import connect_and_subscribe, consumers, host
from support.client_api_servers import UpgradeGateProxy
from support.client_api_support import WAIT, until
from support.scripted_servers import ScriptedStreamServer
from support.servers import on_cleanup, run

from planstream.errors import ClientClosedError

_POLLING = {"fallback_after": 2, "websocket_retry_interval": 0.5, "wait": 1.0}


# --- servers -----------------------------------------------------------------------


@given('an api scripted stream server whose hello has "{field:ApiText}" {value}')
def step_scripted_hello(context: Any, field: str, value: str) -> None:
    server = ScriptedStreamServer(hello={field: json.loads(value)})
    run(context, server.start())
    on_cleanup(context, server.stop)
    context.api_scripted = server


@given("a proxy in front of the reference server that answers WebSocket upgrades with 502")
def step_proxy(context: Any) -> None:
    proxy = UpgradeGateProxy(context.server.port, refuse_upgrades=True)
    run(context, proxy.start())
    on_cleanup(context, proxy.stop)
    context.upgrade_proxy = proxy


@when("the proxy starts passing WebSocket upgrades")
def step_proxy_passes(context: Any) -> None:
    context.upgrade_proxy.refuse_upgrades = False


# --- connecting ----------------------------------------------------------------------


@when(
    'an api client with the token "{token:ApiText}" connects {target:ApiTarget} '
    'and subscribes to plan "{plan_id:ApiText}"'
)
def step_connect_token(context: Any, token: str, target: str, plan_id: str) -> None:
    connect_and_subscribe(context, target, [plan_id], token=token)


def _provider(context: Any, tokens: list[str]) -> Any:
    context.api_provider_calls = 0

    async def provide() -> str:
        calls: int = context.api_provider_calls
        context.api_provider_calls = calls + 1
        return tokens[min(calls, len(tokens) - 1)]

    return provide


@when(
    'an api client whose token provider returns "{first:ApiText}" then "{second:ApiText}" '
    'connects {target:ApiTarget} and subscribes to plan "{plan_id:ApiText}"'
)
def step_connect_provider(context: Any, first: str, second: str, target: str, plan_id: str) -> None:
    provider = _provider(context, [first, second])
    connect_and_subscribe(context, target, [plan_id], token_provider=provider)


@when(
    'an api client whose token provider always returns "{token:ApiText}" '
    'connects {target:ApiTarget} and subscribes to plan "{plan_id:ApiText}"'
)
def step_connect_provider_wrong(context: Any, token: str, target: str, plan_id: str) -> None:
    provider = _provider(context, [token])
    connect_and_subscribe(context, target, [plan_id], token_provider=provider)


@when(
    'an api client in transport "{transport:ApiText}" connects {target:ApiTarget} '
    'and subscribes to plan "{plan_id:ApiText}"'
)
def step_connect_transport(context: Any, transport: str, target: str, plan_id: str) -> None:
    settings = {"transport": transport, "polling": _POLLING}
    connect_and_subscribe(context, target, [plan_id], settings=settings)


# --- the connection's state -------------------------------------------------------


@then('the api client state is "{state:ApiText}"')
def step_state_is(context: Any, state: str) -> None:
    assert host(context).client.state.value == state, host(context).client.state


@then('the api client state becomes "{state:ApiText}"')
def step_state_becomes(context: Any, state: str) -> None:
    client = host(context).client
    run(context, until(lambda: client.state.value == state, f"state {state}"))


@then('the api state hook saw the states "{states:ApiText}"')
def step_hook_states(context: Any, states: str) -> None:
    seen = [state.value for state in host(context).states()]
    assert seen == [s.strip() for s in states.split(",")], seen


# --- fatal stops -------------------------------------------------------------------


def _assert_stopped(context: Any, error: str, plan_id: str, within: float | None) -> None:
    client = host(context).client
    failure = context.api_wait_error
    assert type(failure).__name__ == error, f"wait_open() raised {failure!r}"
    consumer = consumers(context)[plan_id]
    run(context, consumer.wait_done())
    assert type(consumer.ending).__name__ == error, f"the subscription ended {consumer.ending!r}"
    assert type(client.error).__name__ == error, repr(client.error)
    assert consumer.ending is client.error, (consumer.ending, client.error)
    if within is not None:
        assert consumer.ended_at is not None
        waited = context.api_wait_error_at - context.api_started_at
        iterated = consumer.ended_at - context.api_started_at
        assert waited < within, f"wait_open() raised after {waited:.3f} s"
        assert iterated < within, f"the subscription raised after {iterated:.3f} s"


@then(
    'the api client stopped with "{error:ApiText}" within {seconds:g} second, '
    'from wait_open and from the subscription to plan "{plan_id:ApiText}"'
)
def step_stopped_within(context: Any, error: str, seconds: float, plan_id: str) -> None:
    _assert_stopped(context, error, plan_id, seconds)


@then(
    'the api client stopped with "{error:ApiText}", '
    'from wait_open and from the subscription to plan "{plan_id:ApiText}"'
)
def step_stopped(context: Any, error: str, plan_id: str) -> None:
    _assert_stopped(context, error, plan_id, None)


@then("the api client never scheduled a retry")
def step_no_retry(context: Any) -> None:
    changes = host(context).changes
    retries = [change for change in changes if change.retry_in is not None]
    assert not retries, retries
    assert [c.state.value for c in changes if c.state is not c.previous] == ["connecting", "closed"]


@then(
    "the api scripted server saw exactly {count:d} connection, "
    "closed by the client with code {code:d}"
)
def step_scripted_connections(context: Any, count: int, code: int) -> None:
    connections = context.api_scripted.connections
    assert len(connections) == count, connections

    async def closed() -> None:
        for connection in connections:
            await asyncio.wait_for(connection.closed.wait(), WAIT)

    run(context, closed())
    assert [c.close_code for c in connections] == [code] * count, connections


@then("the reference server refused {refused:d} upgrade and accepted {accepted:d} connections")
@then("the reference server refused {refused:d} upgrades and accepted {accepted:d} connections")
@then("the reference server refused {refused:d} upgrade and accepted {accepted:d} connection")
def step_server_refused(context: Any, refused: int, accepted: int) -> None:
    metrics = context.server.state.metrics
    assert (metrics.auth_failures, metrics.connections_total) == (refused, accepted), metrics


@then("the api token provider was called {count:d} times")
def step_provider_calls(context: Any, count: int) -> None:
    assert context.api_provider_calls == count, context.api_provider_calls


@then(
    'the api texts "{first:ApiText}" and "{second:ApiText}" appear in no error, repr or log record'
)
@then('the api text "{first:ApiText}" appears in no error, repr or log record')
def step_no_secret(context: Any, first: str, second: str | None = None) -> None:
    texts = secret_bearing_texts(context)
    assert any(texts), "nothing was gathered"
    for secret in filter(None, (first, second)):
        leaks = [text for text in texts if secret in text]
        assert not leaks, leaks


# --- polling -----------------------------------------------------------------------


@then("the api client answered polls while the proxy refused at least {count:d} upgrades")
def step_polled_behind_proxy(context: Any, count: int) -> None:
    stats = host(context).client.stats
    assert stats.state.value == "polling", stats
    assert stats.polls > 0, stats
    assert stats.connects == 0, stats
    assert context.upgrade_proxy.upgrades_refused >= count, context.upgrade_proxy.upgrades_refused


@then("the proxy passed at least {count:d} WebSocket upgrade")
def step_proxy_passed(context: Any, count: int) -> None:
    assert context.upgrade_proxy.upgrades_passed >= count, context.upgrade_proxy.upgrades_passed
    assert host(context).client.stats.connects >= count, host(context).client.stats


@then("the api client answered polls and opened no WebSocket")
def step_polled_only(context: Any) -> None:
    stats = host(context).client.stats
    assert stats.polls > 0, stats
    assert stats.connects == 0, stats
    assert context.server.state.metrics.connections_total == 0, context.server.state.metrics


# --- closing -----------------------------------------------------------------------


@when("the api client leaves its async with block")
def step_leave(context: Any) -> None:
    run(context, host(context).leave())


@when(
    'the api client leaves its async with block while the consumer of plan "{name:ApiText}" waits'
)
def step_leave_while_waiting(context: Any, name: str) -> None:
    consumer = consumers(context)[name]

    async def leave() -> None:
        await until(consumer.waiting.is_set, f"consumer {name!r} to wait for an item")
        await host(context).leave()

    run(context, leave())


@then("no task the api client started is still pending")
def step_no_tasks(context: Any) -> None:
    own = {consumer.task for consumer in host(context).consumers}

    def pending() -> set[asyncio.Task[Any]]:
        tasks = asyncio.all_tasks(context.loop) - context.api_tasks_before - own
        return {task for task in tasks if not task.done()}

    # The scripted server finishes its side of the close just after the client.
    deadline = time.monotonic() + 5.0
    while pending() and time.monotonic() < deadline:
        run(context, asyncio.sleep(0.02))
    left = pending()
    assert not left, [f"{task.get_name()} {task.get_coro()!r}" for task in left]


@then("no api log record or warning mentions a destroyed pending task or an unawaited coroutine")
def step_no_task_warnings(context: Any) -> None:
    gc.collect()
    texts = context.api_logs.texts()
    bad = [t for t in texts if "destroyed but it is pending" in t or "never awaited" in t]
    assert not bad, bad


@then('subscribing to plan "{plan_id:ApiText}" with the closed api client raises ClientClosedError')
def step_subscribe_closed(context: Any, plan_id: str) -> None:
    client = host(context).client
    try:
        client.subscribe(plan_id)
    except ClientClosedError:
        return
    raise AssertionError("subscribe() on a closed client did not raise")
