"""Steps of connection_state.feature that classify failures into verdicts:
close codes, upgrade refusals, network errors and heartbeat timeouts."""

from __future__ import annotations

from typing import Any

from behave import then, when
from support.connection_machine import (
    BODIES,
    error_class,
    yes_or_no,
)

import planstream
from planstream import ConnectionLostError, IncompatibleProtocolError
from planstream.close_codes import (
    Verdict,
    VerdictKind,
    classify_close,
    classify_heartbeat_timeout,
    classify_http_status,
    classify_network_error,
)

# --- classification --------------------------------------------------------------------


def _keep(context: Any, verdict: Verdict) -> Verdict:
    assert isinstance(verdict, Verdict), verdict
    assert isinstance(verdict.kind, VerdictKind)
    assert isinstance(verdict.error, planstream.PlanStreamError)
    context.cm_verdict = verdict
    return verdict


@when("close code {code:d} with an empty reason is classified, with a token provider: {provider}")
def when_close_empty(context: Any, code: int, provider: str) -> None:
    _keep(context, classify_close(code, "", has_token_provider=yes_or_no(provider)))


@when('close code {code:d} with reason "{reason}" is classified, with a token provider: {provider}')
def when_close_reason(context: Any, code: int, reason: str, provider: str) -> None:
    _keep(context, classify_close(code, reason, has_token_provider=yes_or_no(provider)))


@when("close code {code:d} with a reason of {depth:d} nested JSON arrays is classified")
def when_close_deep(context: Any, code: int, depth: int) -> None:
    context.cm_reason = "[" * depth + "]" * depth
    _keep(context, classify_close(code, context.cm_reason, has_token_provider=False))


@when(
    'an upgrade refusal with HTTP {status:d} and body "{body}" is classified,'
    " with a token provider: {provider}"
)
def when_refusal(context: Any, status: int, body: str, provider: str) -> None:
    context.cm_status = status
    verdict = classify_http_status(
        status, body=BODIES[body], has_token_provider=yes_or_no(provider)
    )
    _keep(context, verdict)


@when(
    "an upgrade refusal with HTTP {status:d}, no body and"
    ' X-Planstream-Protocols "{header}" is classified'
)
def when_refusal_header(context: Any, status: int, header: str) -> None:
    context.cm_status = status
    verdict = classify_http_status(
        status, body=None, has_token_provider=False, protocols_header=header
    )
    _keep(context, verdict)


@when("a refused connection is classified for the connection machine")
def when_refused_connection(context: Any) -> None:
    context.cm_cause = ConnectionRefusedError(111, "connection refused")
    _keep(context, classify_network_error(context.cm_cause))


@when("a network error without a cause is classified for the connection machine")
def when_network_no_cause(context: Any) -> None:
    verdict = _keep(context, classify_network_error())
    assert verdict.error.__cause__ is None


@when(
    "a heartbeat silence of {silent:g} s over a limit of {limit:g} s"
    " is classified for the connection machine"
)
def when_heartbeat(context: Any, silent: float, limit: float) -> None:
    verdict = _keep(context, classify_heartbeat_timeout(silent, limit))
    error = verdict.error
    assert isinstance(error, planstream.HeartbeatTimeoutError)
    assert (error.silent_for, error.limit) == (silent, limit)


@then('the connection machine verdict is "{kind}" with error class {error}')
def then_verdict(context: Any, kind: str, error: str) -> None:
    verdict: Verdict = context.cm_verdict
    assert verdict.kind is VerdictKind(kind), verdict
    assert type(verdict.error) is error_class(error), verdict
    if isinstance(verdict.error, planstream.UpgradeRefusedError):
        assert verdict.error.status == context.cm_status
    # The classes follow the verdict: fatal errors are FatalErrors, retries RetryableErrors.
    if verdict.kind in (VerdictKind.RETRY, VerdictKind.FALLBACK):
        assert isinstance(verdict.error, planstream.RetryableError), verdict
    else:
        assert isinstance(verdict.error, planstream.FatalError), verdict


