"""JWT bearer tokens: verified with PyJWT, turned into a :class:`Principal` (issue 16).

:class:`JwtVerifier` checks a token against the keys of
:mod:`planstream.server.jwt_keys` (the key decides the algorithm), then its
claims: ``exp`` (required unless ``allow_no_exp``), ``nbf`` and ``iat``, with
``leeway`` seconds of clock skew; ``iss`` and ``aud`` when configured. The
permissions come from the ``planstream`` claim::

    {"sub": "dashboard-a", "exp": 1767225600,
     "planstream": {"read": ["team-a:*"], "publish": []}}

A token without that claim may do nothing (a token minted for another
service must not read everything); a missing ``read`` or ``publish`` inside
it means nothing for that action; a bad pattern or a wrong type refuses the
token. ``Principal.expires_at`` is ``exp``: the connection closes with 4001
then (protocol §4).

Any failure is ``None`` (HTTP 401, the generic body); why is logged at INFO,
a few lines per 10 s, never with the token or anything read from it.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

import jwt
from jwt.types import Options

from planstream.log_limiter import LogLimiter
from planstream.server.auth import Principal
from planstream.server.jwt_keys import JwtKeyError, JwtKeys
from planstream.server.plan_scope import PlanScope
from planstream.server.settings import SERVER_ENV_PREFIX, ServerSettings

__all__ = ["PERMISSION_CLAIM", "JwtVerifier", "jwt_verifier_from_settings", "mint_token"]

#: The claim holding the permissions: ``{"read": [patterns], "publish": [patterns]}``.
PERMISSION_CLAIM: Final = "planstream"
#: A ``sub`` longer than this, or not printable ASCII, is logged as a stand-in.
_MAX_SUBJECT: Final = 128

logger = logging.getLogger("planstream.server")


class _Refused(Exception):  # noqa: N818 - an outcome, caught in verify()
    """Why a token was refused, in words safe to log (nothing the token says)."""


# PyJWT's errors, most specific first, as a reason that names no claim value.
_REASONS: Final[tuple[tuple[type[Exception], str], ...]] = (
    (jwt.ExpiredSignatureError, "it has expired"),
    (jwt.ImmatureSignatureError, "it is not valid yet (nbf or iat in the future)"),
    (jwt.InvalidAudienceError, "its audience is not this server's"),
    (jwt.InvalidIssuerError, "its issuer is not the expected one"),
    (jwt.InvalidAlgorithmError, "its algorithm is not the key's"),
    (jwt.InvalidSignatureError, "its signature does not verify"),
    (jwt.InvalidKeyError, "the key does not fit its algorithm"),
    (jwt.DecodeError, "it is not a well-formed JWT"),
)


class JwtVerifier:
    """A :class:`~planstream.server.auth.TokenVerifier` for JWTs.

    Args:
        keys: the verification keys (a secret, a public key or a JWKS).
        audience: the ``aud`` a token must name (None: a token naming any is refused).
        issuer: the ``iss`` a token must carry (None: not checked).
        leeway: clock skew tolerated on ``exp``, ``nbf`` and ``iat``, seconds.
        allow_no_exp: accept tokens without ``exp`` (they never expire).
        clock: monotonic seconds, for the rate of the log lines.
    """

    def __init__(
        self,
        keys: JwtKeys,
        *,
        audience: str | None = None,
        issuer: str | None = None,
        leeway: float = 30.0,
        allow_no_exp: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.keys = keys
        self.audience = audience
        self.issuer = issuer
        self.leeway = leeway
        self.allow_no_exp = allow_no_exp
        self._clock = clock
        self._log_lines = LogLimiter(10.0, 5)
        self.refused = 0

    def __repr__(self) -> str:
        return (
            f"JwtVerifier(keys={self.keys!r}, audience={self.audience!r}, "
            f"issuer={self.issuer!r}, leeway={self.leeway:g})"
        )

    async def verify(self, token: str | None) -> Principal | None:
        """The principal of a valid ``token``; None (401) for anything else."""
        if token is None:
            return None
        try:
            return self._principal(token)
        except _Refused as refused:
            self._note_refusal(str(refused))
            return None

    def _principal(self, token: str) -> Principal:
        """Verify ``token`` and read its principal.

        Raises:
            _Refused: the token is invalid (the reason is safe to log).
        """
        try:
            header = jwt.get_unverified_header(token)
            kid = header.get("kid")
            key = self.keys.select(kid if isinstance(kid, str) else None)
            if key is None:
                raise _Refused("no key has its kid")
            options: Options = {
                "require": [] if self.allow_no_exp else ["exp"],
                "enforce_minimum_key_length": True,
            }
            claims = jwt.decode(
                token,
                key.key,
                algorithms=list(key.algorithms),
                options=options,
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
            )
        except jwt.MissingRequiredClaimError as missing:
            raise _Refused(f"it has no {missing.claim} claim") from None
        except (jwt.PyJWTError, ValueError, TypeError, RecursionError) as exc:
            raise _Refused(_reason(exc)) from None
        return _principal_of(claims)

    def _note_refusal(self, reason: str) -> None:
        self.refused += 1
        silenced = self._log_lines.allow(self._clock())
        if silenced is None:
            return
        note = f" ({silenced} similar lines suppressed)" if silenced else ""
        logger.info("JWT refused: %s%s", reason, note)


def _reason(exc: Exception) -> str:
    for kind, reason in _REASONS:
        if isinstance(exc, kind):
            return reason
    return "its claims are invalid"


def _principal_of(claims: Mapping[str, Any]) -> Principal:
    """The principal a verified token's claims describe."""
    for name in ("exp", "nbf", "iat"):
        value = claims.get(name)
        if value is not None and not _is_time(value):
            raise _Refused(f"its {name} claim is not a number")  # RFC 7519 §2: NumericDate
    exp = claims.get("exp")
    read, publish = _scopes(claims.get(PERMISSION_CLAIM))
    return Principal(
        _subject(claims.get("sub")),
        read=read,
        publish=publish,
        expires_at=None if exp is None else float(exp),
    )


