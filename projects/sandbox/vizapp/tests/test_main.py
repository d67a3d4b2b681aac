"""The app in headless Chromium: every page renders, without browser errors."""

import time
from pathlib import Path

import pytest

from vizapp.main import origins

# a Chromium session and two app servers: about a minute on 2 cores
pytestmark = pytest.mark.slow

# Bokeh 3 renders into shadow roots: walk them to find canvases and text
DEEP_JS = """
const roots = [document];
const canvases = [];
let text = '';
while (roots.length) {
  const root = roots.pop();
  for (const el of root.querySelectorAll('*')) {
    if (el.shadowRoot) roots.push(el.shadowRoot);
    if (el.tagName === 'CANVAS' && el.width > 0 && el.height > 0) canvases.push(el);
  }
  text += ' ' + (root === document ? document.body.innerText : root.textContent);
}
const docs = (window.Bokeh && Bokeh.documents) || [];
return {
  roots: docs.length ? docs[0].roots().length : 0,
  canvases: canvases.length,
  text: text,
};
"""


def wait_for(driver, predicate, timeout=90.0):
    deadline = time.monotonic() + timeout
    state = None
    while time.monotonic() < deadline:
        state = driver.execute_script(DEEP_JS)
        if predicate(state):
            return state
        time.sleep(0.5)
    raise AssertionError(f"page did not get there in {timeout} s: {state}")


def severe_errors(driver):
    return [
        entry
        for entry in driver.get_log("browser")
        if entry["level"] == "SEVERE" and "favicon" not in entry["message"]
    ]


def load(driver, url, screenshot: Path, predicate, timeout=90.0):
    driver.get_log("browser")  # drop what earlier pages logged
    driver.get(url)
    state = wait_for(driver, predicate, timeout)
    time.sleep(1.0)  # let the last frame paint before the screenshot
    driver.save_screenshot(str(screenshot))
    assert screenshot.stat().st_size > 10_000
    assert severe_errors(driver) == []
    return state


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    return tmp_path_factory.mktemp("screenshots")


def test_summary_page(app, browser, shots):
    state = load(
        browser,
        f"{app.url}/summary",
        shots / "summary.png",
        lambda s: (
            s["roots"] > 0 and s["canvases"] >= 2 and "Sensitive volume" in s["text"]
        ),
    )
    # the numbers of summary.json, in words
    assert "Gpc³" in state["text"] and "sensitive distance" in state["text"]
    assert "false-alarm rate" in state["text"]


def test_analysis_page(app, browser, shots):
    state = load(
        browser,
        f"{app.url}/analysis",
        shots / "analysis.png",
        lambda s: (
            s["roots"] > 0 and s["canvases"] >= 3 and "injections selected" in s["text"]
        ),
    )
    assert "m1 (source frame" in state["text"]


def test_inspector_page(app, browser, shots):
    # an injection: re-injected into the test background and re-run through the network
    state = load(
        browser,
        f"{app.url}/inspector?kind=foreground&index=0",
        shots / "inspector.png",
        lambda s: (
            s["roots"] > 0
            and s["canvases"] >= 4
            and "data from background-" in s["text"]
        ),
        timeout=150,
    )
    assert "injection 0" in state["text"]
    assert "cannot re-analyse" not in state["text"]


def test_missing_artifacts_are_explained(empty_app, browser, shots):
    for name, step in (
        ("summary", "sensitive-volume"),
        ("analysis", "infer"),
        ("inspector", "infer"),
    ):
        state = load(
            browser,
            f"{empty_app.url}/{name}",
            shots / f"missing-{name}.png",
            lambda s: s["roots"] > 0 and "This page needs" in s["text"],
        )
        assert f"made by the {step} step" in state["text"]
        assert "Traceback" not in state["text"]


def test_websocket_origins():
    assert origins("127.0.0.1", 5005) == ["127.0.0.1:5005", "localhost:5005"]
    assert origins("10.0.0.2", 8000) == ["10.0.0.2:8000"]
