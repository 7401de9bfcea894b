"""Steps of client_failure_paths.feature: failed polls and failed probes, on real sockets."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from behave import given, then, when
from support.client_api_support import until
from support.servers import on_cleanup, run

from planstream import (
    ClientSettings,
    PlanStreamClient,
    Resync,
    RetriesExhaustedError,
    StateChange,
    UpgradeRefusedError,
)


def _start_client(context: Any, settings: ClientSettings) -> None:
    context.fp_changes: list[StateChange] = []
    client = PlanStreamClient(settings=settings, on_state_change=context.fp_changes.append)
    run(context, client.__aenter__())
    on_cleanup(context, client.aclose)
    context.fp_client = client


@given(
    'a failure-path client in transport "polling" aimed at a closed port with at most {n:d} attempts'
)
def step_polling_closed(context: Any, n: int) -> None:
    blocker = socket.socket()  # bound, never listening: connections are refused
    blocker.bind(("127.0.0.1", 0))
    port = blocker.getsockname()[1]
    context.fp_blocker = blocker

    async def release() -> None:
        blocker.close()

    on_cleanup(context, release)
    settings = ClientSettings(
        url=f"ws://127.0.0.1:{port}/v1/stream",
        transport="polling",
        reconnect={"initial_delay": 0.01, "max_delay": 0.02, "max_attempts": n},
        polling={"wait": 0.2, "request_timeout": 1},
    )
    _start_client(context, settings)


@given('a failure-path client in transport "auto" probing the WebSocket every {seconds:g} s')
def step_auto_client(context: Any, seconds: float) -> None:
    settings = ClientSettings(
        url=context.upgrade_proxy.url,
        reconnect={"initial_delay": 0.01, "max_delay": 0.05},
        polling={"fallback_after": 2, "websocket_retry_interval": seconds, "wait": 0.5},
    )
    _start_client(context, settings)


@when('the failure-path client subscribes to plan "{plan_id}"')
def step_subscribe(context: Any, plan_id: str) -> None:
    context.fp_items: list[Any] = []
    context.fp_error: BaseException | None = None
    subscription = context.fp_client.subscribe(plan_id, follow=True)

    async def consume() -> None:
        try:
            async for item in subscription:
                context.fp_items.append(item)
        except Exception as exc:  # the error the subscription ended with
            context.fp_error = exc

    task = context.loop.create_task(consume())
    context.fp_task = task

    async def stop() -> None:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    on_cleanup(context, stop)


@then("the failure-path subscription ends with RetriesExhaustedError")
def step_exhausted(context: Any) -> None:
    run(context, until(context.fp_task.done, "the subscription to end"))
    assert isinstance(context.fp_error, RetriesExhaustedError), repr(context.fp_error)
    assert isinstance(context.fp_client.error, RetriesExhaustedError)
    assert context.fp_client.stats.polls == 0


@then("the failure-path state hook saw at least {count:d} poll failures with a retry delay")
def step_retries(context: Any, count: int) -> None:
    retried = [c for c in context.fp_changes if c.error is not None and c.retry_in is not None]
    assert len(retried) >= count, context.fp_changes
    assert all(change.retry_in is not None and change.retry_in >= 0 for change in retried)


@then("the failure-path client receives seq 1 to {last:d} while polling")
def step_received(context: Any, last: int) -> None:
    run(context, until(lambda: len(context.fp_items) >= last, f"seq 1 to {last}"))
    assert not any(isinstance(item, Resync) for item in context.fp_items)
    assert [item.seq for item in context.fp_items] == list(range(1, last + 1))
    assert context.fp_client.state.value == "polling"
    assert context.fp_client.stats.polls > 0


@then("the failure-path client saw at least {count:d} failed WebSocket probes")
def step_probes(context: Any, count: int) -> None:
    def probes() -> int:
        return sum(
            1
            for change in context.fp_changes
            if change.state.value == "polling" and isinstance(change.error, UpgradeRefusedError)
        )

    run(context, until(lambda: probes() >= count, f"{count} failed probes"))
