"""The app's pages in headless Chromium: load, wait, screenshot, list requests.

The app's browser test and its page benchmark (``benchmarks/vizapp``) drive
the pages the same way: Debian's ``chromium`` and ``chromedriver`` with no
background networking, Chrome's performance log as the record of every
request a page makes, and a page counted as rendered when a condition on its
``page_state`` holds. Selenium is imported only here, when a browser starts:
the app itself does not need it.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

#: schemes that never leave the page (inline data, blobs, blank frames)
LOCAL_SCHEMES = ("data", "blob", "about")

# Bokeh 3 renders into shadow roots: walk them to find canvases and text
PAGE_STATE_JS = """
const roots = [document];
let canvases = 0;
let text = '';
while (roots.length) {
  const root = roots.pop();
  for (const el of root.querySelectorAll('*')) {
    if (el.shadowRoot) roots.push(el.shadowRoot);
    if (el.tagName === 'CANVAS' && el.width > 0 && el.height > 0) canvases += 1;
  }
  text += ' ' + (root === document ? document.body.innerText : root.textContent);
}
const docs = (window.Bokeh && Bokeh.documents) || [];
return {roots: docs.length ? docs[0].roots().length : 0, canvases: canvases,
        text: text};
"""

#: the window's width and first height, CSS pixels
WINDOW = (1500, 1300)
#: the tallest full-page screenshot, CSS pixels
MAX_HEIGHT = 8000


class PageTimeout(TimeoutError):
    """A page did not reach its rendered state in time."""


@dataclass(frozen=True)
class Rendered:
    """A loaded page.

    Attributes:
        state: the last ``page_state`` (``roots``, ``canvases``, ``text``)
        rendered_s: seconds from the request to the rendered state
        load_event_s: the navigation's load event, s
    """

    state: dict[str, Any]
    rendered_s: float
    load_event_s: float


def off_machine(url: str) -> bool:
    """Whether a request to ``url`` leaves 127.0.0.1."""
    parsed = urlparse(url)
    return parsed.scheme not in LOCAL_SCHEMES and parsed.hostname != "127.0.0.1"


def chromium(
    profile: Path,
    binary: str | None = None,
    driver: str | None = None,
    page_load_timeout: float = 300.0,
):
    """Headless Chromium with the performance (request) and browser logs.

    Args:
        profile: an empty folder for the browser's profile
        binary: the browser (default ``chromium`` on the PATH)
        driver: its driver (default ``chromedriver`` on the PATH)
        page_load_timeout: seconds a navigation may take

    Returns:
        a Selenium WebDriver; ``quit()`` it when done
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary = binary or shutil.which("chromium")
    driver = driver or shutil.which("chromedriver")
    if not binary or not driver:
        raise FileNotFoundError(
            "chromium and chromedriver are needed: apt-get install -y chromium "
            "chromium-driver"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
    ):
        options.add_argument(flag)
    # "performance": every network event of the page (the request log)
    options.set_capability(
        "goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"}
    )
    browser = webdriver.Chrome(service=Service(executable_path=driver), options=options)
    browser.set_page_load_timeout(page_load_timeout)
    return browser


def page_state(driver) -> dict[str, Any]:
    """The page's Bokeh roots, drawn canvases and text (shadow roots included)."""
    return driver.execute_script(PAGE_STATE_JS)


def requests_of(driver) -> list[dict[str, str]]:
    """The requests in the performance log since the last call.

    Returns:
        ``{"url", "method", "type"}`` per request or websocket
    """
    out = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        method, params = message.get("method"), message.get("params", {})
        if method == "Network.requestWillBeSent":
            out.append(
                {
                    "url": params["request"]["url"],
                    "method": params["request"]["method"],
                    "type": params.get("type", ""),
                }
            )
        elif method == "Network.webSocketCreated":
            out.append({"url": params["url"], "method": "GET", "type": "WebSocket"})
    return out


def render(
    driver,
    url: str,
    done: Callable[[dict[str, Any]], bool],
    timeout: float = 90.0,
) -> Rendered:
    """Open ``url`` and wait until ``done(page_state)``.

    Raises:
        PageTimeout: the page did not get there in ``timeout`` seconds
    """
    driver.set_window_size(*WINDOW)
    started = time.monotonic()
    driver.get(url)
    state = page_state(driver)
    while not done(state):
        if time.monotonic() - started > timeout:
            raise PageTimeout(f"{url} did not render in {timeout} s: {state}")
        time.sleep(0.25)
        state = page_state(driver)
    rendered = time.monotonic() - started
    navigation = driver.execute_script(
        "const t = performance.getEntriesByType('navigation')[0];"
        "return t ? t.loadEventEnd - t.startTime : null;"
    )
    return Rendered(state, round(rendered, 2), round((navigation or 0) / 1000, 3))


def screenshot(driver, path: Path) -> Path:
    """A PNG of the whole page: the window made tall enough to hold it."""
    time.sleep(1.0)  # let the last frame paint
    for _ in range(4):
        metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        viewport = driver.execute_script("return window.innerHeight;")
        if viewport >= size["height"] or viewport >= MAX_HEIGHT:
            break
        frame = driver.get_window_size()["height"] - viewport
        height = min(int(size["height"]) + frame + 20, MAX_HEIGHT)
        driver.set_window_size(WINDOW[0], height)
        time.sleep(0.5)
    driver.save_screenshot(str(path))
    return path
