"""Secrets never reach a log record: a logging filter that redacts credentials.

The token travels in the ``Authorization`` header (protocol §2), and the
libraries under the transports log headers when their logger is at DEBUG:
websockets writes ``> Authorization: Bearer <token>`` for every handshake. An
application that sets its root logger to DEBUG would print the token. The SDK
therefore puts a :class:`RedactingFilter` on the loggers of the libraries it
drives (:data:`FOREIGN_LOGGERS`) and on its own; the CLI puts one on its
handler too. Whatever the logging level, a record from those loggers reaches
the handlers with ``Authorization`` values, bearer tokens, the
``planstream.bearer.*`` subprotocol and credentials in URLs replaced by
``***``.

Pure: no I/O, no asyncio; the filter rewrites records in place.
"""

from __future__ import annotations

import base64
import logging
import re
from collections.abc import Iterable
from typing import Final

# What users write; the checks the settings and transports share
# (is_credential_parameter, is_header_safe) stay module-level helpers.
__all__ = ["RedactingFilter", "install_redaction", "redact_secrets", "token_forms", "without_token"]

#: What a secret is replaced with.
REDACTED: Final = "***"

#: The loggers that see the token's header or URLs: websockets' client side
#: (it logs request headers at DEBUG), httpx and httpcore (the polling fallback
#: and the CLI's HTTP commands), and planstream's own. A filter on a logger
#: applies to the records created on it, not on its children, hence every name.
FOREIGN_LOGGERS: Final = (
    "websockets.client",
    "websockets.server",
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "planstream",
    "planstream.client",
)

#: The loggers that see the reference server's upgrade requests: websockets'
#: server side writes every request header at DEBUG (``< authorization: ...``,
#: ``< sec-websocket-protocol: planstream.v1, planstream.bearer.<token>``) on
#: the logger uvicorn hands it, ``uvicorn.error``; ``uvicorn.access`` writes
#: request lines. The server app puts the filter on them (protocol §2: the
#: offered subprotocols are never logged).
SERVER_LOGGERS: Final = (
    "uvicorn.error",
    "uvicorn.access",
    "websockets.server",
    "planstream.server",
)

#: Query parameters that carry credentials (compared in lower case, ``-`` as ``_``).
CREDENTIAL_PARAMETERS: Final = frozenset(
    {
        "token",
        "access_token",
        "id_token",
        "refresh_token",
        "auth",
        "auth_token",
        "authorization",
        "bearer",
        "jwt",
        "key",
        "api_key",
        "apikey",
        "secret",
        "client_secret",
        "password",
        "passwd",
        "pwd",
        "session",
        "sessionid",
        "signature",
        "sig",
    }
)

# An Authorization header's value, whatever its scheme, up to the end of the line
# (websockets: "> Authorization: Bearer T"; a dict repr: "'Authorization': 'Bearer T'").
_HEADER: Final = re.compile(r"""(?i)\b((?:proxy-)?authorization['"]?\s*[:=]\s*['"]?)[^'"\r\n]+""")
# A bearer token anywhere (RFC 6750 b64token characters).
_BEARER: Final = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9\-._~+/]+=*")
# protocol §2: the browser form of the token, offered as a subprotocol.
_BEARER_SUBPROTOCOL: Final = re.compile(r"(?i)\b(planstream\.bearer\.)[A-Za-z0-9_\-]+")
# user:password@ in a URL.
_USERINFO: Final = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^/@\s?#]+@")
# ?token=...&api_key=... in a URL or a query string.
_QUERY: Final = re.compile(r"([?&;])([A-Za-z0-9_\-]+)=([^&#\s'\"]*)")


_HEADER_SAFE: Final = re.compile(r"[\x21-\x7e]+")


def is_header_safe(token: str) -> bool:
    """Whether ``token`` can travel as ``Authorization: Bearer <token>`` unaltered
    (printable ASCII, no spaces): an HTTP library refusing it would quote it."""
    return _HEADER_SAFE.fullmatch(token) is not None


def is_credential_parameter(name: str) -> bool:
    """Whether a URL query parameter named ``name`` carries a credential."""
    return name.lower().replace("-", "_") in CREDENTIAL_PARAMETERS


def _query_parameter(match: re.Match[str]) -> str:
    separator, name, value = match.groups()
    if is_credential_parameter(name) and value:
        return f"{separator}{name}={REDACTED}"
    return match.group(0)


def redact_secrets(text: str) -> str:
    """``text`` with every credential it shows replaced by ``***``.

    Covers ``Authorization`` header values, ``Bearer <token>``, the
    ``planstream.bearer.<token>`` subprotocol, ``user:password@`` in URLs and
    credential query parameters (``token``, ``access_token``, ``api_key``...).
    """
    text = _HEADER.sub(rf"\g<1>{REDACTED}", text)
    text = _BEARER.sub(rf"\g<1>{REDACTED}", text)
    text = _BEARER_SUBPROTOCOL.sub(rf"\g<1>{REDACTED}", text)
    text = _USERINFO.sub(rf"\g<1>{REDACTED}@", text)
    return _QUERY.sub(_query_parameter, text)


def token_forms(token: str | None) -> tuple[str, ...]:
    """The forms a token travels in: as sent in the header, and base64url-encoded as
    a ``planstream.bearer.*`` subprotocol; the longest first (none without a token)."""
    if not token:
        return ()
    encoded = base64.urlsafe_b64encode(token.encode()).decode().rstrip("=")
    return tuple(sorted({token, encoded}, key=len, reverse=True))


def without_token(text: str, forms: tuple[str, ...]) -> str:
    """``text`` from a server (an error message, a close reason, a refusal's body)
    with the client's own token (``forms``: :func:`token_forms`) replaced by
    ``***``: a server that echoes the token cannot make the SDK log it or put it
    in an exception. (Log records are also passed through :func:`redact_secrets`
    by :class:`RedactingFilter`; an exception's text keeps words like "bearer
    token" readable.)"""
    for form in forms:
        text = text.replace(form, REDACTED)
    return text


class RedactingFilter(logging.Filter):
    """A logging filter that rewrites each record with its secrets redacted.

    It never drops a record: the message (arguments merged in) and an attached
    traceback's text are redacted, then the record goes on. Put it on a logger
    (records created there) or on a handler (every record it emits).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True
        redacted = redact_secrets(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            # Formatter.format() reuses exc_text: the traceback is printed redacted.
            record.exc_text = redact_secrets(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact_secrets(record.exc_text)
        return True


def install_redaction(names: Iterable[str] = FOREIGN_LOGGERS) -> None:
    """Put a :class:`RedactingFilter` on each named logger, once (idempotent).

    Loggers are process-wide, so this is too; the transports call it before
    each connection, which costs a scan of a few filter lists.
    """
    for name in names:
        target = logging.getLogger(name)
        if not any(isinstance(existing, RedactingFilter) for existing in target.filters):
            target.addFilter(RedactingFilter())
