"""Start-up cost: ``import planstream`` and ``planstream --version``, each in a fresh process.

As a script it prints the median wall time of N runs of each command and what
each one loaded::

    .venv/bin/python benchmarks/startup.py            # 20 runs each
    .venv/bin/python benchmarks/startup.py --runs 50
    PYTHONPATH=/tmp/old/src .venv/bin/python benchmarks/startup.py   # another tree

``planstream --version`` runs as ``python -c "from planstream.cli.main import
main; main()" --version``, which is what the console script does, so the same
command measures any tree put first on ``PYTHONPATH``. For asv (``nox -s
benchmark``) the ``track_*`` functions give the same medians in milliseconds.
Goal (issue 12): both under 150 ms.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time

#: The two commands, as argv after the interpreter.
COMMANDS: dict[str, list[str]] = {
    "import planstream": ["-c", "import planstream"],
    "planstream --version": ["-c", "from planstream.cli.main import main; main()", "--version"],
}
#: Dependencies worth naming when a command loads them.
HEAVY = ("pydantic", "pydantic_settings", "asyncio", "websockets", "httpx", "click", "rich")
#: Runs per asv figure (each a fresh interpreter).
ASV_RUNS = 7


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(argv: list[str]) -> tuple[float, float]:
    """Wall and CPU (user + system) time of one fresh interpreter running ``argv``, s."""
    cpu = _children_cpu()
    start = time.perf_counter()
    subprocess.run([sys.executable, *argv], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start, _children_cpu() - cpu


def medians_ms(argv: list[str], runs: int) -> tuple[float, float]:
    """Median wall and CPU milliseconds of ``runs`` fresh interpreters running ``argv``.

    CPU time is what to compare on a busy machine: waiting for a core is not counted.
    """
    run_once(argv)  # warm the file-system cache and the .pyc files
    times = [run_once(argv) for _ in range(runs)]
    return (
        statistics.median(wall for wall, _ in times) * 1000,
        statistics.median(cpu for _, cpu in times) * 1000,
    )


def median_ms(argv: list[str], runs: int) -> float:
    return medians_ms(argv, runs)[0]


def loaded(argv: list[str]) -> tuple[int, list[str], int]:
    """Modules in ``sys.modules`` at exit: how many, the heavy ones, planstream's own."""
    code = argv[1]
    probe = (
        "import atexit, json, sys\n"
        "atexit.register(lambda: sys.__stderr__.write('\\n' + json.dumps(sorted(sys.modules))))\n"
        f"{code}"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe, *argv[2:]],
        check=True,
        capture_output=True,
        text=True,
    )
    modules: list[str] = json.loads(result.stderr.splitlines()[-1])
    heavy = sorted({name.split(".")[0] for name in modules} & set(HEAVY))
    ours = sum(1 for name in modules if name.split(".")[0] == "planstream")
    return len(modules), heavy, ours


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="fresh processes per command")
    args = parser.parse_args()
    import planstream  # only to say which tree is measured

    print(f"planstream from {planstream.__file__}, {args.runs} runs each, medians")
    for label, argv in {**COMMANDS, "python -c pass": ["-c", "pass"]}.items():
        wall, cpu = medians_ms(argv, args.runs)
        count, heavy, ours = loaded(argv)
        print(
            f"{label:22} {wall:7.1f} ms wall {cpu:7.1f} ms cpu   {count:4d} modules "
            f"({ours} planstream), heavy: {', '.join(heavy) or 'none'}"
        )


def track_import_planstream_ms() -> float:
    """Median wall time of ``python -c "import planstream"``, fresh processes."""
    return median_ms(COMMANDS["import planstream"], ASV_RUNS)


track_import_planstream_ms.unit = "ms"  # type: ignore[attr-defined]


def track_cli_version_ms() -> float:
    """Median wall time of ``planstream --version``, fresh processes."""
    return median_ms(COMMANDS["planstream --version"], ASV_RUNS)


track_cli_version_ms.unit = "ms"  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