@then(
    "the connection machine verdict's error class derives from {base}"
    " and its message names close code {code:d}"
)
def then_verdict_base(context: Any, base: str, code: int) -> None:
    error = context.cm_verdict.error
    assert isinstance(error, error_class(base)), type(error).__mro__
    assert str(code) in str(error), str(error)


@then("the connection machine verdict carries no retry_after hint")
def then_no_hint(context: Any) -> None:
    verdict: Verdict = context.cm_verdict
    assert verdict.retry_after is None, verdict
    assert getattr(verdict.error, "retry_after", None) is None


def _hint(cell: str) -> float | None:
    return None if cell == "none" else float(cell)


@then("close code reasons give these retry_after hints:")
def then_close_hints(context: Any) -> None:
    context.cm_hinted = []
    for row in context.table:
        verdict = classify_close(int(row["code"]), row["reason"], has_token_provider=False)
        expected = _hint(row["retry_after"])
        assert verdict.kind is VerdictKind.RETRY, (row.cells, verdict)
        assert verdict.retry_after == expected, (row.cells, verdict.retry_after)
        context.cm_hinted.append(verdict)


@then("the error of every close code verdict with a hint carries the same retry_after")
def then_close_hint_errors(context: Any) -> None:
    hinted = [verdict for verdict in context.cm_hinted if verdict.retry_after is not None]
    assert len(hinted) >= 3, hinted
    for verdict in context.cm_hinted:
        assert getattr(verdict.error, "retry_after", None) == verdict.retry_after, verdict


@then("the error message quotes at most {limit:d} characters of the close code reason")
def then_reason_cut(context: Any, limit: int) -> None:
    message = str(context.cm_verdict.error)
    assert "[[[[" in message, message
    assert len(message) < limit + 80, len(message)
    assert "…" in message


@then(
    'the connection machine verdict\'s error says the server has "{server}" and the client "{client}"'
)
def then_both_sides(context: Any, server: str, client: str) -> None:
    error = context.cm_verdict.error
    assert isinstance(error, IncompatibleProtocolError), error
    assert error.server == server, error.server
    assert error.client == client, error.client
    assert server in str(error), str(error)
    assert client in str(error), str(error)


@then('the connection machine verdict\'s error message mentions "{first}" and "{second}"')
def then_mentions(context: Any, first: str, second: str) -> None:
    message = str(context.cm_verdict.error)
    assert first in message, message
    assert second in message, message


@then('the connection machine verdict\'s error message includes "{text}"')
def then_includes(context: Any, text: str) -> None:
    message = str(context.cm_verdict.error)
    assert text in message, message


@then("the connection machine verdict's error message is shorter than {limit:d} characters")
def then_short(context: Any, limit: int) -> None:
    message = str(context.cm_verdict.error)
    assert len(message) < limit, len(message)
    assert "xxxx" in message


def _retry_after_cell(cell: str) -> float | str | None:
    if cell == "none":
        return None
    if cell.startswith("float "):
        return float(cell.removeprefix("float "))
    return cell.strip('"')


@then("upgrade refusals with these Retry-After headers give these retry_after hints:")
def then_refusal_hints(context: Any) -> None:
    for row in context.table:
        status = int(row["status"])
        verdict = classify_http_status(
            status,
            body=None,
            has_token_provider=False,
            retry_after=_retry_after_cell(row["retry_after"]),
        )
        expected = _hint(row["hint"])
        assert verdict.retry_after == expected, (row.cells, verdict)
        if status in (429, 503):
            assert verdict.kind is VerdictKind.RETRY
            assert getattr(verdict.error, "retry_after", "missing") == expected, row.cells
        else:
            assert verdict.kind is VerdictKind.FALLBACK


@then("the connection machine verdict's error has the foreign error as its cause")
def then_cause(context: Any) -> None:
    error = context.cm_verdict.error
    assert isinstance(error, ConnectionLostError)
    assert error.__cause__ is context.cm_cause
