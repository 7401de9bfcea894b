"""What ``pip install -e SPEC`` of a doc block stands for in the docs run.

The docs-execution test does not build a second virtualenv for every install
line of the docs (a minute each); it runs in the environment the suite was
installed into and checks, instead, that this environment is what the line
promises: planstream installed from this checkout, and every requirement of
the extras the line names (``.[dev]``, ``.[fastapi]``, ...) present in a
version that satisfies it. An extra that pyproject.toml does not define fails.

Usage: ``python doc_install_check.py '.[EXTRA,...]'`` (exit 0, or 1 with the reason).
"""

from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]


def _extras(spec: str) -> set[str]:
    found = re.fullmatch(r"\.(?:\[([\w,\s-]*)\])?", spec.strip("'\""))
    if found is None:
        raise SystemExit(f"not an install of this checkout: {spec!r}")
    return {extra.strip() for extra in (found.group(1) or "").split(",") if extra.strip()}


def missing_requirements(extras: set[str]) -> list[str]:
    """Requirements of planstream with ``extras`` not satisfied here (recursive)."""
    dist = metadata.distribution("planstream")
    known = set(dist.metadata.get_all("Provides-Extra") or [])
    unknown = extras - known
    if unknown:
        return [f"planstream has no extra {sorted(unknown)} (it has {sorted(known)})"]
    missing = []
    pending, seen = {"", *extras}, set()
    while pending:
        extra = pending.pop()
        seen.add(extra)
        for line in dist.requires or []:
            requirement = Requirement(line)
            wanted = requirement.marker is None if extra == "" else False
            if requirement.marker is not None and extra:
                wanted = requirement.marker.evaluate({"extra": extra})
            if not wanted:
                continue
            if requirement.name == "planstream":
                pending |= set(requirement.extras) - seen
                continue
            try:
                version = metadata.version(requirement.name)
            except metadata.PackageNotFoundError:
                missing.append(f"{line}: not installed")
                continue
            if not requirement.specifier.contains(version, prereleases=True):
                missing.append(f"{line}: {version} installed")
    return missing


def provided_distributions(extras: set[str]) -> set[str]:
    """The distributions ``pip install -e .[extras]`` asks for by name (normalized)."""
    dist = metadata.distribution("planstream")
    names = set()
    pending, seen = {"", *extras}, set()
    while pending:
        extra = pending.pop()
        seen.add(extra)
        for line in dist.requires or []:
            requirement = Requirement(line)
            marker = requirement.marker
            if (marker is None) != (extra == "") or (
                marker is not None and not marker.evaluate({"extra": extra})
            ):
                continue
            if requirement.name == "planstream":
                pending |= set(requirement.extras) - seen
            else:
                names.add(normalized(requirement.name))
    return names


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def spec_extras(spec: str) -> set[str]:
    """``{"fastapi"}`` for ``.[fastapi]`` (quotes allowed)."""
    return _extras(spec)


def main(spec: str) -> int:
    direct = metadata.distribution("planstream").read_text("direct_url.json") or ""
    problems = missing_requirements(_extras(spec))
    if f"file://{ROOT}" not in direct:
        problems.append(f"planstream is not installed from {ROOT} ({direct or 'no direct_url'})")
    for problem in problems:
        print(f"pip install -e {spec}: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
