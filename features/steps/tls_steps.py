"""Steps of features/tls.feature: wss:// and https:// with a trustme CA.

``context.tls`` holds the PEM files (:class:`~support.security_support.TlsFiles`);
``context.server`` the reference server (serving the certificate, or plain);
``context.outcome`` the last SDK stream; ``context.cli`` the last command.
"""

from __future__ import annotations

import shlex
import time
from typing import Any

import httpx
from behave import given, then, when
from support.cli_support import CLI, run_cli, start_background
from support.env_vars import environment
from support.security_support import TlsFiles, stream_plan
from support.servers import free_port, run, start_reference_server

from planstream import ClientSettings, SettingsError
from planstream.server import ServerSettings


def _environment(**variables: str) -> Any:
    return environment(variables)


@given('a test CA and a certificate it issued for "{host}" only')
def given_tls_files(context: Any, host: str) -> None:
    context.tls = TlsFiles(host)


@given('a reference server serving that certificate, with plan "{plan_id}" finished')
def given_tls_server(context: Any, plan_id: str) -> None:
    server = start_reference_server(
        context, ssl_certfile=context.tls.server_cert, ssl_keyfile=context.tls.server_key
    )
    assert server.url.startswith("wss://127.0.0.1:"), server.url
    for status in ("running", "succeeded"):
        run(context, server.publish(plan_id, "plan.status", {"status": status, "reason": None}))


def _stream(
    context: Any, plan_id: str, transport: str, host: str = "127.0.0.1", **options: Any
) -> None:
    url = context.server.url.replace("127.0.0.1", host)
    environment = options.pop("environment", {})
    with _environment(**environment):
        settings = ClientSettings(
            url=url,
            transport=transport,
            reconnect={"initial_delay": 0.05, "max_delay": 0.05},
            polling={"fallback_after": 1, "wait": 1},
            **options.pop("settings", {}),
        )
    context.outcome = run(context, stream_plan(plan_id, settings=settings, seconds=5, **options))


@when('the SDK streams "{plan_id}" over "{transport}" with PLANSTREAM_SSL__CA_FILE set to the CA')
def when_stream_ca_env(context: Any, plan_id: str, transport: str) -> None:
    _stream(
        context, plan_id, transport, environment={"PLANSTREAM_SSL__CA_FILE": context.tls.ca_file}
    )


@when(
    'the SDK streams "{plan_id}" over "{transport}" with PlanStreamClient(ssl=...) trusting the CA'
)
def when_stream_context(context: Any, plan_id: str, transport: str) -> None:
    _stream(context, plan_id, transport, ssl=context.tls.context())


@when('the SDK streams "{plan_id}" over "{transport}" with a client certificate issued by the CA')
def when_stream_client_cert(context: Any, plan_id: str, transport: str) -> None:
    tls = context.tls
    section = {"ca_file": tls.ca_file, "cert_file": tls.client_cert, "key_file": tls.client_key}
    _stream(context, plan_id, transport, settings={"ssl": section})


@when(
    'the SDK streams "{plan_id}" over "{transport}" to host "{host}" with PLANSTREAM_SSL__VERIFY=false'
)
def when_stream_no_verify(context: Any, plan_id: str, transport: str, host: str) -> None:
    _stream(context, plan_id, transport, host, environment={"PLANSTREAM_SSL__VERIFY": "false"})


@when(
    'the SDK streams "{plan_id}" over "{transport}" to host "{host}" trusting {trust}, '
    "retrying every 0.05 s"
)
def when_stream_untrusted(
    context: Any, plan_id: str, transport: str, host: str, trust: str
) -> None:
    files = {"another CA": context.tls.other_ca_file, "the CA": context.tls.ca_file}
    section = {"ca_file": files[trust]} if trust in files else {}
    _stream(context, plan_id, transport, host, settings={"ssl": section})


@when('the SDK streams "{plan_id}" over "{transport}" with wss:// to the reference server')
def when_stream_wss_to_plain(context: Any, plan_id: str, transport: str) -> None:
    url = context.server.url.replace("ws://", "wss://")
    settings = ClientSettings(url=url, transport=transport, ssl={"ca_file": context.tls.ca_file})
    context.outcome = run(context, stream_plan(plan_id, settings=settings, seconds=5))


