"""Steps of client_loud.feature that need no socket: endpoints from URLs, the
connect_timeout setting, unknown PLANSTREAM_* variables, state change display."""

from __future__ import annotations

import os
import warnings
from typing import Any

from behave import then, when
from support.env_vars import environment

from planstream import (
    ClientSettings,
    ConnectionLostError,
    ConnectionState,
    InvalidUrlError,
    PlanStreamClient,
    PlanStreamError,
    PlanStreamWarning,
    SettingsError,
    StateChange,
)
from planstream.endpoints import ServerEndpoints
from planstream.transport.polling import http_base_url

# --- endpoints ----------------------------------------------------------------------------


@when('the server endpoints of "{url}" are derived')
def when_endpoints(context: Any, url: str) -> None:
    context.endpoints = context.endpoints_error = None
    try:
        context.endpoints = ServerEndpoints.from_url(url)
    except InvalidUrlError as exc:
        context.endpoints_error = exc


@then('the endpoints are the stream URL "{stream}" and the HTTP base "{http}"')
def then_endpoints(context: Any, stream: str, http: str) -> None:
    endpoints = context.endpoints
    assert endpoints is not None, context.endpoints_error
    assert endpoints.stream_url == stream, endpoints
    assert endpoints.http_base == http, endpoints
    assert endpoints.secure == stream.startswith("wss:"), endpoints
    # Derived again from what it derived: the same endpoints (one shape per concept).
    assert ServerEndpoints.from_url(endpoints.stream_url) == endpoints
    assert ServerEndpoints.from_url(endpoints.http_base).http_base == http


@then('the endpoints\' plan URLs for plan "{plan_id}" are under "{http}"')
def then_plan_urls(context: Any, plan_id: str, http: str) -> None:
    endpoints = context.endpoints
    assert endpoints.plans_url() == f"{http}/v1/plans"
    assert endpoints.plan_url(plan_id) == f"{http}/v1/plans/a%20b%2Fc", endpoints.plan_url(plan_id)
    assert endpoints.events_url(plan_id) == f"{http}/v1/plans/a%20b%2Fc/events"


@then('deriving the endpoints fails with InvalidUrlError saying "{message}"')
def then_endpoints_refused(context: Any, message: str) -> None:
    error = context.endpoints_error
    assert error is not None, context.endpoints
    assert isinstance(error, SettingsError)
    assert isinstance(error, ValueError)
    assert message in str(error), str(error)
    assert [name for name, _ in error.problems] == ["url"], error.problems


@then('the InvalidUrlError never shows "{secret}" nor names a PLANSTREAM_ variable')
def then_endpoints_error_clean(context: Any, secret: str) -> None:
    error = context.endpoints_error
    for text in (str(error), repr(error), error.url, *(m for _, m in error.problems)):
        assert secret not in text, text
        assert "PLANSTREAM_" not in text, text


@then('http_base_url of "{url}" is "{http}"')
def then_http_base_url(context: Any, url: str, http: str) -> None:
    assert http_base_url(url) == http, http_base_url(url)


@when('a PlanStreamClient is built with the URL "{url}"')
def when_client_url(context: Any, url: str) -> None:
    context.loud_build_error = None
    try:
        PlanStreamClient(url)
    except PlanStreamError as exc:
        context.loud_build_error = exc


@then('building the client failed with a SettingsError mentioning "{text}"')
def then_client_build_failed(context: Any, text: str) -> None:
    error = context.loud_build_error
    assert isinstance(error, SettingsError), repr(error)
    assert text in str(error), str(error)


@then('that SettingsError names "{name}", never "{variable}", nor "{secret}"')
def then_client_build_names(context: Any, name: str, variable: str, secret: str) -> None:
    error = context.loud_build_error
    assert [problem for problem, _ in error.problems] == [name], error.problems
    assert variable not in str(error), str(error)
    assert secret not in str(error), str(error)
    assert secret not in repr(error.args), repr(error.args)


# --- connect_timeout ------------------------------------------------------------------------