def _is_time(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _scopes(claim: object) -> tuple[PlanScope, PlanScope]:
    """The read and publish scopes of the ``planstream`` claim (none without it)."""
    if claim is None:
        return PlanScope.nothing(), PlanScope.nothing()
    if not isinstance(claim, dict):
        raise _Refused(f"its {PERMISSION_CLAIM} claim is not an object")
    scopes = []
    for action in ("read", "publish"):
        patterns = claim.get(action, [])
        if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
            raise _Refused(f"{PERMISSION_CLAIM}.{action} is not a list of strings")
        try:
            scopes.append(PlanScope.of(patterns))
        except ValueError:
            raise _Refused(f"{PERMISSION_CLAIM}.{action} holds an invalid plan pattern") from None
    return scopes[0], scopes[1]


def _subject(sub: object) -> str:
    """``sub`` when it is safe to log; otherwise a stand-in that still tells subjects apart."""
    if sub is None or sub == "":
        return "jwt"
    text = str(sub)
    if len(text) <= _MAX_SUBJECT and text.isascii() and text.isprintable():
        return text
    return "jwt:" + hashlib.sha256(text.encode("utf-8", "backslashreplace")).hexdigest()[:16]


def jwt_verifier_from_settings(settings: ServerSettings) -> JwtVerifier | None:
    """The JWT verifier the settings describe, or None when no JWT key is set.

    Raises:
        JwtKeyError: the key file cannot be read or is not a key (at start).
    """
    sources: tuple[tuple[str, Any, Callable[..., JwtKeys]], ...] = (
        ("jwt_secret_file", settings.jwt_secret_file, JwtKeys.from_secret),
        ("jwt_public_key_file", settings.jwt_public_key_file, JwtKeys.from_public_key_pem),
        ("jwks_file", settings.jwks_file, JwtKeys.from_jwks),
    )
    for field, path, load in sources:
        if path is None:
            continue
        setting = SERVER_ENV_PREFIX + field.upper()
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise JwtKeyError(setting, path, f"cannot be read ({exc.strerror})") from None
        keys = load(data, setting=setting, path=path)
        return JwtVerifier(
            keys,
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            leeway=settings.jwt_leeway,
            allow_no_exp=settings.jwt_allow_no_exp,
        )
    return None


def mint_token(
    secret: bytes,
    *,
    read: Iterable[str],
    publish: Iterable[str] = (),
    ttl: float,
    subject: str,
    audience: str | None = None,
    issuer: str | None = None,
    now: float | None = None,
) -> str:
    """An HS256 JWT for development (``planstream token create``, tests).

    Args:
        secret: the shared secret (at least 32 bytes once stripped).
        read, publish: plan patterns per action (checked like the server does).
        ttl: lifetime in seconds (``exp`` rounds up to a whole second).
        subject, audience, issuer: the ``sub``, ``aud`` and ``iss`` claims.
        now: the issue time (Unix seconds; default: the clock).

    Raises:
        ValueError: a pattern is invalid, ``ttl`` is not positive, or the
            secret is too short.
    """
    if not ttl > 0 or not math.isfinite(ttl):
        raise ValueError("the lifetime must be a positive number of seconds")
    keys = _secret_keys(secret)
    issued = time.time() if now is None else now
    claims: dict[str, Any] = {
        "sub": subject,
        "iat": math.floor(issued),
        "exp": math.ceil(issued + ttl),
        PERMISSION_CLAIM: {
            "read": list(PlanScope.of(read).patterns),
            "publish": list(PlanScope.of(publish).patterns),
        },
    }
    if audience is not None:
        claims["aud"] = audience
    if issuer is not None:
        claims["iss"] = issuer
    key = keys.select(None)
    assert key is not None  # a secret's one key
    return jwt.encode(claims, key.key, algorithm="HS256")


def _secret_keys(secret: bytes) -> JwtKeys:
    try:
        return JwtKeys.from_secret(secret)
    except JwtKeyError:
        raise ValueError("the shared secret is too short: it must hold at least 32 bytes") from None
