"""Steps of features/cli_view.feature about the edges: ``--url`` handling and how a
command body's outcome becomes an exit status and one stderr line."""

from __future__ import annotations

import io
from contextlib import redirect_stderr
from typing import Any

from behave import then, when

from planstream import SettingsError
from planstream.cli.endpoints import stream_url
from planstream.cli.failures import CommandError, run_command
from planstream.transport.polling import http_base_url

# --- URLs ---------------------------------------------------------------------------------


@then('the URL "{url}" gives the stream URL "{stream}" and the HTTP base "{http}"')
def then_urls(context: Any, url: str, stream: str, http: str) -> None:
    assert stream_url(url) == stream, stream_url(url)
    # The HTTP commands' base (cli/http_api.py): the stream URL, then the SDK's conversion.
    http_base = http_base_url(stream_url(url))
    assert http_base == http, http_base


@then('the URL "{url}" is refused with "{message}"')
def then_url_refused(context: Any, url: str, message: str) -> None:
    refusal: CommandError | None = None
    try:
        stream_url(url)  # every command's --url goes through it, the HTTP ones too
    except CommandError as exc:
        refusal = exc
    assert refusal is not None, f"stream_url({url!r}) passed"
    assert str(refusal) == message, str(refusal)
    assert refusal.exit_code == 2


# --- exit statuses ---------------------------------------------------------------------------


def _body(does: str) -> Any:
    def body() -> int:
        if does == "returns 1":
            return 1
        if does == "raises CommandError 'no plan' exit 2":
            raise CommandError("no plan", 2)
        if does == "raises a task group of a CommandError":
            raise ExceptionGroup(
                "in a task group", [ExceptionGroup("inner", [CommandError("no plan")])]
            )
        if does == "raises SettingsError":
            raise SettingsError([("PLANSTREAM_URL", "bad")])
        if does == "raises RuntimeError on two lines":
            raise RuntimeError("boom\nsecond line")
        assert does == "is interrupted", does
        raise KeyboardInterrupt

    return body


@when("a command body that {does} runs")
def when_command_body(context: Any, does: str) -> None:
    stderr = io.StringIO()
    with redirect_stderr(stderr):
        try:
            run_command(_body(does), debug=False)
        except SystemExit as exc:
            context.body_status = exc.code
    context.body_stderr = stderr.getvalue()


@then('the command body exited with status {status:d} and wrote "{text}" on stderr')
def then_command_body(context: Any, status: int, text: str) -> None:
    assert context.body_status == status, context.body_status
    assert context.body_stderr == (text + "\n" if text else ""), context.body_stderr


@then('the command body exited with status {status:d} and wrote "" on stderr')
def then_command_body_silent(context: Any, status: int) -> None:
    then_command_body(context, status, "")
