"""Every gate of planstream, one nox session each; plain ``nox`` runs them all.

Plain ``nox`` runs the suites once, under coverage (``coverage_report``):
running them a second time without it would double CI's time for nothing.
``behave`` and ``robot`` stay for running one suite alone, ``dashboard`` for the
browser suites alone.

Reports land in ``build/``: behave JUnit files in ``build/reports/behave``,
Robot's ``output.xml`` in ``build/reports/robot`` (the reliability suites':
``build/reports/reliability``), coverage in ``build/coverage.xml``.
``.ci/summarize.py`` totals the behave, robot and reliability reports into
the ``N passed, M failed`` line CI reads.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import nox

nox.options.sessions = ["lint", "typecheck", "coverage_report", "reliability", "benchmark"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True

ROOT = Path(__file__).parent
BUILD = ROOT / "build"
REPORTS = BUILD / "reports"
LINTED = [
    "src",
    "features",
    "robot",
    "benchmarks",
    "examples",
    "noxfile.py",
    ".ci",
    "reliability",
]


def _fresh(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install("-e", ".[lint]")
    session.run("ruff", "check", *LINTED)
    session.run("ruff", "format", "--check", *LINTED)


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the package."""
    session.install("-e", ".[lint]")
    session.run("mypy", "--strict", "src/planstream")


@nox.session
def behave(session: nox.Session) -> None:
    """The behave features, with JUnit reports for CI's totals."""
    session.install("-e", ".[test]")
    out = _fresh(REPORTS / "behave")
    session.run(
        "behave",
        "features",
        "--format=progress",
        "--junit",
        f"--junit-directory={out}",
        *session.posargs,
    )


@nox.session
def robot(session: nox.Session) -> None:
    """The Robot Framework suites."""
    session.install("-e", ".[test]")
    out = _fresh(REPORTS / "robot")
    session.run("robot", "--outputdir", str(out), "--consolewidth", "100", "robot")


@nox.session
def dashboard(session: nox.Session) -> None:
    """The browser suites alone (``robot/dashboard*.robot``), in Debian's headless Chromium.

    Without ``chromium``/``chromedriver`` (``.ci/run`` installs them) their tests
    are reported as skipped. The page's screenshot, cost figures and server logs
    land in ``build/dashboard``.
    """
    session.install("-e", ".[test]")
    out = _fresh(REPORTS / "dashboard")
    suites = sorted(str(path) for path in (ROOT / "robot").glob("dashboard*.robot"))
    session.run("robot", "--outputdir", str(out), "--consolewidth", "100", *suites)


@nox.session
def coverage_report(session: nox.Session) -> None:
    """behave and robot under coverage (branch), combined; fails under 97 %.

    Their reports are the ones CI counts (a suite that did not run counts as
    a failure there).
    """
    session.install("-e", ".[test]")
    _fresh(BUILD / "coverage")
    behave_reports = _fresh(REPORTS / "behave")
    robot_reports = _fresh(REPORTS / "robot")
    env = {"COVERAGE_RCFILE": str(ROOT / "pyproject.toml")}
    session.run(
        "coverage",
        "run",
        "-m",
        "behave",
        "features",
        "--format=progress",
        "--junit",
        f"--junit-directory={behave_reports}",
        env=env,
    )
    session.run(
        "coverage", "run", "-m", "robot", "--outputdir", str(robot_reports), "robot", env=env
    )
    session.run("coverage", "combine", env=env)
    session.run("coverage", "xml", "-o", str(BUILD / "coverage.xml"), env=env)
    session.run("coverage", "report", "--fail-under=97", env=env)


@nox.session
def reliability(session: nox.Session) -> None:
    """The chaos soak and the reconnect storm (``reliability/*.robot``), bounded.

    Real processes (reference servers, ``redis-server``, consumers) and the
    fault proxy; a few minutes on 2 cores. Not under coverage: the behave
    features measure the code, this proves it at scale. The soak's report
    lands in ``build/reliability/soak.json`` and ``soak.md``.
    """
    session.install("-e", ".[test]")
    out = _fresh(REPORTS / "reliability")
    session.run(
        "robot",
        "--pythonpath",
        "features",
        "--pythonpath",
        "reliability",
        "--outputdir",
        str(out),
        "--consolewidth",
        "100",
        *session.posargs,
        "reliability",
    )


@nox.session
def benchmark(session: nox.Session) -> None:
    """asv quick run in this environment (no network, no second checkout)."""
    session.install("-e", ".[bench]")
    session.run("asv", "machine", "--yes", "--machine", "nox")
    session.run(
        "asv",
        "run",
        "--python=same",
        "--quick",
        "--machine",
        "nox",
        "--show-stderr",
        *session.posargs,
        env={"PLANSTREAM_BENCH_REPEAT": "1"},  # one run per client figure in CI
    )
