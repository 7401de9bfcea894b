"""Steps of server_redis_nodes.feature: server node *processes* sharing one ``redis-server``.

The nodes are ``python -m planstream.server`` subprocesses (so one can die of
SIGKILL) put in ``context.redis_nodes`` like server_redis.feature's embedded
ones, so its publish steps serve both. Subscribers are real multi-URL clients
(:func:`start_client`, one per subscriber, its own node's URL first).
"""

from __future__ import annotations

import asyncio
import signal
from typing import Any

import httpx
from behave import given, then, when
from support.client_resilience_scenario import client_settings, start_client
from support.client_resilience_support import ItemCollector, wait_until
from support.redis_servers import RedisProcess
from support.servers import ServerProcess, on_cleanup, run, start_processes

_LOG = {"level": "info", "stream": "stdout", "message": "m"}


@given('server node processes "{names}" sharing it')
def step_node_processes(context: Any, names: str) -> None:
    env = {"PLANSTREAM_SERVER_REDIS_URL": context.redis_url, "PLANSTREAM_SERVER_PLAN_TTL": "60"}
    nodes = names.split(",")
    context.redis_nodes = dict(zip(nodes, start_processes(context, len(nodes), env), strict=True))
    context.redis_http = {}  # server_redis_steps._post keeps one client per node here

    async def close_http() -> None:
        for http in context.redis_http.values():
            await http.aclose()

    on_cleanup(context, close_http)


@when(
    'subscribers "{first}" on node "{node1}" and "{second}" on node "{node2}" follow plan'
    ' "{plan_id}" with every node\'s URL'
)
def step_subscribers(
    context: Any, first: str, node1: str, second: str, node2: str, plan_id: str
) -> None:
    context.nodes_collectors = {}
    context.nodes_clients = {}
    order = list(context.redis_nodes)
    for names, node in ((first, node1), (second, node2)):
        at = order.index(node)  # its own node first, then the next ones: B -> B, C, A
        urls = [context.redis_nodes[name].url for name in order[at:] + order[:at]]
        for who in names.split(","):
            settings = client_settings("ws://unused:1", None)
            settings["urls"] = urls
            client = start_client(context, settings)
            context.nodes_clients[who] = (node, client)

            async def subscribe(client: Any = client) -> ItemCollector:
                collector: ItemCollector = client.collect(plan_id)
                return collector

            context.nodes_collectors[who] = run(context, subscribe())
    run(context, asyncio.sleep(0.3))  # every subscription is open before anything is published


async def _publish_one(context: Any, node: str, plan_id: str) -> None:
    url = context.redis_nodes[node].http_url
    http = context.redis_http.setdefault(url, httpx.AsyncClient(base_url=url))
    answer = await http.post(f"/v1/plans/{plan_id}/events", json={"kind": "log", "data": _LOG})
    assert answer.status_code == 201, answer.text


@when(
    '{count:d} log events of plan "{plan_id}" are published through node "{node}",'
    ' node "{victim}" killed with SIGKILL after {before:d} of them'
)
def step_publish_and_kill(
    context: Any, count: int, plan_id: str, node: str, victim: str, before: int
) -> None:
    async def publish_and_kill() -> None:
        for _ in range(before):
            await _publish_one(context, node, plan_id)
        on_victim = [
            context.nodes_collectors[who]
            for who, (at, _) in context.nodes_clients.items()
            if at == victim
        ]
        for collector in on_victim:  # mid-stream: they hold events from the victim
            await collector.wait_for_items(before)
        context.redis_nodes[victim].terminate(signal.SIGKILL)
        for _ in range(count - before):
            await _publish_one(context, node, plan_id)
            await asyncio.sleep(0.005)  # a stream in flight, not one burst

    run(context, publish_and_kill())