@then('it received the {count:d} events of "{plan_id}"')
def then_received(context: Any, count: int, plan_id: str) -> None:
    outcome = context.outcome
    assert outcome.error is None, outcome
    assert outcome.seqs == list(range(1, count + 1)), outcome


@then('the stream failed with a TLSError saying "{says}" without a retry')
def then_tls_fatal(context: Any, says: str) -> None:
    from planstream import TLSError  # here: the scenario also runs on code without TLS

    outcome = context.outcome
    assert isinstance(outcome.error, TLSError), outcome
    assert says in str(outcome.error), outcome.error
    assert outcome.failures, outcome
    assert outcome.retries == 0, outcome  # fatal: no retry was scheduled


# --- bad settings ---------------------------------------------------------------------


def _refused(build: Any, variable: str) -> None:
    try:
        build()
    except SettingsError as exc:
        problems = exc.problems
    else:
        raise AssertionError("the settings were accepted")
    assert variable in [name for name, _ in problems], problems


@then(
    'client settings with PLANSTREAM_SSL__CA_FILE pointing to a text file fail naming "{variable}"'
)
def then_ca_text(context: Any, variable: str) -> None:
    with _environment(PLANSTREAM_SSL__CA_FILE=context.tls.text_file):
        _refused(ClientSettings, variable)


@then('client settings with PLANSTREAM_SSL__CA_FILE pointing nowhere fail naming "{variable}"')
def then_ca_missing(context: Any, variable: str) -> None:
    with _environment(PLANSTREAM_SSL__CA_FILE=str(context.tls.directory / "missing.pem")):
        _refused(ClientSettings, variable)


@then('client settings with a key file but no certificate file fail naming "{variable}"')
def then_key_alone(context: Any, variable: str) -> None:
    _refused(lambda: ClientSettings(ssl={"key_file": context.tls.client_key}), variable)


@then('client settings with a client certificate that is not PEM fail naming "{variable}"')
def then_cert_not_pem(context: Any, variable: str) -> None:
    _refused(lambda: ClientSettings(ssl={"cert_file": context.tls.text_file}), variable)


@then('server settings with an ssl key file but no certificate file fail naming "{variable}"')
def then_server_key_alone(context: Any, variable: str) -> None:
    _refused(lambda: ServerSettings(ssl_keyfile=context.tls.server_key), variable)


# --- the CLI ----------------------------------------------------------------------------


@given('"planstream serve" runs with --ssl-certfile and --ssl-keyfile of that certificate')
def given_tls_serve(context: Any) -> None:
    port = free_port()
    tls = context.tls
    args = [*CLI, "serve", "--port", str(port)]
    args += ["--ssl-certfile", tls.server_cert, "--ssl-keyfile", tls.server_key]
    context.tls_serve = start_background(context, args)
    context.tls_base = f"https://127.0.0.1:{port}"
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            if httpx.get(context.tls_base + "/healthz", verify=tls.context()).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise AssertionError("planstream serve --ssl-certfile did not answer over https")


@then('it printed that it listens on "{prefix}"')
def then_serve_listens(context: Any, prefix: str) -> None:
    process = context.tls_serve.process
    line = process.stdout.readline()
    assert line.startswith(f"planstream server listening on {prefix}:"), line


@when('"planstream {command}" runs against it with --ca-file')
def when_cli_ca_file(context: Any, command: str) -> None:
    args = shlex.split(command)
    context.cli = run_cli(
        context, *args, "--url", context.tls_base, "--ca-file", context.tls.ca_file
    )


@when('"planstream {command}" runs against it without --ca-file')
def when_cli_no_ca_file(context: Any, command: str) -> None:
    args = [*command.split(), "--url", context.tls_base]
    if args[0] == "watch":
        args += ["--connect-timeout", "5"]
    context.cli = run_cli(context, *args)


@then('the TLS command exits with status {status:d} and printed "{text}"')
def then_tls_cli_printed(context: Any, status: int, text: str) -> None:
    assert context.cli.returncode == status, str(context.cli)
    assert text in context.cli.stdout + context.cli.stderr, str(context.cli)
