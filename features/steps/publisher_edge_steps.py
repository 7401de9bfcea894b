"""Steps of features/publisher_edges.feature: the HTTP session's less travelled paths."""

from __future__ import annotations

import ssl
from collections.abc import Awaitable, Callable
from typing import Any

from behave import then, when
from support.publisher_support import _log, _placed, attempt, publisher
from support.servers import free_port, on_cleanup, run

import planstream
from planstream import ClientSettings, PlanPublisher, PlanSnapshot, PlanStreamClient
from planstream.client.http_session import HttpSession, RequestLimits
from planstream.client.plan_api import PlanApi


def _calls(context: Any) -> dict[str, Callable[[], Any]]:
    made = publisher(context)
    snapshot = PlanSnapshot(plan_id="p", status=None, progress=None, steps=(), head=None)

    async def with_client(use: Callable[[PlanStreamClient], Awaitable[Any]]) -> Any:
        async with PlanStreamClient(context.server.url) as client:
            return await use(client)

    async def plans_page_zero(client: PlanStreamClient) -> Any:
        return [plan async for plan in client.plans(page_size=0)]

    return {
        "RequestLimits(max_attempts=0)": lambda: RequestLimits(max_attempts=0),
        "RequestLimits(deadline=0)": lambda: RequestLimits(deadline=0),
        "HttpSession([])": lambda: HttpSession([]),
        'publish to plan "no spaces please"': lambda: run(
            context, made.publish("no spaces please", _log())
        ),
        "publish a PlanSnapshot": lambda: run(context, made.publish("p", snapshot)),  # type: ignore[arg-type]
        "client.plans(page_size=0)": lambda: run(context, with_client(plans_page_zero)),
        'client.snapshot of plan "bad/id"': lambda: run(
            context, with_client(lambda client: client.snapshot("bad/id"))
        ),
    }


def _raised(call: Callable[[], Any]) -> BaseException | None:
    try:
        call()
    except Exception as exc:
        return exc
    return None


@then("these publisher calls fail before sending anything:")
def then_calls_fail(context: Any) -> None:
    calls = _calls(context)
    for row in context.table:
        expected = TypeError if row["error"] == "TypeError" else getattr(planstream, row["error"])
        raised = _raised(calls[row["call"]])
        assert type(raised) is expected, (row["call"], repr(raised))
        assert row["text"] in str(raised), (row["call"], str(raised))


@then("the reference server holds no plan")
def then_no_plan(context: Any) -> None:
    assert run(context, context.server.state.log.plan_count()) == 0


def _api_call(context: Any, api: PlanApi, call: Callable[[PlanApi], Awaitable[Any]]) -> None:
    on_cleanup(context, api.aclose)
    context.api_error = None
    try:
        context.api_result = run(context, call(api))
    except planstream.PlanStreamError as exc:
        context.api_error = exc


@when("the plan API {call} of the file server")
def when_api_file_server(context: Any, call: str) -> None:
    url = f"ws://127.0.0.1:{context.cli_server_port}/v1/stream"

    async def use(api: PlanApi) -> Any:
        async with api:
            base = f"http://127.0.0.1:{context.cli_server_port}"
            assert repr(api) == f"PlanApi(base_url={base!r})", repr(api)
            assert repr(api.session) == f"HttpSession(base_url={base!r})", repr(api.session)
            if call == "reads the snapshot of plan p":
                return await api.snapshot("p")
            if call == "lists the plans":
                return [plan async for plan in api.plans()]
            return await api.publish_items("p", {"kind": "log", "data": {}})

    _api_call(context, PlanApi(ClientSettings(url=url)), use)


@when("the plan API lists the plans reading at most {size:d} bytes an answer")
def when_api_capped(context: Any, size: int) -> None:
    api = PlanApi(
        ClientSettings(url=context.server.url), limits=RequestLimits(max_response_bytes=size)
    )

    async def walk(api: PlanApi) -> list[Any]:
        return [plan async for plan in api.plans()]

    _api_call(context, api, walk)


