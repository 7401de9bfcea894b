"""Steps of token_expiry.feature: short-lived JWTs on open WebSockets."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from behave import given, then, when
from support.jwt_support import JwtKeyring
from support.servers import run, start_reference_server
from support.stream_checker import PublishedRecord, check_consumer
from support.wsclient import RawClient
from websockets.exceptions import ConnectionClosed

from planstream import (
    AuthenticationError,
    ClientSettings,
    ConnectionState,
    PlanStreamClient,
    Resync,
    StateChange,
)
from planstream.server.jwt_auth import mint_token

FAST_RECONNECT = {"initial_delay": 0.05, "max_delay": 0.5}


def _mint(context: Any, ttl: float) -> str:
    return mint_token(context.jwt_keys.secret, read=["team-a:*"], ttl=ttl, subject="expiry-test")


@given("a reference server accepting HS256 JWTs with no leeway")
def given_server(context: Any) -> None:
    context.jwt_keys = JwtKeyring.create()
    secret_file: Path = context.jwt_keys.path("secret")
    start_reference_server(context, jwt_secret_file=str(secret_file), jwt_leeway=0)


@when("a raw client connects with a JWT that expires in {seconds:d} seconds")
def when_raw_connects(context: Any, seconds: int) -> None:
    token = _mint(context, seconds)
    client = run(context, RawClient.open(context.server.url, token=token))
    (connection,) = context.server.state.connections
    context.token_exp = connection.principal.expires_at
    context.raw_client = client


@then(
    'the server closes it with 4001 "{reason}" once the token\'s exp has passed, within {bound:d} seconds'
)
def then_closed_at_exp(context: Any, reason: str, bound: int) -> None:
    async def wait_close() -> tuple[int | None, str, float]:
        try:
            while True:
                await context.raw_client.connection.recv()
        except ConnectionClosed as closed:
            received = closed.rcvd
            return (
                None if received is None else received.code,
                "" if received is None else received.reason,
                time.time(),
            )

    code, text, closed_at = run(context, wait_close())
    assert (code, text) == (4001, reason), (code, text)
    # The server's wall clock and ours are one clock: never before exp, and soon after.
    assert closed_at >= context.token_exp - 0.05, (closed_at, context.token_exp)
    assert closed_at <= context.token_exp + bound, (closed_at, context.token_exp)


@given("a token provider minting JWTs that live {seconds:d} seconds")
def given_provider(context: Any, seconds: int) -> None:
    context.provider_calls = 0

    async def provider() -> str:
        context.provider_calls += 1
        return _mint(context, seconds)

    context.token_provider = provider


def _record(item: Any) -> dict[str, Any]:
    if isinstance(item, Resync):
        head = item.snapshot.head
        return {"k": "r", "p": item.plan_id, "i": None if head is None else head.event_id}
    return {"k": "e", "p": item.plan_id, "s": item.seq, "i": item.event_id}


@when(
    'plan "{plan_id}" is published, one event every {every:d} ms for {seconds:d} seconds, then ends, while the SDK client with the provider follows it'
)
def when_published_and_followed(context: Any, plan_id: str, every: int, seconds: int) -> None:
    state = context.server.state
    context.published_lines = []
    context.consumer_lines = [{"k": "start"}]
    context.state_errors = []
    context.connections_opened = 0

    def changed(change: StateChange) -> None:
        if change.error is not None:
            context.state_errors.append(str(change.error))
        if change.state is ConnectionState.OPEN:
            context.connections_opened += 1

    async def publish_steadily() -> None:
        deadline = time.monotonic() + seconds
        count = 0
        while time.monotonic() < deadline:
            count += 1
            data = {
                "level": "info",
                "message": f"line {count}",
                "step_id": None,
                "stream": "stdout",
            }
            stored = await state.publish(plan_id, "log", data)
            context.published_lines.append({"p": plan_id, "s": stored.seq, "i": stored.event_id})
            await asyncio.sleep(every / 1000)
        stored = await state.publish(
            plan_id, "plan.status", {"status": "succeeded", "reason": None}
        )
        context.published_lines.append({"p": plan_id, "s": stored.seq, "i": stored.event_id})

    async def follow() -> None:
        settings = ClientSettings(url=context.server.url, reconnect=FAST_RECONNECT)
        client = PlanStreamClient(
            settings=settings, token_provider=context.token_provider, on_state_change=changed
        )
        async with client, client.subscribe(plan_id) as stream:
            async for item in stream:
                context.consumer_lines.append(_record(item))

    async def both() -> None:
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(follow())
            tasks.create_task(publish_steadily())

    run(context, both(), timeout=seconds + 20)


@then("every published event was delivered exactly once, in order")
def then_exact(context: Any) -> None:
    published = PublishedRecord.of(context.published_lines)
    verdict = check_consumer(published, context.consumer_lines)
    assert verdict.ok, verdict.problems()
    assert verdict.total("delivered") == published.total, (verdict.total("delivered"), published)
    assert verdict.total("resyncs") == 0, verdict.plans
    assert published.total > 100, published.total


@then("the server closed the SDK's connection with {code:d} at least {count:d} times")
def then_closed_times(context: Any, code: int, count: int) -> None:
    closes = [error for error in context.state_errors if f"with code {code}" in error]
    assert len(closes) >= count, context.state_errors
    assert all("the token expired" in error for error in closes), closes
    # Nothing else went wrong: every failure was an expiry.
    assert len(closes) == len(context.state_errors), context.state_errors


@then("the provider was asked for a token once per connection")
def then_provider_calls(context: Any) -> None:
    assert context.provider_calls == context.connections_opened, (
        context.provider_calls,
        context.connections_opened,
    )
    assert context.connections_opened == len(context.state_errors) + 1, context.state_errors


@when('an SDK client with a static JWT that lives {seconds:d} seconds follows plan "{plan_id}"')
def when_static_follows(context: Any, seconds: int, plan_id: str) -> None:
    settings = ClientSettings(
        url=context.server.url, token=_mint(context, seconds), reconnect=FAST_RECONNECT
    )

    async def follow() -> BaseException | None:
        try:
            async with (
                PlanStreamClient(settings=settings) as client,
                client.subscribe(plan_id) as stream,
            ):
                async for _ in stream:
                    pass
        except Exception as exc:
            return exc
        return None

    context.follow_error = run(context, follow(), timeout=seconds + 15)


@then('its subscription ends with an AuthenticationError saying "{first}" and "{second}"')
def then_auth_error(context: Any, first: str, second: str) -> None:
    error = context.follow_error
    assert isinstance(error, AuthenticationError), repr(error)
    assert first in str(error), str(error)
    assert second in str(error), str(error)
