"""Print CI's closing line, ``N passed, M failed, K skipped``, over every suite.

Reads behave's JUnit files (``build/reports/behave/*.xml``) and Robot's
``build/reports/robot/output.xml`` and ``build/reports/reliability/output.xml``
(the ``nox -s reliability`` suites). A runner whose report is missing counts
as one failure, so a session that crashed before testing cannot pass.
Exits non-zero when anything failed.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

REPORTS = Path(__file__).resolve().parent.parent / "build" / "reports"


def behave_totals(directory: Path) -> tuple[int, int, int] | None:
    files = sorted(directory.glob("*.xml"))
    if not files:
        return None
    passed = failed = skipped_total = 0
    for path in files:
        suite = ET.parse(path).getroot()
        tests = int(suite.get("tests", 0))
        bad = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        skipped = int(suite.get("skipped", 0))
        failed += bad
        passed += tests - bad - skipped
        skipped_total += skipped
    return passed, failed, skipped_total


def robot_totals(output: Path) -> tuple[int, int, int] | None:
    if not output.exists():
        return None
    total = ET.parse(output).getroot().find("./statistics/total/stat")
    if total is None:
        return None
    return int(total.get("pass", 0)), int(total.get("fail", 0)), int(total.get("skip", 0))


def main() -> int:
    passed = failed = skipped = 0
    for name, totals in (
        ("behave", behave_totals(REPORTS / "behave")),
        ("robot", robot_totals(REPORTS / "robot" / "output.xml")),
        ("reliability", robot_totals(REPORTS / "reliability" / "output.xml")),
    ):
        if totals is None:
            print(f"{name}: no report found, counted as a failure", file=sys.stderr)
            failed += 1
            continue
        passed += totals[0]
        failed += totals[1]
        skipped += totals[2]
    # A skipped scenario (e.g. @redis without redis-server) is counted, not dropped.
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