@when(
    '{count:d} keyed log events of plan "{plan_id}" are published through nodes "{names}",'
    " retried until 201, Redis down for {seconds:g} s after {before:d} of them"
)
def step_publish_redis_down(
    context: Any, count: int, plan_id: str, names: str, seconds: float, before: int
) -> None:
    nodes = names.split(",")
    redis: RedisProcess = context.redis
    context.nodes_refused = 0
    context.nodes_answers = []
    acknowledged = asyncio.Event()

    async def publish_keyed(number: int) -> None:
        """Protocol §6: the same Idempotency-Key on every retry, through any node."""
        body = {"kind": "log", "data": _LOG}
        headers = {"Idempotency-Key": f"{plan_id}-{number}"}
        attempt = 0
        while True:
            url = context.redis_nodes[nodes[attempt % len(nodes)]].http_url
            http = context.redis_http.setdefault(url, httpx.AsyncClient(base_url=url))
            try:
                answer = await http.post(f"/v1/plans/{plan_id}/events", json=body, headers=headers)
            except httpx.TransportError:
                answer = None
            if answer is not None and answer.status_code == 201:
                context.nodes_answers.append(answer.json()["events"][0]["seq"])
                return
            assert answer is None or answer.status_code == 503, answer.text
            context.nodes_refused += 1
            attempt += 1
            await asyncio.sleep(0.1)  # a publisher's retry delay

    async def publisher() -> None:
        for number in range(1, count + 1):
            await publish_keyed(number)
            if number == before:
                acknowledged.set()
            await asyncio.sleep(0.01)

    async def outage() -> None:
        await acknowledged.wait()
        await asyncio.to_thread(redis.stop)
        await asyncio.sleep(seconds)
        await asyncio.to_thread(redis.wait_port_free)
        await asyncio.to_thread(redis.start)

    async def both() -> None:
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(publisher())
            tasks.create_task(outage())

    run(context, both(), timeout=60)


@then("some publishes were refused while Redis was down, each was appended once")
def step_refused(context: Any) -> None:
    print(f"publishes refused while Redis was down: {context.nodes_refused}")
    assert context.nodes_refused > 0, "Redis was never down while publishing"
    seqs = context.nodes_answers
    assert seqs == list(range(1, len(seqs) + 1)), seqs


@then(
    "every subscriber got seqs {first:d} to {last:d} exactly once, in order, no Resync:"
    " {lost:d} lost, {duplicated:d} duplicated"
)
def step_every_subscriber(context: Any, first: int, last: int, lost: int, duplicated: int) -> None:
    expected = list(range(first, last + 1))
    counted = {"lost": 0, "duplicated": 0}
    for who, collector in context.nodes_collectors.items():
        run(context, collector.finished.wait(), timeout=20)
        assert collector.error is None, (who, collector)
        assert not collector.resyncs, (who, collector)
        seqs = [event.seq for event in collector.events]
        counted["lost"] += len(set(expected) - set(seqs))
        counted["duplicated"] += len(seqs) - len(set(seqs))
    subscribers = len(context.nodes_collectors)
    print(
        f"{subscribers} subscribers x {len(expected)} events: "
        f"{counted['lost']} lost, {counted['duplicated']} duplicated"
    )
    assert counted == {"lost": lost, "duplicated": duplicated}, counted
    for who, collector in context.nodes_collectors.items():
        assert [event.seq for event in collector.events] == expected, (who, collector)


@then('node "{victim}" died of SIGKILL and its subscribers are now on node "{node}"')
def step_died(context: Any, victim: str, node: str) -> None:
    server: ServerProcess = context.redis_nodes[victim]
    assert server.process.returncode == -signal.SIGKILL, server.process.returncode
    url = context.redis_nodes[node].url
    for who, (at, client) in context.nodes_clients.items():
        if at != victim:
            continue

        async def moved(client: Any = client, who: str = who) -> None:
            await wait_until(
                lambda: client.client._engine is not None and client.client._engine.up.is_set(),
                lambda: f"{who} is connected again",
            )

        run(context, moved())
        assert client.client._engine.url == url, (who, client.client._engine.url)
