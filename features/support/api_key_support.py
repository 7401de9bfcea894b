"""API key files and a ``planstream serve --api-keys`` process for features/api_keys.feature.

A key file is written from a table (name, key, read, publish), hashing each
key as ``planstream token hash`` does; it is replaced atomically (a new inode,
as editors and config managers write). :class:`KeyServer` runs the real
command with its output in files, so a test can wait for a log line while the
server keeps running, and signal it by its process id.
"""

from __future__ import annotations

import hashlib
import logging
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from support.cli_support import CLI, ROOT, cli_env
from support.servers import free_port, on_cleanup

__all__ = [
    "KeyEntry",
    "KeyServer",
    "RecordedLog",
    "fill_file",
    "key_file_text",
    "key_folder",
    "key_path",
    "replace_file",
    "sha256_hex",
]


def sha256_hex(key: str) -> str:
    """What the key file holds for ``key`` (the contract's ``planstream token hash``)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class KeyEntry:
    """One row of a key table: patterns as comma lists ("" for none)."""

    name: str
    key: str
    read: str
    publish: str

    @classmethod
    def from_row(cls, row: Any) -> KeyEntry:
        return cls(row["name"], row["key"], row["read"], row["publish"])


def _patterns(cell: str) -> str:
    items = [item.strip() for item in cell.split(",") if item.strip()]
    return "[" + ", ".join(f'"{item}"' for item in items) + "]"


def key_file_text(entries: Iterable[KeyEntry]) -> str:
    """The TOML of the contract for ``entries``."""
    return "".join(
        f'[[key]]\nname = "{entry.name}"\nsha256 = "{sha256_hex(entry.key)}"\n'
        f"read = {_patterns(entry.read)}\npublish = {_patterns(entry.publish)}\n\n"
        for entry in entries
    )


def key_path(context: Any) -> Path:
    """The scenario's key file (``context.key_file``)."""
    path: Path = context.key_file
    return path


def fill_file(context: Any, text: str) -> str:
    """``text`` with ``{file}`` replaced by the scenario's key file."""
    return text.replace("{file}", str(key_path(context)))


def key_folder(context: Any) -> Path:
    """The scenario's folder for key files (removed after it)."""
    folder: Path | None = getattr(context, "key_folder", None)
    if folder is None:
        folder = context.key_folder = Path(tempfile.mkdtemp(prefix="api-keys-"))

        async def remove() -> None:
            for path in folder.iterdir():
                path.unlink()
            folder.rmdir()

        on_cleanup(context, remove)
    return folder


def replace_file(path: Path, text: str) -> None:
    """Write ``text`` to a new file and rename it over ``path`` (atomic)."""
    fresh = path.with_name(path.name + ".new")
    fresh.write_text(text, encoding="utf-8")
    os.replace(fresh, path)


class RecordedLog(logging.Handler):
    """The records of ``planstream.server`` (INFO and up) while a scenario runs."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []
        self._logger = logging.getLogger("planstream.server")
        self._level = self._logger.level

    def install(self, context: Any) -> RecordedLog:
        self._logger.addHandler(self)
        self._logger.setLevel(logging.INFO)

        async def remove() -> None:
            self._logger.removeHandler(self)
            self._logger.setLevel(self._level)

        on_cleanup(context, remove)
        return self

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def lines(self, level: int | None = None) -> list[str]:
        return [r.getMessage() for r in self.records if level is None or r.levelno == level]


class KeyServer:
    """``planstream serve --port P FLAGS...`` in a subprocess, its output in files."""

    def __init__(self, folder: Path, flags: list[str]) -> None:
        self.port = free_port()
        self.http_url = f"http://127.0.0.1:{self.port}"
        self.url = f"ws://127.0.0.1:{self.port}/v1/stream"
        self._out = folder / "serve.out"
        self._err = folder / "serve.err"
        with self._out.open("wb") as out, self._err.open("wb") as err:
            self.process = subprocess.Popen(
                [*CLI, "serve", "--port", str(self.port), *flags],
                env=cli_env(),
                cwd=ROOT,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
            )

    @property
    def output(self) -> str:
        """Everything it printed so far, stdout then stderr."""
        return self._out.read_text(errors="replace") + self._err.read_text(errors="replace")

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Until ``GET /healthz`` answers 200 (the process may still be importing)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"serve exited early:\n{self.output}"
            try:
                if httpx.get(self.http_url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.05)
        raise AssertionError(f"serve did not answer within {timeout} s:\n{self.output}")

    def wait_for_lines(self, text: str, count: int, timeout: float = 30.0) -> None:
        """Until ``count`` lines of its output hold ``text`` (a generous bound)."""
        deadline = time.monotonic() + timeout
        while self.output.count(text) < count:
            assert time.monotonic() < deadline, f"never {count}x {text!r}:\n{self.output}"
            time.sleep(0.05)

    def sighup(self) -> None:
        """SIGHUP to this process (by its id)."""
        self.process.send_signal(signal.SIGHUP)

    def stop(self) -> int:
        """SIGTERM (coverage writes its data), then wait; SIGKILL if it lingers."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()
