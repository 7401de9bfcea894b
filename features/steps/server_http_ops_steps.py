"""Steps for HTTP auth, /healthz, /v1/status + /metrics, mounting, server settings."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import time
from pathlib import Path
from typing import Any

import uvicorn
from behave import given, then, when
from prometheus_client.parser import text_string_to_metric_families
from starlette.routing import Mount
from support.server_http_client import (
    LOG_EVENT,
    SUBPROTOCOL,
    call,
    json_of,
    request,
    ws_collect,
    ws_url,
)
from support.servers import free_port, on_cleanup, run, start_reference_server
from websockets.asyncio.client import ClientConnection, connect

from planstream import SettingsError
from planstream.server import (
    PlanScope,
    Principal,
    ServerSettings,
    ServerState,
    StaticTokenVerifier,
)

_ROOT = Path(__file__).resolve().parents[2]

# --- Requests and auth ---------------------------------------------------------------


@given('the HTTP client authenticates with the token "{token}"')
def given_token(context: Any, token: str) -> None:
    context.http_authorization = f"Bearer {token}"


@when('the HTTP client sends {method:w} "{path}"')
def when_request(context: Any, method: str, path: str) -> None:
    call(context, method, path)


@then("the HTTP status is {status:d}")
def then_status(context: Any, status: int) -> None:
    response = context.http_response
    assert response.status_code == status, (response.status_code, response.text)


@then("the HTTP answer is the JSON {body}")
def then_json_body(context: Any, body: str) -> None:
    assert json_of(context.http_response) == json.loads(body), context.http_response.text


@then('the HTTP answer has the header "{name}" listing "{values}"')
def then_header(context: Any, name: str, values: str) -> None:
    header = context.http_response.headers.get(name, "")
    listed = {value.strip() for value in header.split(",")}
    assert {value.strip() for value in values.split(",")} <= listed, header


@then("these HTTP requests get these answers:")
def then_request_table(context: Any) -> None:
    """Columns: method, path, authorization ("-": none), status, error ("-": none)."""
    for row in context.table:
        headers = {} if row["authorization"] == "-" else {"Authorization": row["authorization"]}
        body = {"json": LOG_EVENT} if row["method"] == "POST" else {}
        response = run(
            context, request(context, row["method"], row["path"], headers=headers, **body)
        )
        where = f"{row['method']} {row['path']} with {row['authorization']!r}"
        assert response.status_code == int(row["status"]), (where, response.text)
        if row["error"] != "-":
            assert json_of(response)["error"] == row["error"], (where, response.text)
        if response.status_code == 401:
            assert response.headers.get("www-authenticate") == "Bearer", (where, response.headers)


@given('a reference server whose token verifier lets "{token}" publish but not read')
def given_custom_verifier(context: Any, token: str) -> None:
    class PublishOnly:
        async def verify(self, candidate: str | None) -> Principal | None:
            if candidate == token:
                return Principal("feeder", read=PlanScope.nothing(), publish=PlanScope.everything())
            return None

    start_reference_server(context, verifier=PublishOnly())


# --- /v1/status and /metrics ----------------------------------------------------------

#: Every /v1/status key, its Prometheus sample name and type.
_PROMETHEUS = {
    "connections": ("planstream_connections", "gauge"),
    "subscriptions": ("planstream_subscriptions", "gauge"),
    "plans": ("planstream_plans", "gauge"),
    "connections_total": ("planstream_connections_accepted_total", "counter"),
    "events_published": ("planstream_events_published_total", "counter"),
    "events_sent": ("planstream_events_sent_total", "counter"),
    "frames_sent": ("planstream_frames_sent_total", "counter"),
    "slow_consumer_closes": ("planstream_slow_consumer_closes_total", "counter"),
    "rejected_frames": ("planstream_rejected_frames_total", "counter"),
    "abuse_closes": ("planstream_abuse_closes_total", "counter"),
    "auth_failures": ("planstream_auth_failures_total", "counter"),
    "rate_limited_frames": ("planstream_rate_limited_frames_total", "counter"),
    "rate_limit_closes": ("planstream_rate_limit_closes_total", "counter"),
    "internal_errors": ("planstream_internal_errors_total", "counter"),
    "refused_connections": ("planstream_refused_connections_total", "counter"),
    "handshake_timeouts": ("planstream_handshake_timeouts_total", "counter"),
    "events_replayed": ("planstream_events_replayed_total", "counter"),
    "events_live": ("planstream_events_live_total", "counter"),
    "http_rate_limited": ("planstream_http_rate_limited_total", "counter"),
    "resyncs_history_expired": (
        'planstream_resyncs_sent_total{reason="history_expired"}',
        "counter",
    ),
    "resyncs_unknown_event_id": (
        'planstream_resyncs_sent_total{reason="unknown_event_id"}',
        "counter",
    ),
    "resyncs_stream_reset": ('planstream_resyncs_sent_total{reason="stream_reset"}', "counter"),
    "resumes_exact": ('planstream_resumes_total{outcome="exact"}', "counter"),
    "resumes_resync": ('planstream_resumes_total{outcome="resync"}', "counter"),
}


def _read_metrics(context: Any) -> None:
    status = call(context, "GET", "/v1/status")
    assert status.status_code == 200, status.text
    prometheus = call(context, "GET", "/metrics")
    assert prometheus.status_code == 200, prometheus.text
    content_type = prometheus.headers["content-type"]
    assert content_type.startswith("text/plain; version=0.0.4"), content_type
    families = list(text_string_to_metric_families(prometheus.text))
    names = [family.name for family in families]
    assert len(names) == len(set(names)), f"clashing metric families: {names}"
    samples = {}
    for family in families:
        assert family.documentation, family.name
        for sample in family.samples:
            labels = ",".join(f'{key}="{value}"' for key, value in sorted(sample.labels.items()))
            name = f"{sample.name}{{{labels}}}" if labels else sample.name
            samples[name] = (family.type, sample.value)
    context.metrics_before = getattr(context, "metrics_status", None)
    context.metrics_status = json_of(status)
    context.metrics_samples = samples


@when("the metrics are read over HTTP")
def when_read_metrics(context: Any) -> None:
    _read_metrics(context)


@then("the metrics of /v1/status and /metrics agree")
def then_metrics_agree(context: Any) -> None:
    status, samples = context.metrics_status, context.metrics_samples
    assert set(status) == set(_PROMETHEUS), sorted(status)
    assert set(samples) == {name for name, _ in _PROMETHEUS.values()}, sorted(samples)
    for key, (name, kind) in _PROMETHEUS.items():
        assert isinstance(status[key], int), (key, status[key])
        assert samples[name] == (kind, float(status[key])), (key, samples[name], status[key])


@then("the metrics show:")
def then_metrics_show(context: Any) -> None:
    for row in context.table:
        key, value = row["counter"], int(row["value"])
        assert context.metrics_status[key] == value, (key, context.metrics_status[key])
        name, _ = _PROMETHEUS[key]
        assert context.metrics_samples[name][1] == value, (name, context.metrics_samples[name])


@then('the metrics counter "{key}" grew by {delta:d}')
def then_metrics_grew(context: Any, key: str, delta: int) -> None:
    before, after = context.metrics_before[key], context.metrics_status[key]
    assert after - before == delta, (key, before, after)


@then('the metrics counter "{key}" grew by at least {delta:d}')
def then_metrics_grew_at_least(context: Any, key: str, delta: int) -> None:
    before, after = context.metrics_before[key], context.metrics_status[key]
    assert after - before >= delta, (key, before, after)


@when('a metrics WebSocket subscriber receives the {count:d} events of plan "{plan_id}"')
def when_metrics_subscriber(context: Any, count: int, plan_id: str) -> None:
    async def subscribe() -> ClientConnection:
        websocket = await connect(ws_url(context), subprotocols=[SUBPROTOCOL])  # type: ignore[list-item]
        assert json.loads(await websocket.recv())["type"] == "hello"
        await websocket.send(
            json.dumps({"type": "subscribe", "id": "m1", "plan_id": plan_id, "last_event_id": None})
        )
        received = 0
        while received < count:
            frame = json.loads(await websocket.recv())
            received += {"event": 1, "batch": len(frame.get("events", []))}.get(frame["type"], 0)
        return websocket

    context.metrics_ws = run(context, subscribe())
    on_cleanup(context, context.metrics_ws.close)


@when("the metrics WebSocket subscriber sends a malformed frame")
def when_metrics_bad_frame(context: Any) -> None:
    async def send_bad() -> dict[str, Any]:
        await context.metrics_ws.send("this is not json")
        while True:
            frame: dict[str, Any] = json.loads(await context.metrics_ws.recv())
            if frame["type"] == "error":
                return frame

    assert run(context, send_bad())["code"] == "bad_request"


@when("the metrics WebSocket subscriber disconnects")
def when_metrics_ws_closes(context: Any) -> None:
    run(context, context.metrics_ws.close())


@then('the metrics gauge "{key}" reads {value:d} within {seconds:g} seconds')
def then_gauge_eventually(context: Any, key: str, value: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        _read_metrics(context)
        if context.metrics_status[key] == value:
            return
        assert time.monotonic() < deadline, (key, context.metrics_status[key])
        run(context, asyncio.sleep(0.05))


# --- Mounting in a FastAPI app ---------------------------------------------------------


def _load_example(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"example_{name}", _ROOT / "examples" / name)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@given(
    'the example FastAPI app is served over HTTP by uvicorn with planstream mounted at "{prefix}"'
)
def given_mounted_app(context: Any, prefix: str) -> None:
    example = _load_example("fastapi_mount.py")
    assert prefix == example.MOUNT_PATH
    api = example.build_app(ServerSettings(port=0))
    (mount,) = [route for route in api.routes if isinstance(route, Mount)]
    assert mount.path == prefix
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            api, host="127.0.0.1", port=port, ws="websockets-sansio", log_level="warning"
        )
    )

    async def start() -> asyncio.Task[None]:
        task = asyncio.create_task(server.serve())
        while not server.started:
            assert not task.done(), "uvicorn stopped before it started"
            await asyncio.sleep(0.01)
        return task

    task = run(context, start())

    async def stop() -> None:
        server.should_exit = True
        await asyncio.wait_for(task, 10)

    on_cleanup(context, stop)
    context.mounted_root = f"http://127.0.0.1:{port}"
    context.http_base = context.mounted_root + prefix
    context.http_state = mount.app.state.planstream
    assert isinstance(context.http_state, ServerState)
    context.published = {}


@then('the host route "{path}" of the mounted HTTP app answers {body}')
def then_host_route(context: Any, path: str, body: str) -> None:
    response = run(context, request(context, "GET", context.mounted_root + path))
    assert response.status_code == 200, response.text
    assert response.json() == json.loads(body), response.text


@then(
    'a WebSocket subscriber of the mounted HTTP app at "{url_path}"'
    ' receives hello and the {count:d} events of plan "{plan_id}"'
)
def then_mounted_ws(context: Any, url_path: str, count: int, plan_id: str) -> None:
    url = "ws" + context.mounted_root.removeprefix("http") + url_path
    assert url == ws_url(context), (url, ws_url(context))
    hello, events = run(context, ws_collect(url, plan_id, count))
    assert hello["type"] == "hello", hello
    assert hello["protocol"] == 1, hello
    assert [event["seq"] for event in events] == list(range(1, count + 1)), events
    polled = call(context, "GET", f"/v1/plans/{plan_id}/events").json()["events"]
    assert events == polled, (events, polled)


# --- Server settings ---------------------------------------------------------------------


def _build_settings(context: Any, **arguments: Any) -> None:
    try:
        context.http_server_settings = ServerSettings(**arguments)
    except Exception as exc:  # asserted on by the Then steps
        context.http_server_settings = None
        context.http_settings_error = exc
    else:
        context.http_settings_error = None


@when("the HTTP server settings are built from the environment")
def when_settings_from_env(context: Any) -> None:
    _build_settings(context)


@when("the HTTP server settings are built with {arguments}")
def when_settings_with(context: Any, arguments: str) -> None:
    _build_settings(context, **json.loads(arguments))


def _settings(context: Any) -> ServerSettings:
    error = context.http_settings_error
    assert error is None, f"building failed: {error!r}"
    settings: ServerSettings = context.http_server_settings
    return settings


@then("the HTTP server settings have the tokens {tokens} and the publish tokens {publish}")
def then_settings_tokens(context: Any, tokens: str, publish: str) -> None:
    settings = _settings(context)
    read, write = json.loads(tokens), json.loads(publish)
    assert [t.get_secret_value() for t in settings.tokens] == read, settings.tokens
    assert [t.get_secret_value() for t in settings.publish_tokens] == write
    # The server these settings make is open (anyone may read and publish) iff no token is set.
    verifier = StaticTokenVerifier(settings.tokens, settings.publish_tokens)
    assert verifier.is_open == (not read and not write)


@then("the HTTP server settings have these values:")
def then_settings_values(context: Any) -> None:
    settings = _settings(context)
    for row in context.table:
        actual = getattr(settings, row["field"])
        assert actual == json.loads(row["value"]), (row["field"], actual)


@then("neither the HTTP server settings nor their token verifier show the tokens {tokens}")
def then_tokens_hidden(context: Any, tokens: str) -> None:
    settings = _settings(context)
    verifier = StaticTokenVerifier(settings.tokens, settings.publish_tokens)
    state = ServerState(settings)
    assert isinstance(state.verifier, StaticTokenVerifier)
    shown = [
        repr(state),
        repr(state.verifier),
        repr(settings),
        str(settings),
        repr(settings.tokens),
        settings.model_dump_json(),
        repr(verifier),
        str(verifier),
    ]
    for token in json.loads(tokens):
        for text in shown:
            assert token not in text, text
    assert "**********" in repr(settings)


@then('building the HTTP server settings failed naming "{variable}"')
def then_settings_failed(context: Any, variable: str) -> None:
    error = context.http_settings_error
    assert isinstance(error, SettingsError), repr(error)
    assert error.__cause__ is None
    assert variable in [name for name, _ in error.problems], error.problems
    assert variable in str(error), str(error)


@then('the HTTP server settings error does not echo "{value}"')
def then_settings_error_hides(context: Any, value: str) -> None:
    error = context.http_settings_error
    assert isinstance(error, SettingsError), repr(error)
    assert value not in str(error), str(error)
    assert value not in repr(error.problems), error.problems