@then("client settings built with these connect timeouts hold these values:")
def then_connect_timeouts(context: Any) -> None:
    for row in context.table:
        given, expected = row["given"], row["value"]
        env: dict[str, str] = {}
        arguments: dict[str, Any] = {}
        if given.startswith("PLANSTREAM_"):
            name, value = given.split("=")
            env[name] = value
        elif given.startswith("argument "):
            value = given.removeprefix("argument ")
            arguments["connect_timeout"] = None if value == "none" else float(value)
        with environment(env):
            settings = ClientSettings(**arguments)
        want = None if expected == "none" else float(expected)
        assert settings.connect_timeout == want, (given, settings.connect_timeout)


@then('a connect_timeout of -1 is refused naming "{name}"')
def then_negative_connect_timeout(context: Any, name: str) -> None:
    refusal: SettingsError | None = None
    try:
        ClientSettings(connect_timeout=-1)
    except SettingsError as exc:
        refusal = exc
    assert refusal is not None, "a negative connect_timeout was accepted"
    assert [problem for problem, _ in refusal.problems] == [name], refusal.problems


# --- unknown variables ------------------------------------------------------------------------


@when("client settings are built with no arguments, recording warnings")
@when("a {what} is built with no arguments, recording warnings")
def when_build_recording(context: Any, what: str = "ClientSettings") -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if what == "PlanStreamClient":
            PlanStreamClient()  # the client builds the settings: the warning still points here
        else:
            ClientSettings()
    context.loud_warnings = [w for w in caught if issubclass(w.category, PlanStreamWarning)]
    # Every warning points at the code that built the settings, not at planstream.
    here = os.path.basename(__file__)
    assert all(os.path.basename(w.filename) == here for w in context.loud_warnings), [
        w.filename for w in context.loud_warnings
    ]


@then('one PlanStreamWarning says "{text}"')
def then_one_warning(context: Any, text: str) -> None:
    messages = [str(w.message) for w in context.loud_warnings]
    assert messages == [text], messages


@then('no warning shows "{value}"')
def then_warning_hides(context: Any, value: str) -> None:
    assert os.environ.get("PLANSTREAM_RECONECT__INITIAL_DELAY") == value
    assert all(value not in str(w.message) for w in context.loud_warnings)


@then("PlanStreamWarning is a UserWarning and a PlanStreamError")
def then_warning_category(context: Any) -> None:
    assert issubclass(PlanStreamWarning, UserWarning)
    assert issubclass(PlanStreamWarning, PlanStreamError)
    with warnings.catch_warnings():
        warnings.simplefilter("error", PlanStreamWarning)
        caught: PlanStreamError | None = None
        with environment({"PLANSTREAM_RECONECT__FACTOR": "2"}):
            try:
                ClientSettings()
            except PlanStreamError as exc:  # one except clause catches it
                caught = exc
    assert caught is not None, "the warning was not raised as an error"
    assert "PLANSTREAM_RECONNECT__FACTOR" in str(caught), str(caught)


# --- display ------------------------------------------------------------------------------------


@then(
    'a StateChange from "{previous}" to "{state}" with a ConnectionLostError "{why}" '
    'and retry_in {seconds:g} reads "{text}"'
)
def then_state_change_text(
    context: Any, previous: str, state: str, why: str, seconds: float, text: str
) -> None:
    change = StateChange(
        ConnectionState(previous), ConnectionState(state), ConnectionLostError(why), seconds
    )
    assert change.retry_in == seconds  # the value stays exact; only its display is rounded
    assert str(change) == text, str(change)
    context.loud_change = change


@then('its repr shows "{text}"')
def then_state_change_repr(context: Any, text: str) -> None:
    shown = repr(context.loud_change)
    assert shown.endswith(text), shown
    assert "previous='reconnecting'" in shown, shown
    assert "ConnectionLostError('gone')" in shown, shown


@then('a StateChange from "{previous}" to "{state}" reads "{text}"')
def then_plain_state_change(context: Any, previous: str, state: str, text: str) -> None:
    change = StateChange(ConnectionState(previous), ConnectionState(state))
    assert str(change) == text, str(change)
    assert repr(change).endswith("error=None, retry_in=None)"), repr(change)
