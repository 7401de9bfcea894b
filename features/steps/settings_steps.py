"""Steps for ClientSettings: defaults, PLANSTREAM_* variables, validation, secrecy."""

from __future__ import annotations

import json
import os
from typing import Any

from behave import given, then, use_step_matcher, when
from pydantic import SecretStr, ValidationError
from pydantic_core import to_jsonable_python

import planstream
from planstream import ClientSettings, PlanStreamError, ReconnectSettings, SettingsError
from planstream.backoff import BackoffPolicy, JitterMode
from planstream.connection_state import TransportMode
from planstream.sequencer import Sequencer

_PREFIX = "PLANSTREAM_"


def _remember_environment(context: Any) -> None:
    """Snapshot os.environ once per scenario and restore it in after_scenario."""
    if getattr(context, "settings_env_saved", None) is not None:
        return
    saved = dict(os.environ)
    context.settings_env_saved = saved

    async def restore_environment() -> None:
        os.environ.clear()
        os.environ.update(saved)

    if not hasattr(context, "async_cleanups"):
        context.async_cleanups = []
    context.async_cleanups.append(restore_environment)


def _build(context: Any, **arguments: Any) -> None:
    try:
        context.client_settings = ClientSettings(**arguments)
    except Exception as exc:  # asserted on by the Then steps
        context.client_settings = None
        context.settings_error = exc
    else:
        context.settings_error = None


def _settings(context: Any) -> ClientSettings:
    assert context.settings_error is None, f"building failed: {context.settings_error}"
    settings = context.client_settings
    assert isinstance(settings, ClientSettings)
    return settings


def _field(settings: Any, path: str) -> Any:
    value = settings
    for name in path.split("."):
        value = getattr(value, name)
    return value


def _settings_error(context: Any) -> SettingsError:
    error = context.settings_error
    assert error is not None, f"building succeeded: {context.client_settings!r}"
    assert isinstance(error, SettingsError), f"{type(error).__module__}.{type(error).__name__}"
    assert isinstance(error, ValueError)
    assert isinstance(error, PlanStreamError)
    assert not isinstance(error, ValidationError)
    assert error.__cause__ is None
    return error


# --- Given ------------------------------------------------------------------


@given("no PLANSTREAM_* environment variable is set")
def given_clean_environment(context: Any) -> None:
    _remember_environment(context)
    for name in [name for name in os.environ if name.upper().startswith(_PREFIX)]:
        del os.environ[name]
    assert not any(name.upper().startswith(_PREFIX) for name in os.environ)


use_step_matcher("re")


@given(r"""the PLANSTREAM environment variable "(?P<name>\w+)" is (?P<q>["'])(?P<value>.*)(?P=q)""")
def given_environment_variable(context: Any, name: str, q: str, value: str) -> None:
    assert name.startswith(_PREFIX), name
    _remember_environment(context)
    os.environ[name] = value


use_step_matcher("parse")


# --- When ---------------------------------------------------------------------


@when("client settings are built with no arguments")
def when_build_default(context: Any) -> None:
    _build(context)


@when("client settings are built with arguments {arguments}")
def when_build_with(context: Any, arguments: str) -> None:
    _build(context, **json.loads(arguments))


@when(
    "client settings are built with a ReconnectSettings of initial delay {initial:g}"
    " and max delay {maximum:g}"
)
def when_build_with_section(context: Any, initial: float, maximum: float) -> None:
    _build(context, reconnect=ReconnectSettings(initial_delay=initial, max_delay=maximum))


# --- Then ------------------------------------------------------------------------


@then("the client settings have these values:")
def then_values(context: Any) -> None:
    settings = _settings(context)
    for row in context.table:
        value = _field(settings, row["field"])
        expected = json.loads(row["value"])
        assert to_jsonable_python(value) == expected, (row["field"], value, expected)
        if isinstance(expected, float):
            assert isinstance(value, float), (row["field"], value)


