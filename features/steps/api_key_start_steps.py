"""Steps of features/api_keys.feature: a key file that stops the start, and what
``planstream serve --api-keys`` prints (a :class:`KeyServer` started by api_keys_steps.py)."""

from __future__ import annotations

import base64
import re
from typing import Any

from behave import then, when
from support.api_key_support import (
    KeyEntry,
    KeyServer,
    fill_file,
    key_file_text,
    key_folder,
    sha256_hex,
)
from support.cli_support import run_cli
from support.servers import run

from planstream.errors import PlanStreamError
from planstream.server import ServerSettings, ServerState
from planstream.server.api_keys import ApiKeyFileError

# --- building with a bad file -------------------------------------------------------------


def _placeholders(text: str) -> str:
    text = re.sub(r"\{hash:(\w+)\}", lambda m: sha256_hex(m.group(1)), text)
    return re.sub(r"\{HASH:(\w+)\}", lambda m: sha256_hex(m.group(1)).upper(), text)


@when('a server is built with an API key file holding "{content}"')
def when_built_with_file(context: Any, content: str) -> None:
    context.key_file = key_folder(context) / "bad-keys.toml"
    context.key_file.write_text(_placeholders(content.replace("\\n", "\n")), encoding="utf-8")

    async def build() -> None:
        state = ServerState(ServerSettings(api_keys_file=context.key_file))
        await state.aclose()

    try:
        run(context, build())
    except ApiKeyFileError as exc:
        context.build_error = exc
    else:
        raise AssertionError("the server was built")


@then('building it failed with the message "{message}"')
def then_build_failed(context: Any, message: str) -> None:
    error = context.build_error
    assert isinstance(error, PlanStreamError)
    assert isinstance(error, ValueError)
    assert str(error).startswith(fill_file(context, message)), (str(error), message)


@then("the message quotes no key and no hash")
def then_message_clean(context: Any) -> None:
    text = str(context.build_error)
    assert "ka-dash-5Jq1wQ9z3Lm7Xc2V" not in text, text
    assert not re.search(r"[0-9a-fA-F]{64}", text), text


# --- planstream serve ----------------------------------------------------------------------


@when(
    '"planstream serve" runs with "--api-keys" naming a key file whose second entry has a short hash'
)
def when_serve_bad_file(context: Any) -> None:
    context.key_file = key_folder(context) / "short-hash.toml"
    valid = key_file_text([KeyEntry("a", "ka-dash-5Jq1wQ9z3Lm7Xc2V", "team-a:*", "")])
    context.key_file.write_text(valid + '[[key]]\nname = "b"\nsha256 = "abc"\n', encoding="utf-8")
    context.serve_result = run_cli(
        context, "serve", "--port", "0", "--api-keys", str(context.key_file)
    )


@when('"planstream serve --api-keys {path}" runs')
def when_serve_missing_file(context: Any, path: str) -> None:
    context.serve_result = run_cli(context, "serve", "--port", "0", "--api-keys", path)


@when('"planstream serve" runs with PLANSTREAM_SERVER_API_KEYS_FILE set to "{path}"')
def when_serve_env_missing(context: Any, path: str) -> None:
    env = {"PLANSTREAM_SERVER_API_KEYS_FILE": path}
    context.serve_result = run_cli(context, "serve", "--port", "0", env=env)


@then('the planstream command exits with status 2 and prints only "{line}"')
def then_serve_one_line(context: Any, line: str) -> None:
    result = context.serve_result
    assert result.returncode == 2, str(result)
    assert result.stderr.strip() == fill_file(context, line), str(result)
    assert "listening" not in result.stdout, str(result)


@then('the planstream command exits with status 2 and its last line {how} with "{text}"')
def then_serve_last_line(context: Any, how: str, text: str) -> None:
    result = context.serve_result
    assert result.returncode == 2, str(result)
    last = result.stderr.strip().splitlines()[-1]
    assert how in {"starts", "ends"}, how
    assert last.startswith(text) if how == "starts" else last.endswith(text), str(result)


@then('the server prints "{text}" once')
def then_prints_once(context: Any, text: str) -> None:
    server: KeyServer = context.key_server
    server.wait_for_lines(fill_file(context, text), 1)
    assert server.output.count(fill_file(context, text)) == 1, server.output


@then('the server prints "{text}" once, and "{more}"')
def then_prints_once_and(context: Any, text: str, more: str) -> None:
    then_prints_once(context, text)
    line = next(
        line for line in context.key_server.output.splitlines() if fill_file(context, text) in line
    )
    assert " ERROR " in line, line
    assert line.endswith(more), line


@then(
    "no output of the server, stopped now, holds a key, in the header's or the subprotocol's form"
)
def then_output_keyless(context: Any) -> None:
    server: KeyServer = context.key_server
    assert server.stop() == 0, server.output
    output = server.output
    assert "refused with HTTP 401" in output, output
    for key in context.api_keys.values():
        encoded = base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")
        assert key not in output, key
        assert encoded not in output, key
