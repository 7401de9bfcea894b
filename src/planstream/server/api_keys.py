"""API keys: a TOML file of key hashes, each with a name and its plan patterns.

The file holds the SHA-256 of each key, never the key::

    [[key]]
    name = "team-a-dashboard"     # the principal's subject: logged
    sha256 = "<64 hex digits>"    # hashlib.sha256(key.encode("utf-8")).hexdigest()
    read = ["team-a:*"]           # plan patterns (PlanScope.of); missing: none
    publish = []

:func:`load_api_keys` checks it whole (a clear :class:`ApiKeyFileError` naming
the file and the entry, never a value); :class:`ApiKeyVerifier` answers a
bearer token with the principal of its key. The verifier reads the file again
on :meth:`ApiKeyVerifier.reload` (``planstream serve`` calls it on SIGHUP) and
when the file changed: at most once per ``check_interval`` a token's
verification looks at the file's identity ``(st_ino, st_mtime_ns, st_size)``,
so there is no background task and an idle server reads nothing. A file that
fails to load keeps the keys in use and logs one error line (per version of
the file, or per reload asked for). Open connections are never touched: a
principal, once given, stays the connection's (removing a key refuses its
next connection, not the open ones).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import time
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from planstream.errors import PlanStreamError
from planstream.server.auth import Principal
from planstream.server.plan_scope import PlanScope

__all__ = ["ApiKey", "ApiKeyFileError", "ApiKeyVerifier", "load_api_keys"]

logger = logging.getLogger("planstream.server")

#: Longest key name (it is logged, and shown in errors).
MAX_NAME_LENGTH: Final = 128
_FIELDS: Final = ("name", "sha256", "read", "publish")
_HEX_DIGEST = re.compile(r"[0-9a-fA-F]{64}")

#: What identifies one version of the file: ``(st_ino, st_mtime_ns, st_size)``.
FileIdentity = tuple[int, int, int]
#: No version failed to load (no real file has a negative inode).
_NO_FAILURE: Final[FileIdentity] = (-1, -1, -1)


class ApiKeyFileError(PlanStreamError, ValueError):
    """The API key file cannot be read or is not a valid key file.

    The message names the file and the entry (``[[key]] #2 (team-b)``) and
    what is wrong with it, never a value from the file.
    """


@dataclass(frozen=True, slots=True)
class ApiKey:
    """One entry of the file: a key's name, its hash's digest and its principal."""

    name: str
    digest: bytes = field(repr=False)
    principal: Principal


def load_api_keys(path: Path) -> tuple[dict[bytes, ApiKey], FileIdentity]:
    """The keys of the file at ``path`` by SHA-256 digest, and the version read.

    Raises:
        ApiKeyFileError: the file cannot be read, is not TOML, or an entry is
            invalid (unknown field, bad name, hash or pattern), or two entries
            share a name or a hash.
    """
    try:
        with path.open("rb") as file:
            identity = _identity(os.fstat(file.fileno()))
            data = tomllib.load(file)
    except OSError as exc:
        raise ApiKeyFileError(
            f"API key file {path}: cannot read it ({exc.strerror or exc})"
        ) from None
    except tomllib.TOMLDecodeError as exc:  # its message says where, not what
        raise ApiKeyFileError(f"API key file {path}: not valid TOML ({exc})") from None
    return _parse(path, data), identity


def _parse(path: Path, data: Mapping[str, object]) -> dict[bytes, ApiKey]:
    def fail(message: str) -> ApiKeyFileError:
        return ApiKeyFileError(f"API key file {path}: {message}")

    extra = sorted(set(data) - {"key"})
    if extra:
        raise fail(f"only [[key]] tables belong here, not {extra[0]!r}")
    entries = data.get("key", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise fail("'key' must be a list of [[key]] tables")
    keys: dict[bytes, ApiKey] = {}
    numbers: dict[str, int] = {}
    for number, entry in enumerate(entries, start=1):
        key = _entry(entry, f"[[key]] #{number}", fail)
        where = f"[[key]] #{number} ({key.name})"
        if key.name in numbers:
            raise fail(f"{where}: the name is already used by [[key]] #{numbers[key.name]}")
        if key.digest in keys:
            other = keys[key.digest].name
            raise fail(f"{where}: the same sha256 as [[key]] #{numbers[other]} ({other})")
        numbers[key.name] = number
        keys[key.digest] = key
    return keys


def _entry(
    entry: Mapping[str, object], where: str, fail: Callable[[str], ApiKeyFileError]
) -> ApiKey:
    name = entry.get("name")
    if not (
        isinstance(name, str)
        and 0 < len(name) <= MAX_NAME_LENGTH
        and name.isascii()
        and name.isprintable()
        and name == name.strip()
    ):
        raise fail(
            f"{where}: 'name' must be 1 to {MAX_NAME_LENGTH} printable ASCII characters "
            "(it is logged)"
        )
    where = f"{where} ({name})"
    unknown = sorted(set(entry) - set(_FIELDS))
    if unknown:
        hint = " (the file holds a key's sha256, never the key)" if "key" in unknown else ""
        raise fail(f"{where}: unknown field {unknown[0]!r}{hint}; the fields: {', '.join(_FIELDS)}")
    sha256 = entry.get("sha256")
    if not isinstance(sha256, str) or not _HEX_DIGEST.fullmatch(sha256):
        raise fail(f"{where}: 'sha256' must be 64 hexadecimal digits, the SHA-256 of the key")
    read = _scope(entry.get("read", []), f"{where}: 'read'", fail)
    publish = _scope(entry.get("publish", []), f"{where}: 'publish'", fail)
    principal = Principal(name, read=read, publish=publish)
    return ApiKey(name, bytes.fromhex(sha256), principal)


def _scope(value: object, where: str, fail: Callable[[str], ApiKeyFileError]) -> PlanScope:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise fail(f"{where} must be a list of plan patterns (strings)")
    try:
        return PlanScope.of(value)
    except ValueError as exc:  # the pattern is quoted: patterns are no secret
        raise fail(f"{where}: {exc}") from None


class ApiKeyVerifier:
    """Bearer tokens that are API keys of a key file (a :class:`TokenVerifier`).

    The presented token is hashed and its digest looked up in a dict. That
    lookup is constant-time enough: its timing can only depend on the digest
    of what the caller sent, and learning how close a digest comes to a stored
    one does not help find a key (that would take a SHA-256 preimage). No key
    is ever held, only digests.

    Args:
        path: the TOML key file, loaded now.
        clock: monotonic seconds (tests inject their own).
        check_interval: how often, at most, a verification looks whether the
            file changed, s.

    Raises:
        ApiKeyFileError: the file cannot be loaded (see :func:`load_api_keys`).
    """

    def __init__(
        self,
        path: Path | str,
        *,
        clock: Callable[[], float] = time.monotonic,
        check_interval: float = 1.0,
    ) -> None:
        self.path = Path(path)
        self._clock = clock
        self._check_interval = check_interval
        self._keys, self._identity = load_api_keys(self.path)
        self._failed: FileIdentity | None = _NO_FAILURE  # None: the file was missing
        self._next_check = clock() + check_interval

    def __repr__(self) -> str:
        return f"ApiKeyVerifier({str(self.path)!r}, {len(self._keys)} keys)"

    @property
    def names(self) -> tuple[str, ...]:
        """The names of the keys in use, in file order."""
        return tuple(key.name for key in self._keys.values())

    async def verify(self, token: str | None) -> Principal | None:
        """The principal of the key ``token`` is, or None."""
        if token is None:
            return None
        self._reload_if_changed()
        # surrogatepass: whatever string an embedder passes hashes, never raises
        digest = hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
        key = self._keys.get(digest)
        return None if key is None else key.principal

    def reload(self) -> None:
        """Read the file again now (SIGHUP); a bad file keeps the keys in use."""
        self._load(_stat_identity(self.path))

    def _reload_if_changed(self) -> None:
        now = self._clock()
        if now < self._next_check:
            return
        self._next_check = now + self._check_interval
        identity = _stat_identity(self.path)
        if identity != self._identity and identity != self._failed:
            self._load(identity)

    def _load(self, seen: FileIdentity | None) -> None:
        try:
            keys, identity = load_api_keys(self.path)
        except ApiKeyFileError as exc:
            # once per version of the file (or per SIGHUP): the next check skips it
            self._failed = seen
            logger.error("%s; the %d keys loaded before stay in use", exc, len(self._keys))
            return
        before = {key.name for key in self._keys.values()}
        after = {key.name for key in keys.values()}
        self._keys, self._identity, self._failed = keys, identity, _NO_FAILURE
        logger.info(
            "API keys reloaded from %s: %d keys (added: %s; removed: %s)",
            self.path,
            len(keys),
            ", ".join(sorted(after - before)) or "none",
            ", ".join(sorted(before - after)) or "none",
        )


def _identity(stat: os.stat_result) -> FileIdentity:
    return (stat.st_ino, stat.st_mtime_ns, stat.st_size)


def _stat_identity(path: Path) -> FileIdentity | None:
    """The file's identity now; None when it cannot be looked at (gone, unreadable)."""
    try:
        return _identity(path.stat())
    except OSError:
        return None
