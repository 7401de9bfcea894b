"""Steps of jwt_auth.feature at start-up and in the log: key files, settings, the log's rate."""

from __future__ import annotations

import json
from typing import Any

from behave import given, then, when
from support.jwt_support import AUDIENCE, ISSUER, ServerLog, claims_for, keyring, other_keys, signed
from support.servers import run

from planstream.server.jwt_auth import JwtVerifier
from planstream.server.jwt_keys import JwtKeys

# --- the log's rate ----------------------------------------------------------------------


@given("a JWT verifier of the shared secret with a manual clock")
def given_manual_verifier(context: Any) -> None:
    ring = keyring(context)
    context.clock_now = 0.0
    context.verifier = JwtVerifier(
        JwtKeys.from_secret(ring.secret), clock=lambda: context.clock_now
    )
    context.server_log = ServerLog()
    context.server_log.attach(context)


@when("it refuses {count:d} expired token at second {second:g}")
@when("it refuses {count:d} expired tokens at second {second:g}")
def when_refuses(context: Any, count: int, second: float) -> None:
    context.clock_now = second
    token = signed(claims_for("expired"), keyring(context).secret, "HS256")
    for _ in range(count):
        assert run(context, context.verifier.verify(token)) is None


@then('it logged {count:d} lines "{text}"')
def then_logged_lines(context: Any, count: int, text: str) -> None:
    assert context.server_log.lines == [text] * count, context.server_log.lines


@then('its last line is "{text}"')
def then_last_line(context: Any, text: str) -> None:
    assert context.server_log.lines[-1] == text, context.server_log.lines
    assert context.verifier.refused == 9, context.verifier.refused


@then("the verifier's repr names its source and algorithms but no key")
def then_repr(context: Any) -> None:
    text = repr(context.verifier)
    assert "shared secret" in text, text
    assert "HS256" in text, text
    assert keyring(context).secret.decode() not in text, text
    key = context.verifier.keys.select(None)
    assert repr(key) == "JwtKey(algorithms=['HS256', 'HS384', 'HS512'])", repr(key)
    assert keyring(context).secret.decode() not in repr(context.verifier.keys), text
    assert run(context, context.verifier.verify(None)) is None


# --- key files at start ------------------------------------------------------------------


def _key_file_contents(context: Any, contents: str) -> bytes | None:
    ring = keyring(context)
    others = other_keys()
    if contents.startswith("the JSON "):
        return contents.removeprefix("the JSON ").encode()
    rsa_jwk = ring.jwk("rsa")
    jwks: dict[str, list[Any]] | None = {
        "a JWKS of one encryption key": {"keys": [ring.jwk("rsa", use="enc")]},
        "a JWKS whose key has the kid 5": {"keys": [ring.jwk("rsa", kid=5)]},
        "a JWKS of a symmetric key": {"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "s"}]},
        "a JWKS of the RSA key twice": {"keys": [rsa_jwk, rsa_jwk]},
        "a JWKS of two keys, one without kid": {
            "keys": [rsa_jwk, {k: v for k, v in ring.jwk("ec").items() if k != "kid"}]
        },
        "a JWKS of an RSA key without its modulus": {
            "keys": [{k: v for k, v in rsa_jwk.items() if k != "n"}]
        },
        "a JWKS of an Ed25519 key": {
            "keys": [
                json.loads(jwt_algorithms().OKPAlgorithm.to_jwk(others["ed25519"].public_key()))
            ]
        },
        "a JWKS of an encryption key and the EC key": {
            "keys": [ring.jwk("rsa", use="enc"), ring.jwk("ec")]
        },
    }.get(contents)
    if jwks is not None:
        return json.dumps(jwks).encode()
    fixed: dict[str, bytes | None] = {
        "a 20-byte secret": b"0123456789abcdefghij\n",
        "nothing, removed after the settings": None,
        "text that is no PEM": b"certainly not a key {\n",
        "the RSA private key": ring.path("rsa-private.pem").read_bytes(),
        "a 1024-bit RSA public key": pem_of(others["rsa-1024"]),
        "an Ed25519 public key": pem_of(others["ed25519"]),
    }
    return fixed[contents]


def jwt_algorithms() -> Any:
    import jwt.algorithms

    return jwt.algorithms


def pem_of(private_key: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return private_key.public_key().public_bytes(  # type: ignore[no-any-return]
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@given("a {setting} file holding {contents}")
def given_key_file(context: Any, setting: str, contents: str) -> None:
    data = _key_file_contents(context, contents)
    path = keyring(context).write(f"key-{setting}", data if data is not None else b"x" * 40)
    context.key_file = path
    context.key_file_data = data
    from planstream.server import ServerSettings

    context.key_settings = ServerSettings(port=0, **{setting: str(path)})
    if data is None:
        path.unlink()  # gone between the settings check and the start


@when("a reference server is built with it")
def when_built(context: Any) -> None:
    from planstream.server import PlanStreamServer

    context.build_error = None
    try:
        context.built = PlanStreamServer(context.key_settings)
    except Exception as exc:
        context.build_error = exc


@then(
    'building it fails with a SettingsError naming PLANSTREAM_SERVER_{variable}, the file and "{problem}", quoting nothing of the file'
)
def then_build_failed(context: Any, variable: str, problem: str) -> None:
    from planstream.errors import SettingsError

    error = context.build_error
    assert isinstance(error, SettingsError), repr(error)
    text = str(error)
    assert f"PLANSTREAM_SERVER_{variable}: {context.key_file}: {problem}" in text, text
    data = context.key_file_data or b""
    for line in data.decode(errors="replace").splitlines():
        if len(line.strip()) >= 12 and "PUBLIC KEY" not in line:
            assert line.strip() not in text, (line, text)


@then("its verifier holds {count:d} key, for {algorithm}")
def then_verifier_keys(context: Any, count: int, algorithm: str) -> None:
    assert context.build_error is None, context.build_error
    verifier = context.built.state.verifier
    assert isinstance(verifier, JwtVerifier), verifier
    assert len(verifier.keys) == count, verifier
    assert verifier.keys.algorithms == [algorithm], verifier
    assert verifier.keys.select("rsa-1") is None  # the encryption key is not there


@when("ServerSettings are built with {settings}")
def when_settings(context: Any, settings: str) -> None:
    from planstream.server import ServerSettings

    ring = keyring(context)
    values = {
        "a secret file and a JWKS file": {
            "jwt_secret_file": ring.path("secret"),
            "jwks_file": ring.path("jwks.json"),
        },
        "a secret file and a public key file": {
            "jwt_secret_file": ring.path("secret"),
            "jwt_public_key_file": ring.path("rsa.pem"),
        },
        "an audience and no key": {"jwt_audience": AUDIENCE},
        "an issuer and no key": {"jwt_issuer": ISSUER},
    }[settings]
    context.build_error = None
    try:
        ServerSettings(**values)
    except Exception as exc:
        context.build_error = exc


@then('building them fails with a SettingsError saying "{message}"')
def then_settings_failed(context: Any, message: str) -> None:
    from planstream.errors import SettingsError

    assert isinstance(context.build_error, SettingsError), repr(context.build_error)
    assert message in str(context.build_error), str(context.build_error)
