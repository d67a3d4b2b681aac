"""The app's pages on a finished run: load times, request log, screenshots.

Serves ``vizapp`` on 127.0.0.1 over a run's results, opens each page in
Debian's headless Chromium (the browser the app's tests drive) and records how
long it takes to render, every request it makes (Chrome's performance log)
and a full-page screenshot. Writes ``benchmarks/results/vizapp-pages.json``
with the machine, the command and, per page, the render time, the load-event
time and the requests, split into on- and off-machine; the run fails if any
request leaves 127.0.0.1.

Usage:
    .venv/bin/python benchmarks/vizapp/bench_pages.py \\
        --basedir $BASE_DIR/default --datadir $DATA_DIR/default \\
        [--screenshots docs/images]

The inspector pages show the loudest background and zero-lag events, the
found injection whose network SNR is nearest 12 (``--injection-snr``) and,
when the ``search`` script has run (``BASE_DIR/search``), its loudest
candidate.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

from vizapp.browser import (
    PageTimeout,
    chromium,
    off_machine,
    render,
    requests_of,
    screenshot,
)

HERE = Path(__file__).resolve()
RESULTS = HERE.parents[1] / "results"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(basedir: Path, datadir: Path, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "-c", "from vizapp.main import main; main()"]
        + ["--basedir", str(basedir), "--datadir", str(datadir), "--port", str(port)],
        stdout=open(log, "w"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"vizapp exited: {log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/", timeout=5):
                return process, url
        except OSError:
            time.sleep(0.5)
    process.terminate()
    raise SystemExit(f"vizapp did not start in 180 s: {log.read_text()}")


def load(driver, url: str, done, shot: Path | None, timeout: float = 300) -> dict:
    """Open ``url``, wait until ``done(state)``, screenshot the whole page."""
    requests_of(driver)
    try:
        page = render(driver, url, done, timeout)
    except PageTimeout as err:
        raise SystemExit(str(err)) from None
    if shot is not None:
        screenshot(driver, shot)
    requests = requests_of(driver)
    return {
        "url": url,
        "rendered_seconds": page.rendered_s,
        "load_event_seconds": page.load_event_s,
        "requests": len(requests),
        "requests_off_machine": [r["url"] for r in requests if off_machine(r["url"])],
        "hosts": sorted({urlparse(r["url"]).netloc or "(inline)" for r in requests}),
        "screenshot": str(shot) if shot is not None else None,
    }


def chosen_events(basedir: Path, injection_snr: float) -> dict[str, int]:
    """Row of the loudest background and zero-lag events, and of a found
    injection near ``injection_snr``."""
    import numpy as np

    from aframe.ledger import read_any

    chosen = {}
    for kind in ("background", "zero-lag"):
        events = read_any(basedir / "infer" / f"{kind}.hdf5")
        chosen[kind] = int(np.argmax(events.parameters["detection_statistic"]))
    found = read_any(basedir / "infer" / "foreground.hdf5")
    p = found.parameters
    snr = np.hypot(p["H1_snr"], p["L1_snr"])
    distance = np.where(
        p["recovered"].astype(bool), np.abs(snr - injection_snr), np.inf
    )
    chosen["foreground"] = int(np.argmin(distance))
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--basedir", type=Path, required=True)
    parser.add_argument("--datadir", type=Path, required=True)
    parser.add_argument("--screenshots", type=Path, default=None)
    parser.add_argument("--injection-snr", type=float, default=12.0)
    parser.add_argument("--output", type=Path, default=RESULTS / "vizapp-pages.json")
    args = parser.parse_args()
    if args.screenshots is not None:
        args.screenshots.mkdir(parents=True, exist_ok=True)

    def shot(name: str) -> Path | None:
        return (
            None if args.screenshots is None else args.screenshots / f"app-{name}.png"
        )

    scratch = Path(tempfile.mkdtemp(prefix="bench-pages-"))
    process, url = start_app(args.basedir, args.datadir, scratch / "vizapp.log")
    driver = chromium(scratch / "chromium")
    rows = chosen_events(args.basedir, args.injection_snr)
    pages = {
        "index": (f"{url}/", lambda s: "Summary" in s["text"]),
        "summary": (f"{url}/summary", lambda s: s["roots"] > 0 and s["canvases"] >= 2),
        "analysis": (
            f"{url}/analysis",
            lambda s: s["roots"] > 0 and "Zero-lag candidates" in s["text"],
        ),
        "inspector-background": (
            f"{url}/inspector?kind=background&index={rows['background']}",
            lambda s: s["roots"] > 0 and s["canvases"] >= 4,
        ),
        "inspector-injection": (
            f"{url}/inspector?kind=foreground&index={rows['foreground']}",
            lambda s: s["roots"] > 0 and s["canvases"] >= 4,
        ),
        "inspector-zero-lag": (
            f"{url}/inspector?kind=zero-lag&index={rows['zero-lag']}",
            lambda s: s["roots"] > 0 and s["canvases"] >= 4,
        ),
    }
    if (args.basedir / "search" / "candidates.hdf5").is_file():
        # the search script's loudest candidate, replayed on the strain it read
        pages["inspector-search"] = (
            f"{url}/inspector?kind=search&index=0",
            lambda s: s["roots"] > 0 and s["canvases"] >= 4,
        )
    results = {}
    try:
        driver.get("about:blank")
        requests_of(driver)
        for name, (page, done) in pages.items():
            results[name] = load(driver, page, done, shot(name))
            print(
                f"{name}: rendered in {results[name]['rendered_seconds']:.2f} s, "
                f"{results[name]['requests']} requests, "
                f"{len(results[name]['requests_off_machine'])} off 127.0.0.1"
            )
    finally:
        driver.quit()
        process.terminate()
        process.wait(timeout=30)
    record = {
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average_at_end": list(os.getloadavg()),
            "python": platform.python_version(),
        },
        "date": datetime.datetime.now(datetime.UTC).isoformat(),
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "basedir": str(args.basedir),
        "pages": results,
        "requests_off_machine": sum(
            len(r["requests_off_machine"]) for r in results.values()
        ),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {args.output}")
    if record["requests_off_machine"]:
        raise SystemExit("some requests left 127.0.0.1: see the JSON")


if __name__ == "__main__":
    main()
