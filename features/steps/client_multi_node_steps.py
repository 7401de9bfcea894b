"""Steps of client_multi_node.feature: URL lists in the settings and the CLI, live failover
between embedded nodes sharing one log (the pure machine: client_multi_node_machine_steps.py)."""

from __future__ import annotations

import asyncio
import json
import math
import ssl
from typing import Any

from behave import given, then, when
from support.cli_support import run_cli
from support.client_resilience_scenario import (
    bound_closed_port,
    check_no_task_leaks,
    client_settings,
    start_client,
)
from support.client_resilience_support import (
    ItemCollector,
    ResilientClient,
    check_stream,
    parse_expected_stream,
    wait_until,
)
from support.env_vars import environment
from support.servers import RestartableServer, on_cleanup, run

from planstream import ClientSettings, PlanStreamClient
from planstream.cli.endpoints import client_settings as cli_settings
from planstream.cli.failures import CommandError
from planstream.errors import SettingsError
from planstream.settings import DEFAULT_URL


def _environment(**values: str) -> Any:
    """Only ``values`` among the URL variables, for the block."""
    return environment(values, cleared=("PLANSTREAM_URL", "PLANSTREAM_URLS"))


# --- settings ----------------------------------------------------------------------------


def _settings_of(source: str) -> ClientSettings:
    kind, _, rest = source.partition(" ")
    if kind == "env":
        with _environment(PLANSTREAM_URLS="" if rest == "(empty)" else rest):
            return ClientSettings()
    with _environment():
        if kind == "url" and " and urls " in rest:
            url, _, urls = rest.partition(" and urls ")
            return ClientSettings(url=url, urls=urls.split())
        if kind == "url":
            return ClientSettings(url=rest)
        assert kind == "urls", source
        return ClientSettings(urls=rest.split())


@then("multi-node client settings give these endpoints:")
def then_endpoints(context: Any) -> None:
    for row in context.table:
        settings = _settings_of(row["source"])
        assert settings.endpoints == tuple(row["endpoints"].split()), (row, settings.endpoints)


@then("a multi-node client's TLS context is used for its wss:// URLs only")
def then_tls_per_url(context: Any) -> None:
    tls = ssl.create_default_context()
    settings = ClientSettings(urls=["ws://a:1", "wss://b:2"], ssl={"context": tls})
    assert settings.ssl_context("ws://a:1/v1/stream") is None
    assert settings.ssl_context("wss://b:2/v1/stream") is tls
    assert settings.ssl_context() is None  # the first endpoint is ws://


@then("multi-node URL lists are refused like this:")
def then_lists_refused(context: Any) -> None:
    for row in context.table:
        value = row["urls"]
        if value == "65 URLs":
            value = ",".join(f"ws://n{number}:1" for number in range(65))
        with _environment(PLANSTREAM_URLS=value):
            try:
                ClientSettings()
            except SettingsError as exc:
                text = str(exc)
            else:
                raise AssertionError(f"{value!r} was accepted")
        assert "PLANSTREAM_URLS" in text, text
        assert row["message"] in text, (row["message"], text)
        assert "S3cr3t" not in text, text


@then('a multi-node client built with {how} "{value}" uses the endpoints "{endpoints}"')
def then_client_endpoints(context: Any, how: str, value: str, endpoints: str) -> None:
    if how == "url":
        client = PlanStreamClient(value)
    elif how == "urls":
        client = PlanStreamClient(urls=value.split())
    else:
        client = PlanStreamClient()
    assert client.settings.endpoints == tuple(endpoints.split()), client.settings.endpoints
    assert ("urls=" if len(client.settings.endpoints) > 1 else "url=") in repr(client)


@then('a multi-node client built with nothing uses the endpoints "{endpoints}"')
def then_client_env_endpoints(context: Any, endpoints: str) -> None:
    then_client_endpoints(context, "nothing", "", endpoints)


# --- live nodes sharing one log ----------------------------------------------------------


