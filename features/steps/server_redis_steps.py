"""Steps of server_redis.feature: server nodes sharing one real ``redis-server``.

Step texts say "Redis" or "node" so they never collide with other features'.
Context: ``redis`` (a :class:`RedisProcess`), ``redis_nodes`` (name ->
PlanStreamServer), ``redis_subscribers`` (name -> collected items).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from behave import given, then, when
from support.client_resilience_scenario import check_no_task_leaks
from support.redis_nodes import LOG_DATA, post_event
from support.redis_servers import start_cluster, start_redis
from support.servers import on_cleanup, run

from planstream import PlanStreamClient, Resync
from planstream.errors import PlanStreamError
from planstream.server import PlanStreamServer, ServerSettings
from planstream.server.redis_log import RedisEventLog


async def _start_node(context: Any, name: str) -> None:
    settings: dict[str, Any] = {"port": 0, "redis_url": context.redis_url, "plan_ttl": 60.0}
    settings.update(getattr(context, "redis_node_settings", {}))
    server = PlanStreamServer(ServerSettings(**settings))
    await server.start()
    log = server.state.log
    assert isinstance(log, RedisEventLog), log
    await asyncio.wait_for(log.reader.subscribed.wait(), 10)
    assert repr(log.reader) == "NotificationReader(subscribed=True)", log.reader
    context.redis_nodes[name] = server


def _start_nodes(context: Any, names: list[str]) -> None:
    check_no_task_leaks(context)  # registered first, so it runs after the nodes stop
    context.redis_nodes = getattr(context, "redis_nodes", {})
    for name in names:
        run(context, _start_node(context, name))

    async def stop() -> None:
        for server in context.redis_nodes.values():
            await server.stop()

    if not getattr(context, "redis_nodes_cleanup", False):
        context.redis_nodes_cleanup = True
        on_cleanup(context, stop)
        context.redis_http = {}

        async def close_http() -> None:
            for http in context.redis_http.values():
                await http.aclose()

        on_cleanup(context, close_http)


@given("a Redis server")
def step_redis(context: Any) -> None:
    context.redis = start_redis(context)
    context.redis_url = context.redis.url


@given("a Redis server with AOF")
def step_redis_aof(context: Any) -> None:
    context.redis = start_redis(context, appendonly=True)
    context.redis_url = context.redis.url


@given("a three-master Redis Cluster")
def step_redis_cluster(context: Any) -> None:
    nodes = start_cluster(context)
    context.redis_url = nodes[0].node_url
    context.redis_node_settings = {"redis_cluster": True}


@given('server nodes "{names}" sharing it')
def step_nodes(context: Any, names: str) -> None:
    _start_nodes(context, names.split(","))


@when("every node restarts")
def step_restart_nodes(context: Any) -> None:
    names = list(context.redis_nodes)
    for name in names:
        run(context, context.redis_nodes.pop(name).stop())
    _start_nodes(context, names)


@when('a subscriber "{who}" on node "{node}" follows plan "{plan_id}"')
def step_subscribe(context: Any, who: str, node: str, plan_id: str) -> None:
    _subscribe(context, who, node, plan_id, None)


@when(
    'a subscriber "{who}" on node "{node}" resumes plan "{plan_id}" after seq {seq:d} of "{other}"'
)
def step_subscribe_after(
    context: Any, who: str, node: str, plan_id: str, seq: int, other: str
) -> None:
    _subscribe(context, who, node, plan_id, context.redis_subscribers[other][seq - 1].event_id)


def _subscribe(context: Any, who: str, node: str, plan_id: str, last_event_id: str | None) -> None:
    items: list[Any] = []
    context.redis_subscribers = getattr(context, "redis_subscribers", {})
    context.redis_subscribers[who] = items
    context.redis_failures = getattr(context, "redis_failures", {})
    done = asyncio.Event()

    async def follow() -> None:
        url = context.redis_nodes[node].url
        try:
            async with (
                PlanStreamClient(url) as client,
                client.subscribe(plan_id, last_event_id=last_event_id) as stream,
            ):
                async for item in stream:
                    items.append(item)
        except PlanStreamError as exc:
            context.redis_failures[who] = exc
        finally:
            done.set()

    task = context.loop.create_task(follow())
    context.redis_tasks = getattr(context, "redis_tasks", {})
    context.redis_tasks[who] = done

    async def cancel() -> None:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    on_cleanup(context, cancel)
    run(context, asyncio.sleep(0.3))  # subscribed before anything is published


@when('{count:d} log events of plan "{plan_id}" are published through node "{node}"')
def step_publish(context: Any, count: int, plan_id: str, node: str) -> None:
    async def publish() -> None:
        for _ in range(count):
            answer = await post_event(context, node, plan_id, {"kind": "log", "data": LOG_DATA})
            assert answer.status_code == 201, answer.text

    run(context, publish())


@when('plan "{plan_id}" ends "{status}" through node "{node}"')
def step_end(context: Any, plan_id: str, status: str, node: str) -> None:
    body = {"kind": "plan.status", "data": {"status": status}}
    answer = run(context, post_event(context, node, plan_id, body))
    assert answer.status_code == 201, answer.text


@when('nodes "{a}" and "{b}" each publish {count:d} log events of plan "{plan_id}" at once')
def step_race(context: Any, a: str, b: str, count: int, plan_id: str) -> None:
    async def one(node: str) -> list[int]:
        seqs = []
        for _ in range(count):
            body = {"kind": "log", "data": LOG_DATA}
            answer = await post_event(context, node, plan_id, body)
            assert answer.status_code == 201, answer.text
            seqs.append(answer.json()["events"][0]["seq"])
        return seqs

    async def race() -> list[list[int]]:
        return list(await asyncio.gather(one(a), one(b)))

    context.redis_race = run(context, race())


@then("the racing publishers got every seq from 1 to {last:d} exactly once")
def step_race_seqs(context: Any, last: int) -> None:
    got = sorted(seq for seqs in context.redis_race for seq in seqs)
    assert got == list(range(1, last + 1)), got


@then('subscriber "{who}" got seqs {first:d} to {last:d} exactly once, in order, no Resync')
def step_got(context: Any, who: str, first: int, last: int) -> None:
    done = context.redis_tasks[who]
    run(context, done.wait(), timeout=20)
    assert who not in context.redis_failures, context.redis_failures[who]
    items = context.redis_subscribers[who]
    assert not any(isinstance(item, Resync) for item in items), items
    seqs = [item.seq for item in items if not isinstance(item, Resync)]
    assert seqs == list(range(first, last + 1)), seqs


@when(
    'node "{node}" publishes {count:d} log events of plan "{plan_id}" with Idempotency-Key "{key}"'
)
def step_publish_keyed(context: Any, node: str, count: int, plan_id: str, key: str) -> None:
    async def publish() -> httpx.Response:
        async with httpx.AsyncClient(base_url=context.redis_nodes[node].http_url) as http:
            return await http.post(
                f"/v1/plans/{plan_id}/events",
                json=[{"kind": "log", "data": LOG_DATA}] * count,
                headers={"Idempotency-Key": key},
            )

    context.redis_keyed = getattr(context, "redis_keyed", [])
    context.redis_keyed.append(run(context, publish()))


@then("the keyed publishes answered {statuses}; the second replayed the first")
def step_keyed_answers(context: Any, statuses: str) -> None:
    answers = context.redis_keyed
    assert [a.status_code for a in answers] == [int(s) for s in statuses.split(",")], answers
    first, replay = answers[0], answers[1]
    assert replay.json() == first.json(), (replay.text, first.text)
    assert replay.headers.get("idempotent-replayed") == "true", replay.headers
    assert "idempotent-replayed" not in answers[-1].headers, answers[-1].headers


@then('node "{node}" has plan "{plan_id}" at seq {seq:d}')
def step_node_head(context: Any, node: str, plan_id: str, seq: int) -> None:
    log = context.redis_nodes[node].state.log
    head = run(context, log.head(plan_id))
    assert head is not None, plan_id
    assert head.seq == seq, head
    snapshot = run(context, log.snapshot(plan_id))  # the stored one folded forward
    assert snapshot.head == head, (snapshot, head)


@given("the nodes forget finished plans after {ttl:g} s")
def step_nodes_ttl(context: Any, ttl: float) -> None:
    context.redis_node_settings = {"plan_ttl": ttl}


@when('someone else publishes "{text}" on the notification channel')
def step_stranger_publishes(context: Any, text: str) -> None:
    assert int(context.redis.cli("PUBLISH", "planstream:appended", text)) >= 1


@when("Redis drops every node's notification connection")
def step_kill_pubsub(context: Any) -> None:
    killed = context.redis.cli("CLIENT", "KILL", "TYPE", "pubsub")
    assert int(killed) == len(context.redis_nodes), killed


@then(
    'within {seconds:d} s node "{node}" lists {count:d} plans and Redis holds no key of "{plan_id}"'
)
def step_expired(context: Any, seconds: int, node: str, count: int, plan_id: str) -> None:
    async def listed() -> int:
        async with httpx.AsyncClient(base_url=context.redis_nodes[node].http_url) as http:
            return len((await http.get("/v1/plans")).json()["plans"])

    deadline = time.monotonic() + seconds
    while run(context, listed()) != count:
        assert time.monotonic() < deadline, "the finished plan was not forgotten in time"
        run(context, asyncio.sleep(0.1))
    assert context.redis.cli("KEYS", f"planstream:{{{plan_id}}}:*") == "", plan_id


@then(
    'resuming plan "{plan_id}" after seq {seq:d} of "{who}" on node "{node}" gets a Resync "{reason}"'
)
def step_resume_resync(
    context: Any, plan_id: str, seq: int, who: str, node: str, reason: str
) -> None:
    event_id = context.redis_subscribers[who][seq - 1].event_id

    async def first_item() -> Any:
        async with (
            PlanStreamClient(context.redis_nodes[node].url) as client,
            client.subscribe(plan_id, last_event_id=event_id) as stream,
        ):
            async for item in stream:
                return item
        return None

    item = run(context, first_item())
    assert isinstance(item, Resync), item
    assert item.reason.value == reason, item


@then('subscriber "{who}" failed with error internal from node "{node}", which kept serving')
def step_internal(context: Any, who: str, node: str) -> None:
    run(context, context.redis_tasks[who].wait())
    failure = context.redis_failures.get(who)
    assert failure is not None, "the subscribe did not fail"
    assert "internal" in str(failure), failure
    state = context.redis_nodes[node].state
    assert state.metrics.internal_errors == 1, state.metrics
