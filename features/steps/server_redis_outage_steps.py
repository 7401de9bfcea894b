"""Steps of server_redis.feature about Redis going away and coming back, and a
Redis that requires a password (the CLI's --redis URL keeps it secret)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from behave import given, then, when
from support.redis_nodes import LOG_DATA, post_event
from support.redis_servers import start_redis
from support.servers import free_port, on_cleanup, run, wait_healthy

from planstream.server.redis_log import RedisEventLog


@when("Redis stops")
def step_redis_stops(context: Any) -> None:
    context.redis.stop()


@when("Redis starts again")
def step_redis_starts(context: Any) -> None:
    context.redis.wait_port_free()
    context.redis.start()

    async def resubscribed() -> None:
        for server in context.redis_nodes.values():
            log = server.state.log
            assert isinstance(log, RedisEventLog)
            await asyncio.wait_for(log.reader.subscribed.wait(), 15)

    run(context, resubscribed())


@then('publishing plan "{plan_id}" through node "{node}" answers {status:d}')
def step_publish_answers(context: Any, plan_id: str, node: str, status: int) -> None:
    _publish_answers(context, plan_id, node, status)


@then(
    'publishing plan "{plan_id}" through node "{node}" is refused with {status:d} and a Retry-After'
)
def step_publish_answers_retry(context: Any, plan_id: str, node: str, status: int) -> None:
    answer = _publish_answers(context, plan_id, node, status)
    assert int(answer.headers["retry-after"]) >= 1, answer.headers


def _publish_answers(context: Any, plan_id: str, node: str, status: int) -> httpx.Response:
    body = {"kind": "log", "data": LOG_DATA}
    answer: httpx.Response = run(context, post_event(context, node, plan_id, body))
    assert answer.status_code == status, answer.text
    assert "redis://" not in answer.text, answer.text  # never the URL
    return answer


@then('node "{node}" lists {count:d} plans and plan "{plan_id}" ends "{status}"')
def step_node_lists(context: Any, node: str, count: int, plan_id: str, status: str) -> None:
    async def listing() -> Any:
        async with httpx.AsyncClient(base_url=context.redis_nodes[node].http_url) as http:
            return (await http.get("/v1/plans")).json()

    page = run(context, listing())
    plans = {plan["plan_id"]: plan for plan in page["plans"]}
    assert len(plans) == count, page
    assert plans[plan_id]["status"] == status, page


@given('a Redis server requiring the password "{password}"')
def step_redis_password(context: Any, password: str) -> None:
    context.redis = start_redis(context, password=password)
    context.redis_url = f"redis://:{password}@127.0.0.1:{context.redis.port}/0"


@when('"planstream serve --redis URL" runs on a free port')
def step_cli_serve(context: Any) -> None:
    port = free_port()
    command = [str(Path(sys.executable).parent / "planstream"), "serve", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--redis", context.redis_url],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    context.redis_cli_process = process
    context.redis_cli_url = f"http://127.0.0.1:{port}"

    async def stop() -> None:
        if process.poll() is None:
            process.terminate()
        process.wait(15)
        if process.stdout is not None:
            process.stdout.close()

    on_cleanup(context, stop)
    wait_healthy(process, context.redis_cli_url)


@then('publishing plan "{plan_id}" through it answers 201, and its output never holds "{secret}"')
def step_cli_publish(context: Any, plan_id: str, secret: str) -> None:
    body = {"kind": "log", "data": LOG_DATA}
    answer = httpx.post(f"{context.redis_cli_url}/v1/plans/{plan_id}/events", json=body)
    assert answer.status_code == 201, answer.text
    process = context.redis_cli_process
    process.terminate()
    output, _ = process.communicate(timeout=15)
    assert "RedisEventLog('redis://127.0.0.1:" in output, output
    assert secret not in output, output
