"""Set (and clear) environment variables for one block of a step, then restore them."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager


@contextmanager
def environment(values: dict[str, str], *, cleared: Iterable[str] = ()) -> Iterator[None]:
    """``values`` set and ``cleared`` unset while the block runs; all restored after it."""
    names = {*values, *cleared}
    saved = {name: os.environ.get(name) for name in names}
    for name in cleared:
        os.environ.pop(name, None)
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
