"""Robot keywords that drive Debian's headless Chromium for the dashboard suites.

The browser is the system ``chromium`` driven by the system ``chromedriver``
(packages ``chromium`` and ``chromium-driver``, installed by ``.ci/run``); the
driver path is given explicitly, so Selenium Manager never downloads
anything. When either is missing, ``Start Dashboard Browser`` *skips* the
calling test or suite with the reason, so the summary line counts it as
skipped instead of dropping it.

The driver is registered with SeleniumLibrary, so suites use its keywords
(``Go To``, ``Wait Until Element Contains``...) next to these ones.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

from robot.api import logger
from robot.libraries.BuiltIn import BuiltIn
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

__all__ = ["DashboardBrowser"]

BROWSER_NAMES = ("chromium", "chromium-browser")
DRIVER_NAMES = ("chromedriver",)
#: Console messages at this level are errors for ``Browser Console Should Have No Errors``.
ERROR_LEVEL = "SEVERE"
#: The source of Chromium's own lines about refused requests (a 401, a blocked upgrade).
NETWORK_SOURCE = "network"

_ASYNC_WRAPPER = """
const done = arguments[arguments.length - 1];
const body = async () => { %s };
body().then(
  (value) => done({ok: true, value: value === undefined ? null : value}),
  (error) => done({ok: false, error: String(error && error.stack || error)}),
);
"""


def _find(names: tuple[str, ...], env_name: str) -> str | None:
    explicit = os.environ.get(env_name)
    if explicit:
        return explicit if Path(explicit).exists() else None
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    return None


class DashboardBrowser:
    """One headless Chromium per suite, driven through SeleniumLibrary."""

    ROBOT_LIBRARY_SCOPE = "SUITE"

    def __init__(self) -> None:
        self._driver: webdriver.Chrome | None = None
        self._console: list[dict[str, Any]] = []
        self._console_mark = 0
        self._expected_network_errors: list[str] = []

    @property
    def driver(self) -> webdriver.Chrome:
        if self._driver is None:
            raise AssertionError("no dashboard browser is open: call Start Dashboard Browser")
        return self._driver

    def start_dashboard_browser(self, width: int = 1280, height: int = 900) -> None:
        """Start headless Chromium (skipping with the reason when it is not installed).

        ``PLANSTREAM_CHROMIUM`` and ``PLANSTREAM_CHROMEDRIVER`` override the
        paths looked up on ``PATH``.
        """
        browser = _find(BROWSER_NAMES, "PLANSTREAM_CHROMIUM")
        driver_path = _find(DRIVER_NAMES, "PLANSTREAM_CHROMEDRIVER")
        if browser is None or driver_path is None:
            missing = "chromium" if browser is None else "chromedriver"
            BuiltIn().skip(
                f"{missing} is not installed (Debian packages chromium, chromium-driver): "
                "the browser tests are skipped"
            )
        options = webdriver.ChromeOptions()
        options.binary_location = browser  # type: ignore[assignment]
        for argument in (
            "--headless=new",
            "--no-sandbox",  # CI runs as root in a container
            "--disable-dev-shm-usage",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            "--disable-background-networking",
            f"--window-size={int(width)},{int(height)}",
        ):
            options.add_argument(argument)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
        service = Service(executable_path=driver_path)
        self._driver = webdriver.Chrome(service=service, options=options)
        self._console = []
        selenium = BuiltIn().get_library_instance("SeleniumLibrary")
        selenium.register_driver(self._driver, "dashboard")
        logger.info(f"Chromium {self._driver.capabilities.get('browserVersion')} at {browser}")

    def close_dashboard_browser(self) -> None:
        """Quit the browser (safe to call when none is open)."""
        if self._driver is not None:
            try:
                self._driver.quit()
            finally:
                self._driver = None

    def run_page_script(self, body: str) -> Any:
        """Run ``body`` as an async function in the page and return its JSON value.

        ``body`` may ``await`` (e.g. ``const m = await import('./dashboard/js/x.js')``)
        and ``return`` any JSON value; a thrown error fails the keyword with its stack.
        """
        answer = self.driver.execute_async_script(_ASYNC_WRAPPER % body)
        if not isinstance(answer, dict) or not answer.get("ok"):
            error = answer.get("error") if isinstance(answer, dict) else answer
            raise AssertionError(f"page script failed: {error}")
        return answer["value"]

    def browser_console_messages(self) -> list[dict[str, Any]]:
        """Every console message since the browser started (each read once from Chromium)."""
        self._console.extend(self.driver.get_log("browser"))
        return list(self._console)

    def mark_console_start(self) -> None:
        """Check the console from here on (a test's setup), with no refusal expected yet."""
        self._console_mark = len(self.browser_console_messages())
        self._expected_network_errors = []

    def expect_browser_network_error(self, pattern: str) -> None:
        """Chromium's network lines matching ``pattern`` (a regexp) are expected until
        the next ``Mark Console Start``: a refusal the test provokes on purpose.

        Chromium logs every refused request itself (a 401, a failed WebSocket
        upgrade), whatever the page does; nothing else is ever forgiven.
        """
        re.compile(pattern)
        self._expected_network_errors.append(pattern)

    def browser_console_should_have_no_errors(self) -> None:
        """Fail listing the console's errors since ``Mark Console Start``.

        Uncaught exceptions, CSP refusals, 404s and logged errors all fail; only
        network lines matching an ``Expect Browser Network Error`` pattern pass
        (they are logged).
        """
        errors = []
        for message in self.browser_console_messages()[self._console_mark :]:
            if message.get("level") != ERROR_LEVEL:
                continue
            text = str(message.get("message"))
            if message.get("source") == NETWORK_SOURCE and any(
                re.search(pattern, text) for pattern in self._expected_network_errors
            ):
                logger.info(f"expected network refusal: {text}")
            else:
                errors.append(text)
        if errors:
            raise AssertionError("the browser console has errors:\n" + "\n".join(errors))

    def performance_log(self) -> list[dict[str, Any]]:
        """Chromium's DevTools network events since the last call (``performance`` log)."""
        return [
            json.loads(entry["message"])["message"] for entry in self.driver.get_log("performance")
        ]

    def save_dashboard_screenshot(self, path: str) -> str:
        """Save a PNG of the page to ``path`` (parents created) and return the path."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        if not self.driver.save_screenshot(str(target)):
            raise AssertionError(f"Chromium could not save a screenshot to {target}")
        logger.info(f"screenshot: {target}")
        return str(target)
