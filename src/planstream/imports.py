"""Lazy re-exports for the package faces (PEP 562), as websockets' ``imports.py`` does.

A face (``planstream``, ``planstream.client``, ``planstream.server``, ...) lists
its public names and the module each lives in; the module is imported the first
time the name is read, so ``import planstream`` or ``import planstream.sequencer``
loads neither the client nor the network stack. The face keeps ``if
TYPE_CHECKING:`` imports of the same names for type checkers and IDEs.

Pure: importlib only (not even typing, to keep ``import planstream`` cheap).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping

TYPE_CHECKING = False  # read by type checkers; spares importing typing at run time
if TYPE_CHECKING:
    from typing import Any

__all__ = ["lazy_import"]


def lazy_import(namespace: dict[str, Any], aliases: Mapping[str, str]) -> None:
    """Give the module whose globals are ``namespace`` a ``__getattr__`` and a ``__dir__``.

    ``aliases`` maps each public name to the module it is imported from on
    first use; the value is then cached in ``namespace``, so later reads cost
    what a plain global does.
    """
    module_name = namespace["__name__"]
    sources = dict(aliases)

    def getattr_(name: str) -> Any:
        try:
            source = sources[name]
        except KeyError:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}") from None
        value = getattr(importlib.import_module(source), name)
        namespace[name] = value
        return value

    def dir_() -> Iterable[str]:
        return sorted({*namespace, *sources})

    namespace["__getattr__"] = getattr_
    namespace["__dir__"] = dir_
