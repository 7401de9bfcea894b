"""Steps checking the package itself: exports, purity, typing marker, error tree."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import pkgutil
from importlib import resources
from pathlib import Path
from types import ModuleType
from typing import Any

from behave import given, then, use_step_matcher, when

import planstream
from planstream import errors
from planstream.errors import EXCERPT_LIMIT, frame_excerpt

use_step_matcher("parse")

#: Names listed in a submodule's ``__all__`` that are deliberately NOT exported
#: from ``planstream``: each is a building block for the package's own modules
#: (or for a server built on them), not something a client user needs.
KEPT_IN_SUBMODULES: dict[str, str] = {
    # Settings internals; users configure through ClientSettings.
    "DEFAULT_URL": "the default of ClientSettings.url, documented there",
    "ENV_PREFIX": "the PLANSTREAM_ prefix, documented with ClientSettings",
    # The sequencer's per-plan record; users read positions through the client.
    "PlanCursor": "the sequencer's per-plan position, a building block of Sequencer",
    "RepairHistory": "a plan's recent repairs, kept by its PlanCursor",
    "RepairPacer": "the sequencer's repair pacing, configured through SequencerSettings",
    # The connection machine's choice of server node; users list nodes in ClientSettings.urls.
    "NodeRing": "the ConnectionStateMachine's round robin over ClientSettings.urls",
    "Position": "a plan's stream position, returned by Sequencer.position()",
}


def _modules() -> dict[str, ModuleType]:
    found = {"planstream": planstream}
    for info in pkgutil.walk_packages(planstream.__path__, "planstream."):
        found[info.name] = importlib.import_module(info.name)
    return found


#: Public namespaces, most specific first: a submodule's public names must be
#: exported by the namespace it lives in (``planstream.server.app`` ->
#: ``planstream.server``; ``planstream.codec`` -> ``planstream``).
NAMESPACES = (
    "planstream.schema",
    "planstream.server",
    "planstream.transport",
    "planstream.client",
    "planstream.cli",
    "planstream",
)


def _namespace_of(module: str) -> str:
    return next(ns for ns in NAMESPACES if module.startswith(ns + "."))


def _defining_modules(context: Any, namespace: str = "planstream") -> dict[str, list[str]]:
    """For each name, the submodules of ``namespace`` whose ``__all__`` lists it."""
    owners: dict[str, list[str]] = {}
    for name, module in context.package_modules.items():
        if name in NAMESPACES or _namespace_of(name) != namespace:
            continue
        for exported in getattr(module, "__all__", ()):
            owners.setdefault(exported, []).append(name)
    return owners


# --- __all__ -------------------------------------------------------------------------


@when("every module of the planstream package is imported")
def when_import_all(context: Any) -> None:
    context.package_modules = _modules()
    assert "planstream.codec" in context.package_modules
    assert "planstream.schema.events" in context.package_modules


@then("every planstream module defines __all__ as a list of unique strings")
def then_all_defined(context: Any) -> None:
    problems = []
    for name, module in context.package_modules.items():
        names = module.__dict__.get("__all__")
        if not isinstance(names, list | tuple):
            problems.append(f"{name}: no __all__")
        elif not all(isinstance(item, str) for item in names):
            problems.append(f"{name}: __all__ holds non-strings")
        elif len(set(names)) != len(names):
            problems.append(f"{name}: __all__ has duplicates")
    assert not problems, problems


@then("every name in each planstream module's __all__ exists in that module")
def then_all_exist(context: Any) -> None:
    missing = [
        f"{name}.{item}"
        for name, module in context.package_modules.items()
        for item in module.__all__
        if not hasattr(module, item)
    ]
    assert not missing, missing


@then(
    "every name in a planstream submodule's __all__ is exported by planstream"
    " or deliberately kept in its submodule"
)
def then_top_level_complete(context: Any) -> None:
    missing = []
    for namespace in NAMESPACES:
        exported = set(context.package_modules[namespace].__all__)
        missing += sorted(
            f"{owners[0]}.{name} (not in {namespace})"
            for name, owners in _defining_modules(context, namespace).items()
            if not name.startswith("_") and name not in exported and name not in KEPT_IN_SUBMODULES
        )
    assert not missing, f"not exported from their namespace: {missing}"


@then(
    "every name deliberately kept in a submodule is really public there"
    " and not exported at the top level"
)
def then_kept_list_current(context: Any) -> None:
    owners = _defining_modules(context)
    stale = [name for name in KEPT_IN_SUBMODULES if name not in owners]
    assert not stale, f"allow-listed but in no submodule's __all__: {stale}"
    exported = [name for name in KEPT_IN_SUBMODULES if name in planstream.__all__]
    assert not exported, f"allow-listed but exported anyway: {exported}"
    assert len(KEPT_IN_SUBMODULES) <= 10, "keep the allow-list short"


@then("every name in planstream.__all__ is the same object as in the submodule defining it")
def then_same_objects(context: Any) -> None:
    problems = []
    for namespace in NAMESPACES:
        problems += _namespace_problems(context, namespace)
    assert not problems, problems


#: Names the top level re-exports from a nested namespace: the client API.
TOP_LEVEL_FROM_CLIENT = ("PlanStreamClient", "Subscription", "ClientStats", "StateChange")


def _namespace_problems(context: Any, namespace: str) -> list[str]:
    owners = _defining_modules(context, namespace)
    if namespace == "planstream":
        client_owners = _defining_modules(context, "planstream.client")
        owners.update({name: client_owners[name] for name in TOP_LEVEL_FROM_CLIENT})
        # The wire models users write (events, frames) come from planstream.schema.
        for name, modules in _defining_modules(context, "planstream.schema").items():
            owners.setdefault(name, modules)
    package = context.package_modules[namespace]
    problems = []
    for name in package.__all__:
        if name == "__version__":
            assert isinstance(planstream.__version__, str)
            continue
        if name not in owners:
            problems.append(f"{name}: in no submodule's __all__")
            continue
        for owner in owners[name]:
            if getattr(context.package_modules[owner], name) is not getattr(package, name):
                problems.append(f"{name}: differs from {owner}.{name}")
    return problems


# --- purity (static) ---------------------------------------------------------------


def _module_file(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    assert spec is not None, name
    assert spec.origin is not None, name
    return Path(spec.origin)


def _expand(name: str) -> list[str]:
    """A module, or a package with every module under it (found on disk)."""
    path = _module_file(name)
    if path.name != "__init__.py":
        return [name]
    names = [name]
    for info in pkgutil.walk_packages([str(path.parent)], f"{name}."):
        names.extend(_expand(info.name) if info.ispkg else [info.name])
    return names


def _resolve_relative(module: str, is_package: bool, level: int, target: str | None) -> str:
    parts = module.split(".")
    base = parts if is_package else parts[:-1]
    base = base[: len(base) - (level - 1)] if level > 1 else base
    return ".".join([*base, target] if target else base)


def _imports(source: str, module: str = "", is_package: bool = False) -> list[tuple[str, int]]:
    """Every module ``source`` imports anywhere (nested, conditional, dynamic).

    Returns ``(module_name, line)``; ``from x import y`` also yields ``x.y``
    (y may be a submodule). Relative imports are resolved against ``module``.
    """
    found: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend((alias.name, node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                if not module:
                    continue
                base = _resolve_relative(module, is_package, node.level, node.module)
            else:
                base = node.module or ""
            found.append((base, node.lineno))
            found.extend((f"{base}.{alias.name}", node.lineno) for alias in node.names)
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            first = node.args[0]
            if (
                called in {"__import__", "import_module"}
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
            ):
                found.append((first.value, node.lineno))
    return found


def _forbidden_in(imports: list[tuple[str, int]], forbidden: set[str]) -> list[str]:
    return [name for name, _ in imports if name.split(".")[0] in forbidden]


@given("the pure planstream modules, packages with all their modules:")
def given_pure_modules(context: Any) -> None:
    context.pure_modules = [name for row in context.table for name in _expand(row["module"])]


@given('the modules forbidden in pure code are "{names}"')
def given_forbidden(context: Any, names: str) -> None:
    context.forbidden_modules = {name.strip() for name in names.split(",")}


@when("every import statement of the pure planstream modules is read with ast")
def when_read_pure_imports(context: Any) -> None:
    context.pure_imports = {}
    for name in context.pure_modules:
        path = _module_file(name)
        source = path.read_text(encoding="utf-8")
        is_package = path.name == "__init__.py"
        context.pure_imports[name] = _imports(source, name, is_package)


@when("this Python source is read for imports with ast:")
def when_read_source(context: Any) -> None:
    context.sample_imports = _imports(context.text)


@then("the import check covered at least {count:d} pure modules, {name} among them")
def then_covered(context: Any, count: int, name: str) -> None:
    assert len(context.pure_imports) >= count, sorted(context.pure_imports)
    assert name in context.pure_imports
    assert all(context.pure_imports.values()), "every module imports something"


@then("no pure planstream module imports a forbidden module")
def then_pure(context: Any) -> None:
    offenders = {
        module: _forbidden_in(imports, context.forbidden_modules)
        for module, imports in context.pure_imports.items()
    }
    offenders = {module: names for module, names in offenders.items() if names}
    assert not offenders, offenders


@then("every planstream module a pure module imports is pure itself")
def then_pure_closure(context: Any) -> None:
    pure = set(context.pure_modules)
    impure = []
    for module, imports in context.pure_imports.items():
        for name, line in imports:
            if name.split(".")[0] != "planstream":
                continue
            if _is_module(name) and name not in pure:
                impure.append(f"{module}:{line} imports {name}")
    assert not impure, impure


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False  # ``from planstream.x import Name``: Name is not a module


@then('the forbidden imports found are "{names}"')
def then_sample_found(context: Any, names: str) -> None:
    found = _forbidden_in(context.sample_imports, context.forbidden_modules)
    expected = {name.strip() for name in names.split(",")}
    assert {name.split(".")[0] for name in found} == expected, found
    allowed = {name for name, _ in context.sample_imports} - set(found)
    assert {"json", "os.path", "typing", "importlib"} <= allowed, allowed


# --- py.typed -------------------------------------------------------------------------


@then("the planstream package ships a py.typed marker")
def then_py_typed(context: Any) -> None:
    marker = resources.files("planstream").joinpath("py.typed")
    assert marker.is_file(), marker
    assert Path(str(marker)).parent == Path(planstream.__file__).parent


# --- the error tree ------------------------------------------------------------------


@when("the exception classes of planstream.errors are collected")
def when_collect_errors(context: Any) -> None:
    context.error_classes = {
        name: cls
        for name, cls in vars(errors).items()
        if inspect.isclass(cls)
        and issubclass(cls, BaseException)
        and cls.__module__ == errors.__name__
    }


@then("there are at least {count:d} planstream exception classes")
def then_error_count(context: Any, count: int) -> None:
    assert len(context.error_classes) >= count, sorted(context.error_classes)


@then("every planstream exception class derives from PlanStreamError")
def then_errors_rooted(context: Any) -> None:
    stray = [
        name
        for name, cls in context.error_classes.items()
        if not issubclass(cls, errors.PlanStreamError)
    ]
    assert not stray, stray
    assert set(context.error_classes) <= set(errors.__all__), "every error is public"


@then("no planstream exception class is both a FatalError and a RetryableError")
def then_fatal_retryable_disjoint(context: Any) -> None:
    both = [
        name
        for name, cls in context.error_classes.items()
        if issubclass(cls, errors.FatalError) and issubclass(cls, errors.RetryableError)
    ]
    assert not both, both
    assert not issubclass(errors.FatalError, errors.RetryableError)
    assert not issubclass(errors.RetryableError, errors.FatalError)


@then("every public exception class of any planstream module derives from PlanStreamError")
def then_all_package_errors_rooted(context: Any) -> None:
    stray = []
    for module in _modules().values():
        for name, cls in vars(module).items():
            if (
                inspect.isclass(cls)
                and issubclass(cls, BaseException)
                and cls.__module__ == module.__name__
                and not name.startswith("_")
                and not issubclass(cls, errors.PlanStreamError)
            ):
                stray.append(f"{module.__name__}.{name}")
    assert not stray, stray


@then("the planstream.errors docstring draws every exception class in its tree")
def then_docstring_tree(context: Any) -> None:
    doc = errors.__doc__ or ""
    missing = [name for name in context.error_classes if name not in doc]
    assert not missing, missing


@then("{error} is a subclass of exactly these planstream errors: {ancestors}")
def then_ancestors(context: Any, error: str, ancestors: str) -> None:
    cls = context.error_classes[error]
    actual = {name for name, other in context.error_classes.items() if issubclass(cls, other)}
    assert actual == {name.strip() for name in ancestors.split(",")}, sorted(actual)
    assert getattr(planstream, error) is cls


# --- frame excerpts ---------------------------------------------------------------------


@then("frame_excerpt keeps short text as it is and cuts long text to {limit:d} characters")
def then_excerpt_text(context: Any, limit: int) -> None:
    assert limit == EXCERPT_LIMIT
    assert frame_excerpt("short") == "short"
    exact = "y" * limit
    assert frame_excerpt(exact) == exact
    cut = frame_excerpt("z" * (limit + 1))
    assert len(cut) == limit
    assert cut == "z" * (limit - 1) + "…"
    assert frame_excerpt("abcdef", limit=4) == "abc…"


@then("frame_excerpt decodes bytes leniently and cuts them to {limit:d} characters")
def then_excerpt_bytes(context: Any, limit: int) -> None:
    assert frame_excerpt(b'{"a":"\xff"}') == '{"a":"\ufffd"}'
    assert frame_excerpt(bytearray(b"xyz")) == "xyz"
    long_multibyte = ("é" * 5000).encode()
    cut = frame_excerpt(long_multibyte)
    assert len(cut) == limit
    assert cut == "é" * (limit - 1) + "…"
