"""Helpers shared by the schema feature's steps."""

from __future__ import annotations


def raw_text(raw: str | bytes | bytearray) -> str:
    return raw if isinstance(raw, str) else bytes(raw).decode("utf-8", errors="replace")