@then('the plan API call failed with {error} containing "{text}"')
def then_api_failed(context: Any, error: str, text: str) -> None:
    raised = context.api_error
    assert type(raised) is getattr(planstream, error), repr(raised)
    assert text in str(raised), str(raised)


@when("the publisher publishes a log line to the reference server over https")
def when_publish_https(context: Any) -> None:
    made = publisher(context, context.server.http_url.replace("http://", "https://"))
    attempt(context, lambda: made.publish("pub-tls", _log()))


@when(
    "the publisher with a token provider that {provider} publishes a log line to plan "
    '"{plan_id}", {n:d} attempts at most'
)
def when_provider_edge(context: Any, provider: str, plan_id: str, n: int) -> None:
    async def token() -> str:
        if provider.startswith("raises "):
            raise RuntimeError("s3cret in the provider's text")
        return provider.removeprefix("answers ").strip('"')

    made: PlanPublisher = publisher(context, token_provider=token, max_attempts=n)
    attempt(context, lambda: made.publish(plan_id, _log()))


@then('the publish failed with {error}, its text containing "{text}"')
def then_publish_failed_text(context: Any, error: str, text: str) -> None:
    raised = context.publish_error
    assert type(raised) is getattr(planstream, error), repr(raised)
    assert text in str(raised), str(raised)
    assert "s3cret" not in str(raised), str(raised)


@when('a must_exist subscription to plan "{plan_id}" is closed before its first item')
def when_closed_early(context: Any, plan_id: str) -> None:
    async def body() -> tuple[list[Any], int]:
        async with PlanStreamClient(context.server.url) as client:
            stream = client.subscribe(plan_id, must_exist=True)
            await stream.aclose()
            items = [item async for item in stream]
            return items, len(client._router.channels)

    context.closed_early = run(context, body())


@then('iterating it ends at once, and the client never subscribed plan "{plan_id}"')
def then_closed_early(context: Any, plan_id: str) -> None:
    items, channels = context.closed_early
    assert items == [], items
    assert channels == 0, channels


@then("a PlanPublisher made with these arguments sends to this HTTP base:")
def then_publisher_bases(context: Any) -> None:
    for row in context.table:
        made = PlanPublisher(row["url"])
        assert repr(made) == f"PlanPublisher(base_url={row['base']!r})", (row["url"], repr(made))
        run(context, made.aclose())


@then("a PlanPublisher made with a token and an SSL context shows neither in its repr")
def then_publisher_repr(context: Any) -> None:
    context_ssl = ssl.create_default_context()

    async def made() -> str:
        async with PlanPublisher(
            "https://example.org", token="t0ken-in-repr?", ssl=context_ssl
        ) as publisher:
            assert publisher.settings.ssl.client_context() is context_ssl
            return repr(publisher)

    text = run(context, made())
    assert "t0ken" not in text, text
    assert "SSLContext" not in text, text


@when(
    'a publisher configured by ClientSettings with the nodes "a closed port" and "the reference '
    'server" publishes a log line to plan "{plan_id}"'
)
def when_publish_nodes(context: Any, plan_id: str) -> None:
    closed = f"ws://127.0.0.1:{free_port()}/v1/stream"
    settings = ClientSettings(
        urls=[closed, context.server.url], reconnect={"initial_delay": 0.05, "max_delay": 0.1}
    )

    async def publish() -> Any:
        async with PlanPublisher(settings=settings) as made:
            return await made.publish(plan_id, _log())

    _placed(context, attempt(context, publish))
    assert context.publish_error is None, context.publish_error


@when(
    "the publisher configured with reconnect.max_attempts {n:d} publishes a log line to plan "
    '"{plan_id}" through the proxy'
)
def when_publish_reconnect_bounded(context: Any, n: int, plan_id: str) -> None:
    settings = ClientSettings(
        reconnect={"initial_delay": 0.05, "max_delay": 0.1, "max_attempts": n}
    )
    made = publisher(context, context.proxy.http_url, settings=settings)
    attempt(context, lambda: made.publish(plan_id, _log()))
