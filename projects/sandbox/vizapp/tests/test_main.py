"""The app in headless Chromium: every page renders, offline, without errors.

Every request the browser makes (Chrome's performance log: each
``Network.requestWillBeSent`` and ``Network.webSocketCreated``) is recorded
across the pages; any that leaves 127.0.0.1 fails the test. The request log
(JSON), a full-page PNG of every page and each page's load time are kept in a
temporary folder (or ``$VIZAPP_SCREENSHOTS`` when set), printed at the end
of the run.
"""

import json
import os
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

from vizapp.browser import off_machine, render, requests_of, screenshot
from vizapp.main import origins

# a Chromium session and two app servers: about a minute on 2 cores
pytestmark = pytest.mark.slow


def severe_errors(driver):
    return [
        entry
        for entry in driver.get_log("browser")
        if entry["level"] == "SEVERE" and "favicon" not in entry["message"]
    ]


class Session:
    """Loads pages, keeping their requests, screenshots and load times."""

    def __init__(self, driver, folder: Path):
        self.driver, self.folder = driver, folder
        self.requests: dict[str, list[dict]] = {}
        self.load_times: dict[str, dict[str, float]] = {}

    def load(self, url: str, name: str, predicate, timeout=90.0) -> dict:
        driver = self.driver
        driver.get_log("browser")  # drop what earlier pages logged
        requests_of(driver)
        page = render(driver, url, predicate, timeout)
        path = screenshot(driver, self.folder / f"{name}.png")
        assert path.stat().st_size > 10_000
        assert severe_errors(driver) == []
        self.requests[name] = requests_of(driver)
        self.load_times[name] = {
            "rendered_s": page.rendered_s,
            "load_event_s": page.load_event_s,
        }
        return page.state


@pytest.fixture(scope="module")
def session(browser, tmp_path_factory, report):
    chosen = os.environ.get("VIZAPP_SCREENSHOTS")
    folder = Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    # the browser's own start page (chrome:// resources) is not the app's:
    # leave it and drop what it logged before the first page is loaded
    browser.get("about:blank")
    requests_of(browser)
    s = Session(browser, folder)
    yield s
    log = folder / "requests.json"
    log.write_text(json.dumps(s.requests, indent=2))
    total = sum(len(r) for r in s.requests.values())
    off = [r["url"] for rs in s.requests.values() for r in rs if off_machine(r["url"])]
    report.append(f"screenshots and request log: {folder}")
    report.append(
        f"requests: {total} over {len(s.requests)} pages, {len(off)} off 127.0.0.1"
    )
    for name, times in s.load_times.items():
        hosts = sorted(
            {
                urlparse(r["url"]).netloc or f"{urlparse(r['url']).scheme}: (inline)"
                for r in s.requests[name]
            }
        )
        report.append(
            f"  {name}: rendered in {times['rendered_s']:.2f} s (load event "
            f"{times['load_event_s']:.3f} s), {len(s.requests[name])} requests "
            f"to {', '.join(hosts)}"
        )


def test_index_is_the_apps_own(app, session):
    state = session.load(
        f"{app.url}/",
        "index",
        lambda s: "Event inspector" in s["text"] and "Summary" in s["text"],
    )
    assert "aframe: binary black hole search" in state["text"]
    with urllib.request.urlopen(f"{app.url}/") as response:
        page = response.read().decode()
    # links to the pages only, nothing from elsewhere
    for name in ("/summary", "/analysis", "/inspector"):
        assert f'href="{name}"' in page
    assert "http" not in page and "//" not in page.replace("<!DOCTYPE", "")


def test_summary_page(app, session):
    state = session.load(
        f"{app.url}/summary",
        "summary",
        lambda s: (
            s["roots"] > 0 and s["canvases"] >= 2 and "Sensitive volume" in s["text"]
        ),
    )
    # the numbers of summary.json, in words; FARs per year
    assert "Gpc³" in state["text"] and "sensitive distance" in state["text"]
    assert "false-alarm rate" in state["text"]
    assert "365 per year" in state["text"] and "per day" not in state["text"]
    assert "None is plotted here" in state["text"]


def test_analysis_page(app, session):
    state = session.load(
        f"{app.url}/analysis",
        "analysis",
        lambda s: (
            s["roots"] > 0
            and s["canvases"] >= 6
            and "injections selected" in s["text"]
            and "Zero-lag candidates" in s["text"]
        ),
    )
    assert "m1 (source frame" in state["text"]
    assert "No vetoes applied" in state["text"]
    assert "inspect" in state["text"] and "p_astro" in state["text"]


def test_analysis_page_with_vetoes(app, session):
    state = session.load(
        f"{app.url}/analysis?vetoes=H1-CAT2.txt,L1-CAT2.txt",
        "analysis-vetoes",
        lambda s: s["roots"] > 0 and "Applied H1-CAT2.txt" in s["text"],
    )
    assert "deadtime" in state["text"]


def test_inspector_page(app, session):
    # an injection: re-injected into the test background and the search replayed
    state = session.load(
        f"{app.url}/inspector?kind=foreground&index=0",
        "inspector",
        lambda s: (
            s["roots"] > 0
            and s["canvases"] >= 4
            and "data from background-" in s["text"]
        ),
        timeout=150,
    )
    assert "injection 0" in state["text"]
    assert "cannot re-analyse" not in state["text"]


def test_inspector_bad_link(app, session):
    state = session.load(
        f"{app.url}/inspector?kind=bogus&index=3",
        "inspector-bad-link",
        lambda s: s["roots"] > 0 and "This link names no event" in s["text"],
    )
    assert "kind='bogus' is not one of" in state["text"]
    assert "data from background-" not in state["text"]


def test_no_request_leaves_the_machine(session):
    """Run after the pages above: every request they made went to 127.0.0.1."""
    assert set(session.requests) >= {"index", "summary", "analysis", "inspector"}
    assert all(session.requests[name] for name in ("summary", "analysis"))
    off = [
        (name, r["url"])
        for name, rs in session.requests.items()
        for r in rs
        if off_machine(r["url"])
    ]
    assert off == []
    # BokehJS came from the app itself, and each page opened its websocket
    urls = [r["url"] for rs in session.requests.values() for r in rs]
    assert any("/static/js/bokeh" in u for u in urls)
    assert any(u.startswith("ws://127.0.0.1") for u in urls)


def test_missing_artifacts_are_explained(empty_app, browser, tmp_path):
    s = Session(browser, tmp_path)
    for name, step in (
        ("summary", "sensitive-volume"),
        ("analysis", "infer"),
        ("inspector", "infer"),
    ):
        state = s.load(
            f"{empty_app.url}/{name}",
            f"missing-{name}",
            lambda s: s["roots"] > 0 and "This page needs" in s["text"],
        )
        assert f"made by the {step} step" in state["text"]
        assert "Traceback" not in state["text"]


def test_websocket_origins():
    assert origins("127.0.0.1", 5005) == ["127.0.0.1:5005", "localhost:5005"]
    assert origins("10.0.0.2", 8000) == ["10.0.0.2:8000"]