@given("{count:d} reference servers sharing one memory log")
def given_nodes(context: Any, count: int) -> None:
    check_no_task_leaks(context)
    nodes = [RestartableServer() for _ in range(count)]
    for node in nodes[1:]:
        node.log = nodes[0].log  # one MemoryEventLog object behind every node
    for node in nodes:
        run(context, node.start())
        on_cleanup(context, node.stop)
    context.mn_nodes = nodes
    context.mn_published = 0


def _node(context: Any, number: int) -> RestartableServer:
    node: RestartableServer = context.mn_nodes[number - 1]
    return node


def _urls(context: Any, names: str) -> list[str]:
    urls = []
    for name in (part.strip() for part in names.split(",")):
        if name == "refused":
            urls.append(f"ws://127.0.0.1:{bound_closed_port(context)}/v1/stream")
        else:
            urls.append(_node(context, int(name.removeprefix("node "))).url)
    return urls


def _start_client(context: Any, names: str, reconnect: dict[str, Any] | None = None) -> None:
    settings = client_settings("ws://unused:1", None)
    settings["urls"] = _urls(context, names)
    if reconnect is not None:
        settings["reconnect"] = reconnect
    context.mn_client = start_client(context, settings)
    context.mn_collectors = {}


@given('a multi-node client with the URLs "{names}"')
def given_client(context: Any, names: str) -> None:
    _start_client(context, names)


@given('a multi-node client with the URLs "{names}" and a backoff of {delay:g} s without jitter')
def given_client_backoff(context: Any, names: str, delay: float) -> None:
    reconnect = {"initial_delay": delay, "max_delay": delay, "factor": 1, "jitter": "none"}
    _start_client(context, names, reconnect)


def _client(context: Any) -> ResilientClient:
    client: ResilientClient = context.mn_client
    return client


def _collector(context: Any, plan_id: str) -> ItemCollector:
    collector: ItemCollector = context.mn_collectors[plan_id]
    return collector


@when('the multi-node client subscribes to plan "{plan_id}" from the start')
def when_subscribe(context: Any, plan_id: str) -> None:
    async def subscribe() -> None:
        context.mn_collectors[plan_id] = _client(context).collect(plan_id)

    run(context, subscribe())


async def _publish(context: Any, node: RestartableServer, plan_id: str, count: int) -> None:
    for _ in range(count):
        context.mn_published += 1
        await node.publish(plan_id, "log", _log(context.mn_published))


def _log(number: int) -> dict[str, Any]:
    return {"level": "info", "message": f"line {number}", "step_id": None, "stream": "stdout"}


@given('{count:d} multi-node events are published to plan "{plan_id}" through node {number:d}')
@when('{count:d} multi-node events are published to plan "{plan_id}" through node {number:d}')
def when_publish(context: Any, count: int, plan_id: str, number: int) -> None:
    run(context, _publish(context, _node(context, number), plan_id, count))


@when(
    '{count:d} multi-node events are published to plan "{plan_id}" through node {number:d}'
    " while node {stopping:d} stops"
)
def when_publish_while_stopping(
    context: Any, count: int, plan_id: str, number: int, stopping: int
) -> None:
    async def publish_and_stop() -> None:
        node = _node(context, number)

        async def publisher() -> None:
            for _ in range(count):
                await _publish(context, node, plan_id, 1)
                await asyncio.sleep(0.002)  # a stream in flight, not one burst

        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(publisher())
            await asyncio.sleep(0.02)
            await _node(context, stopping).stop()

    run(context, publish_and_stop())


@when('5 multi-node events are appended to the shared log of plan "{plan_id}"')
def when_append_to_log(context: Any, plan_id: str) -> None:
    stopped = context.mn_nodes[0]
    assert stopped.server is None, "the node must be down: the event goes to the log itself"
    run(context, _publish(context, stopped, plan_id, 5))


@given('a "{status}" status is published to plan "{plan_id}" through node {number:d}')
@when('a "{status}" status is published to plan "{plan_id}" through node {number:d}')
def when_publish_status(context: Any, status: str, plan_id: str, number: int) -> None:
    data = {"status": status, "reason": None}
    run(context, _node(context, number).publish(plan_id, "plan.status", data))


@when('the multi-node client has received {count:d} items of plan "{plan_id}"')
def when_received(context: Any, count: int, plan_id: str) -> None:
    run(context, _collector(context, plan_id).wait_for_items(count))