@then('the client setting "{path}" is the {enum_name} "{value}"')
def then_enum_value(context: Any, path: str, enum_name: str, value: str) -> None:
    enum = {"JitterMode": JitterMode, "TransportMode": TransportMode}[enum_name]
    actual = _field(_settings(context), path)
    assert actual is enum(value), (path, actual)


@then('building the client settings fails with a SettingsError naming "{variable}"')
def then_settings_error(context: Any, variable: str) -> None:
    error = _settings_error(context)
    assert variable in str(error), str(error)
    assert variable in [name for name, _ in error.problems], error.problems


@then('the SettingsError names "{variable}" too, with {count:d} problems in all')
def then_settings_error_also(context: Any, variable: str, count: int) -> None:
    error = _settings_error(context)
    assert variable in str(error), str(error)
    assert len(error.problems) == count, error.problems


@then('the SettingsError message mentions "{text}"')
def then_settings_error_mentions(context: Any, text: str) -> None:
    error = _settings_error(context)
    assert text in str(error), str(error)


@then('the SettingsError message does not contain "{secret}"')
def then_settings_error_secret(context: Any, secret: str) -> None:
    error = _settings_error(context)
    assert secret not in str(error), str(error)
    assert secret not in repr(error), repr(error)
    assert all(secret not in message for _, message in error.problems), error.problems
    assert all(secret not in repr(arg) for arg in error.args)


@then('the client settings token is "{token}"')
def then_token(context: Any, token: str) -> None:
    secret = _settings(context).token
    assert isinstance(secret, SecretStr), secret
    assert secret.get_secret_value() == token


@then('no rendering of the client settings contains "{secret}"')
def then_token_hidden(context: Any, secret: str) -> None:
    settings = _settings(context)
    renderings = {
        "repr": repr(settings),
        "str": str(settings),
        "format": f"{settings}",
        "model_dump": str(settings.model_dump()),
        "model_dump_json": settings.model_dump_json(),
        "token repr": repr(settings.token),
        "token str": str(settings.token),
    }
    leaks = [name for name, text in renderings.items() if secret in text]
    assert not leaks, leaks
    assert "token" in renderings["repr"], "the token field should be shown, masked"


@then(
    "the backoff policy of the client settings has initial delay {initial:g}, max delay"
    ' {maximum:g}, factor {factor:g}, jitter "{jitter}" and max attempts {attempts:d}'
)
def then_policy(
    context: Any, initial: float, maximum: float, factor: float, jitter: str, attempts: int
) -> None:
    policy = _settings(context).reconnect.policy()
    assert isinstance(policy, BackoffPolicy)
    assert policy.initial_delay == initial
    assert policy.max_delay == maximum
    assert policy.factor == factor
    assert policy.jitter is JitterMode(jitter)
    assert policy.max_attempts == attempts
    # The policy behaves as configured: attempts are bounded.
    assert len(list(policy.schedule())) == attempts


@then(
    "the ordering object built from the client settings has reorder window {reorder:d},"
    " dedup window {dedup:d}, gap timeout {gap:g} and resubscribe timeout {resubscribe:g}"
)
def then_ordering(context: Any, reorder: int, dedup: int, gap: float, resubscribe: float) -> None:
    built = _settings(context).sequencer.sequencer()
    assert isinstance(built, Sequencer)
    assert built is not _settings(context).sequencer.sequencer(), "a fresh object per call"
    assert (built.reorder_window, built.dedup_window) == (reorder, dedup)
    assert (built.gap_timeout, built.resubscribe_timeout) == (gap, resubscribe)


@then('changing the client setting "{path}" fails')
def then_frozen(context: Any, path: str) -> None:
    settings = _settings(context)
    *parents, name = path.split(".")
    owner = _field(settings, ".".join(parents)) if parents else settings
    before = getattr(owner, name)
    error: ValidationError | None = None
    try:
        setattr(owner, name, before)
    except ValidationError as exc:
        error = exc
    assert error is not None, f"{path} could be changed"
    assert "frozen" in str(error), str(error)
    assert getattr(owner, name) == before
    assert planstream.ClientSettings is ClientSettings
