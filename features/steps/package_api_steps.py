"""Steps checking the public faces: explicit export lists and the API reference page.

A public name is a decision: features/package.feature lists what each face
(``planstream``, ``planstream.client``, ``planstream.server``, ``planstream.cli``)
exports, and docs/reference/api.md must show exactly those names.
"""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path
from types import ModuleType
from typing import Any

from behave import then

from planstream import errors

ROOT = Path(__file__).resolve().parents[2]
_FACES_IN_DOC = ("planstream.client", "planstream.server", "planstream.cli")


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def _error_classes() -> set[str]:
    return {
        name
        for name, cls in vars(errors).items()
        if inspect.isclass(cls)
        and issubclass(cls, BaseException)
        and cls.__module__ == errors.__name__
    }


def _face(context: Any, name: str) -> ModuleType:
    return context.package_modules[name]


def _exports_exactly(face: ModuleType, expected: list[str]) -> None:
    exported = list(face.__all__)
    assert len(exported) == len(set(exported)), f"{face.__name__}.__all__ has duplicates"
    missing = sorted(set(expected) - set(exported))
    extra = sorted(set(exported) - set(expected))
    decision = "adding a public name is a decision: list it in features/package.feature"
    assert not missing, f"{face.__name__} lacks {missing}"
    assert not extra, f"{face.__name__} exports {extra}, not decided; {decision}"


@then("planstream exports exactly these names:")
def then_top_level_exactly(context: Any) -> None:
    expected: list[str] = []
    for row in context.table:
        if row["group"] == "errors":
            assert row["names"] == "every exception class of planstream.errors", row["names"]
            expected += sorted(_error_classes())
        else:
            expected += _names(row["names"])
    assert set(errors.__all__) == _error_classes(), "every error of the tree is public"
    _exports_exactly(_face(context, "planstream"), expected)


@then("{face} exports exactly these names: {names}")
def then_face_exactly(context: Any, face: str, names: str) -> None:
    _exports_exactly(_face(context, face), _names(names))


def _leaf_modules(context: Any) -> dict[str, ModuleType]:
    """The modules that are not package faces (``__init__``): where names are defined."""
    return {
        name: module
        for name, module in context.package_modules.items()
        if not (module.__file__ or "").endswith("__init__.py")
    }


@then("every name {face} exports is the same object as in the module that defines it")
def then_same_objects(context: Any, face: str) -> None:
    package = _face(context, face)
    leaves = _leaf_modules(context)
    problems = []
    for name in package.__all__:
        value = getattr(package, name)
        if name == "__version__":
            assert isinstance(value, str), value
            continue
        owners = [module for module in leaves.values() if name in getattr(module, "__all__", ())]
        if not any(getattr(owner, name) is value for owner in owners):
            problems.append(f"{name}: not the object of {[owner.__name__ for owner in owners]}")
        defined_in = getattr(value, "__module__", None)
        if (
            defined_in in leaves
            and name in leaves[defined_in].__all__
            and getattr(leaves[defined_in], name) is not value
        ):
            problems.append(f"{name}: differs from {defined_in}.{name}")
    assert not problems, problems


@then("dir({face}) lists every name it exports")
def then_dir_complete(context: Any, face: str) -> None:
    package = importlib.import_module(face)
    missing = sorted(set(package.__all__) - set(dir(package)))
    assert not missing, f"dir({face}) lacks {missing}"


@then("reading a name {face} does not export, such as {name}, raises AttributeError")
def then_unknown_name(context: Any, face: str, name: str) -> None:
    package = importlib.import_module(face)
    assert name not in package.__all__, name
    message = ""
    try:
        getattr(package, name)
    except AttributeError as exc:
        message = str(exc)
    assert message == f"module {face!r} has no attribute {name!r}", message
    assert not hasattr(package, name)


# --- docs/reference/api.md --------------------------------------------------------------


def _sections(path: str) -> dict[str, str]:
    """``## heading`` -> its text, for the page at ``path``."""
    text = (ROOT / path).read_text(encoding="utf-8")
    parts = re.split(r"^## (.+)$", text, flags=re.M)
    return {parts[i].strip(): parts[i + 1] for i in range(1, len(parts), 2)}


def _first_column(text: str) -> list[str]:
    """The names in backticks in the first column of the section's tables."""
    return re.findall(r"^\| `([\w.]+)` \|", text, flags=re.M)


@then('"{path}" lists every name planstream exports, in its groups, and nothing more')
def then_doc_top_level(context: Any, path: str) -> None:
    sections = _sections(path)
    (title,) = [title for title in sections if title.startswith("The top level")]
    groups = re.split(r"^### (.+)$", sections[title], flags=re.M)
    by_group = {groups[i].strip(): _first_column(groups[i + 1]) for i in range(1, len(groups), 2)}
    assert len(by_group) >= 4, sorted(by_group)
    assert all(by_group.values()), by_group
    listed = [name for names in by_group.values() for name in names]
    assert len(listed) == len(set(listed)), "a name listed twice"
    exported = set(_face(context, "planstream").__all__)
    assert set(listed) == exported, (
        f"not in the page: {sorted(exported - set(listed))}; "
        f"not exported: {sorted(set(listed) - exported)}"
    )
    (errors_group,) = [group for group in by_group if "rror" in group]
    assert set(by_group[errors_group]) == set(errors.__all__), by_group[errors_group]


@then('"{path}" lists exactly the names of planstream.client, planstream.server and planstream.cli')
def then_doc_faces(context: Any, path: str) -> None:
    sections = _sections(path)
    for face in _FACES_IN_DOC:
        listed = _first_column(sections[f"`{face}`"])
        exported = _face(context, face).__all__
        assert sorted(listed) == sorted(exported), (face, sorted(listed), sorted(exported))


@then('every module "{path}" names for the advanced pieces exports the names shown with it')
def then_doc_advanced(context: Any, path: str) -> None:
    (title,) = [title for title in _sections(path) if title.startswith("Advanced pieces")]
    rows = re.findall(r"^\| `(planstream[\w.]*)` \| (.+?) \|", _sections(path)[title], re.M)
    assert len(rows) >= 10, rows
    problems = []
    for module_name, shown in rows:
        module = importlib.import_module(module_name)
        names = re.findall(r"`(\w+)`", shown)
        assert names, module_name
        problems += [f"{module_name}.{name}" for name in names if name not in module.__all__]
    assert not problems, f"shown but not exported: {problems}"