@when("node {number:d} stops")
def when_node_stops(context: Any, number: int) -> None:
    run(context, _node(context, number).stop())


@when("node {number:d} starts again on its port")
def when_node_restarts(context: Any, number: int) -> None:
    node = _node(context, number)
    port = node.port
    run(context, node.start())
    assert node.port == port, (node.port, port)


@when("the multi-node client has reported {count:d} failures")
def when_failures(context: Any, count: int) -> None:
    client = _client(context)
    run(context, wait_until(lambda: len(client.failures()) >= count, lambda: repr(client.changes)))


@then('the multi-node stream of plan "{plan_id}" ends as "{expected}"')
def then_stream(context: Any, plan_id: str, expected: str) -> None:
    collector = _collector(context, plan_id)
    run(context, collector.wait_finished())
    assert collector.error is None, collector
    check_stream(collector.items, parse_expected_stream(expected))


@then("the multi-node client is connected to node {number:d}")
def then_connected_to(context: Any, number: int) -> None:
    engine = _client(context).client._engine  # which node carries the stream
    assert engine is not None
    assert engine.up.is_set()
    assert engine.url == _node(context, number).url, (engine.url, _node(context, number).url)


@then("the multi-node client's first failure was a {error}")
def then_first_failure(context: Any, error: str) -> None:
    failures = _client(context).failures()
    assert failures, "no failure"
    assert type(failures[0]).__name__ == error, failures


@then('the multi-node client\'s stat "{name}" is {value:d}')
def then_stat(context: Any, name: str, value: int) -> None:
    stats = _client(context).client.stats
    assert getattr(stats, name) == value, stats


@then("the multi-node client's retry delays are all 0")
def then_delays_zero(context: Any) -> None:
    delays = _client(context).retry_delays()
    assert delays, "no retry"
    assert all(delay == 0 for delay in delays), delays


@then("the multi-node client's retry delays alternate between 0 and {delay:g} s")
def then_delays_alternate(context: Any, delay: float) -> None:
    delays = _client(context).retry_delays()
    assert len(delays) >= 4, delays
    for index, value in enumerate(delays):
        wanted = 0.0 if index % 2 == 0 else delay
        assert math.isclose(value, wanted, abs_tol=1e-6), (index, delays)


# --- the CLI -----------------------------------------------------------------------------


@when('planstream watch --json runs for plan "{plan_id}" with a --url for each of "{names}"')
def when_cli_watch(context: Any, plan_id: str, names: str) -> None:
    options = [part for url in _urls(context, names) for part in ("--url", url)]
    context.cli = run_cli(context, "watch", plan_id, "--json", "--connect-timeout", "10", *options)


@then(
    'the multi-node watch printed the events of seqs {first:d} to {last:d} of plan "{plan_id}", each once'
)
def then_cli_events(context: Any, first: int, last: int, plan_id: str) -> None:
    lines = [json.loads(line) for line in context.cli.stdout.splitlines() if line.strip()]
    assert all(line["type"] == "event" for line in lines), context.cli
    assert all(line["plan_id"] == plan_id for line in lines), context.cli
    assert [line["seq"] for line in lines] == list(range(first, last + 1)), context.cli


@then(
    "the CLI's default --url leaves PLANSTREAM_URLS in force, a --url given wins over it,"
    " and no --url at all is refused"
)
def then_cli_url_precedence(context: Any) -> None:
    from_env = cli_settings(DEFAULT_URL, None, None, url_given=False)
    assert from_env.endpoints == ("ws://env-a:1/v1/stream", "ws://env-b:2/v1/stream")
    given_one = cli_settings(("http://one:1",), None, None)
    assert given_one.endpoints == ("ws://one:1/v1/stream",), given_one.endpoints
    given_two = cli_settings(("http://one:1", "wss://two"), None, None)
    assert given_two.endpoints == ("ws://one:1/v1/stream", "wss://two/v1/stream")
    refused = None
    try:
        cli_settings((), None, None)
    except CommandError as exc:
        refused = str(exc)
    assert refused is not None, "an empty --url list was accepted"
    assert "--url" in refused, refused
