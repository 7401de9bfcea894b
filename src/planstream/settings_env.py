"""The ``PLANSTREAM_*`` variables: their names, errors named after them, and
a warning for the ones no setting reads (pure: no I/O but reading a mapping).

A setting's variable is ``PLANSTREAM_<FIELD>``, nested ``PLANSTREAM_<SECTION>__<FIELD>``
(:func:`env_var_name`). A bad value is reported under that name when the
environment set it, and under the argument's name (``url``,
``reconnect.initial_delay``) when code passed it: an error never sends the user
to a variable they never set (:func:`settings_problems`).

pydantic-settings ignores a variable no field reads, so a misspelling
(``PLANSTREAM_RECONECT__INITIAL_DELAY``) would change nothing in silence.
:func:`warn_unknown_variables` warns about each one with
:class:`~planstream.errors.PlanStreamWarning`, naming the closest known
variable. A warning, not a log record: the package's loggers stay silent
unless the application configures logging, while a ``UserWarning`` is shown
by default (and can be filtered, or made an error in tests).
"""

from __future__ import annotations

import difflib
import sys
import warnings
from collections.abc import Collection, Iterable, Mapping
from typing import Final

from pydantic import BaseModel, ValidationError

from planstream.errors import PlanStreamWarning

__all__ = [
    "ENV_NESTED_DELIMITER",
    "ENV_PREFIX",
    "OTHER_VARIABLE_PREFIXES",
    "env_var_name",
    "known_variables",
    "settings_problems",
    "unknown_variables",
    "warn_unknown_variables",
]

ENV_PREFIX: Final = "PLANSTREAM_"
ENV_NESTED_DELIMITER: Final = "__"

#: Variables of the project that are not client settings, by prefix: the
#: reference server's settings (``planstream.server.settings``) and what the
#: test suite and benchmarks read. Never reported as unknown.
OTHER_VARIABLE_PREFIXES: Final = ("PLANSTREAM_SERVER_", "PLANSTREAM_TEST_", "PLANSTREAM_BENCH_")


#: The modules whose frames a warning skips to reach the user's code.
_OURS: Final = "planstream."


def env_var_name(loc: tuple[int | str, ...], prefix: str = ENV_PREFIX) -> str:
    """The environment variable that sets the field at ``loc``."""
    fields = [str(part) for part in loc if isinstance(part, str)]
    return prefix + ENV_NESTED_DELIMITER.join(fields).upper()


def _argument_name(loc: tuple[int | str, ...]) -> str:
    """``reconnect.initial_delay``, ``urls[1]``: the field at ``loc`` as code names it."""
    name = ""
    for part in loc:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name += f".{part}" if name else part
    return name


def settings_problems(
    exc: ValidationError, prefix: str = ENV_PREFIX, arguments: Collection[str] = ()
) -> list[tuple[str, str]]:
    """``(name, message)`` for each error; input values are left out (secrets).

    ``name`` is the environment variable, or the argument's name when the
    field's top-level name is in ``arguments`` (code passed it: arguments win
    over the environment, so the bad value is the argument's).
    """
    problems = []
    for error in exc.errors(include_input=False, include_url=False):
        loc = error["loc"]
        given = bool(loc) and loc[0] in arguments
        name = _argument_name(loc) if given else env_var_name(loc, prefix)
        problems.append((name, error["msg"].removeprefix("Value error, ")))
    return problems


def known_variables(model: type[BaseModel], prefix: str = ENV_PREFIX) -> frozenset[str]:
    """Every variable that sets a field of ``model``: each field, each section
    (a JSON object) and each field of a section (``PREFIX<SECTION>__<FIELD>``)."""
    names = set()
    for name, field in model.model_fields.items():
        names.add(env_var_name((name,), prefix))
        section = field.annotation
        if isinstance(section, type) and issubclass(section, BaseModel):
            names.update(env_var_name((name, inner), prefix) for inner in section.model_fields)
    return frozenset(names)


def unknown_variables(
    environ: Mapping[str, str],
    known: Collection[str],
    *,
    prefix: str = ENV_PREFIX,
    others: Iterable[str] = OTHER_VARIABLE_PREFIXES,
) -> list[tuple[str, str | None]]:
    """Each ``prefix*`` variable of ``environ`` that no setting reads, with the
    closest known name (None when nothing is close), sorted by name.

    Names compare in upper case, as pydantic-settings reads them.
    """
    skip = tuple(others)
    candidates = sorted(known)
    found = []
    for variable in sorted(environ):
        name = variable.upper()
        if not name.startswith(prefix) or name in known or name.startswith(skip):
            continue
        close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.75)
        found.append((variable, close[0] if close else None))
    return found


def warn_unknown_variables(environ: Mapping[str, str], known: Collection[str]) -> None:
    """Warn (:class:`~planstream.errors.PlanStreamWarning`) about each
    ``PLANSTREAM_*`` variable no setting reads; never shows a value.

    The warning points at the first caller outside planstream (the line that
    built the settings or the client), as a warning about one's own code should.
    """
    unknown = unknown_variables(environ, known)
    if not unknown:
        return
    stacklevel = 2
    frame = sys._getframe(1)  # what warnings.warn walks itself
    while frame.f_back is not None and frame.f_globals.get("__name__", "").startswith(_OURS):
        frame = frame.f_back
        stacklevel += 1
    for variable, closest in unknown:
        hint = f"; did you mean {closest}?" if closest else " (see docs/reference/settings.md)"
        warnings.warn(
            f"{variable} is not a planstream setting and is ignored{hint}",
            PlanStreamWarning,
            stacklevel=stacklevel,
        )
