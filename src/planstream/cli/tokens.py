"""``planstream token``: mint a development JWT, hash an API key (issue 16).

``create`` signs an HS256 JWT with a shared secret file (the one the server
reads with ``--jwt-secret-file``) and prints it on stdout; ``hash`` reads one
API key from stdin, or from a hidden prompt on a terminal, and prints the
SHA-256 hex digest the keys file holds. A key never comes from the command
line: other users of the machine can read a process's arguments.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Final, TextIO

import click

from planstream.cli.failures import EXIT_OK, CommandError

__all__ = ["parse_ttl", "run_create", "run_hash"]

_UNITS: Final = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_TTL = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd]?)")
#: Longest lifetime ``create`` signs: a development token, not a credential for ever.
MAX_TTL_S: Final = 366 * 86400


def parse_ttl(text: str) -> float:
    """Seconds of ``90``, ``90s``, ``30m``, ``1h``, ``2d`` (positive, at most 366 days).

    Raises:
        CommandError: anything else.
    """
    match = _TTL.fullmatch(text.strip().lower())
    seconds = float(match.group(1)) * _UNITS[match.group(2)] if match else 0.0
    if not 0 < seconds <= MAX_TTL_S:
        raise CommandError(
            f"--ttl {text!r} is not a lifetime: give seconds or a number with s, m, h or d "
            "(90, 30m, 1h, 2d; at most 366d)"
        )
    return seconds


def _patterns(values: Sequence[str]) -> list[str]:
    """The patterns of a repeatable option; ``''`` stands for none."""
    return [value for value in values if value != ""]


def run_create(
    *,
    secret_file: str,
    read: Sequence[str],
    publish: Sequence[str],
    ttl: str,
    subject: str,
    audience: str | None,
    issuer: str | None,
    out: TextIO,
) -> int:
    """Print a JWT granting ``read`` and ``publish`` for ``ttl``."""
    # PyJWT and cryptography: loaded for this command only.
    from planstream.server.jwt_auth import mint_token
    from planstream.server.jwt_keys import MIN_SECRET_BYTES

    lifetime = parse_ttl(ttl)
    try:
        secret = Path(secret_file).read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read the secret file {secret_file}: {exc.strerror}") from None
    if len(secret.strip()) < MIN_SECRET_BYTES:
        raise CommandError(
            f"the secret file {secret_file} is too short: a shared secret must hold at least "
            f"{MIN_SECRET_BYTES} bytes"
        )
    try:
        token = mint_token(
            secret,
            read=_patterns(read),
            publish=_patterns(publish),
            ttl=lifetime,
            subject=subject,
            audience=audience,
            issuer=issuer,
        )
    except ValueError as exc:  # a pattern outside the plan id alphabet
        raise CommandError(str(exc)) from None
    out.write(token + "\n")
    return EXIT_OK


def read_key(stdin: TextIO) -> str:
    """One API key: a hidden prompt on a terminal, else the whole of stdin (one line)."""
    if stdin.isatty():
        text = click.prompt("API key", hide_input=True, err=True, default="", show_default=False)
    else:
        text = stdin.read()
    key = text.strip()
    if not key:
        raise CommandError("no API key given: pipe it on stdin (planstream token hash < key-file)")
    if "\n" in key or "\r" in key:
        raise CommandError("stdin holds several lines: give one API key per run")
    return key


def run_hash(stdin: TextIO, out: TextIO) -> int:
    """Print the SHA-256 of the key read from ``stdin`` (the keys file's ``sha256``)."""
    key = read_key(stdin)
    out.write(hashlib.sha256(key.encode("utf-8")).hexdigest() + "\n")
    return EXIT_OK
