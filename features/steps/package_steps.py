"""Steps checking the package itself: __all__, purity (static), typing marker, error tree.

The public faces are checked in package_api_steps.py, runtime purity and the
CLI start in package_startup_steps.py.
"""

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


def package_modules() -> dict[str, ModuleType]:
    """Every module of the package, imported, by name."""
    found = {"planstream": planstream}
    for info in pkgutil.walk_packages(planstream.__path__, "planstream."):
        found[info.name] = importlib.import_module(info.name)
    return found


# --- __all__ -------------------------------------------------------------------------


@when("every module of the planstream package is imported")
def when_import_all(context: Any) -> None:
    context.package_modules = package_modules()
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
    for module in package_modules().values():
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
