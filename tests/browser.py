"""What the browser tests share: Debian's headless Chromium (never a downloaded one, with the
flags that keep it from reaching the network or needing a GPU), a free port, the app's server
started and stopped with ``coopsim app``, and the page and input helpers that drive it.

Imported as ``tests.browser`` (the suite runs from the repository root).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")  # apt-get install chromium
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def free_port() -> int:
    """A TCP port nothing listens on now, for a server started next."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SCREENS = Path("/tmp/coopsim_screens")


def start_server(tmp_path: Path, port: int, *extra: str) -> subprocess.Popen:
    """``coopsim app`` on ``port``, its runs in tmp_path/runs; returns once it answers."""
    log = open(tmp_path / f"server-{port}.log", "ab")  # noqa: SIM115 - the child keeps it
    proc = subprocess.Popen(
        [sys.executable, "-m", "coopsim.cli", "app", "--port", str(port)]
        + ["--runs", str(tmp_path / "runs"), "--headless", *extra],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, "COOPSIM_DESIGNS": str(tmp_path / "designs")},
    )
    log.close()
    url = f"http://localhost:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return proc
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            text = (tmp_path / f"server-{port}.log").read_text()
            pytest.fail(f"the app server did not start:\n{text}")
        time.sleep(0.3)


def stop_server(proc: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    """End the server (only its own process group: the job workers have their own)."""
    os.killpg(proc.pid, sig)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@pytest.fixture
def server(tmp_path):
    """``coopsim app`` on a free localhost port, its runs in tmp_path; yields the base URL."""
    port = free_port()
    proc = start_server(tmp_path, port)
    yield f"http://localhost:{port}", tmp_path / "runs"
    stop_server(proc)


def launch(playwright):
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} not found: the browser test needs Debian's Chromium. Install it with "
            "`apt-get install -y chromium chromium-driver` (make test does this via "
            "scripts/system-deps.sh); never `playwright install`."
        )
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def tall_page(playwright):
    """A browser and one page tall enough for a whole app page, waits of 30 s; the caller
    closes the browser."""
    from playwright.sync_api import expect

    browser = launch(playwright)
    page = browser.new_page(viewport={"width": 1400, "height": 2400})
    page.set_default_timeout(30_000)
    expect.set_options(timeout=30_000)
    return browser, page


#: How long the page must stay idle (no script run, no element left from an earlier run)
#: before a test reads it.
QUIET_MS = 400

_SETTLED = """(quiet) => {
    const busy = document.querySelector(
        '[data-testid="stElementContainer"][data-stale="true"], '
        + '[data-testid="stStatusWidgetRunningIcon"]');
    const now = performance.now();
    if (busy) { window.__coopsimIdleSince = undefined; return false; }
    if (window.__coopsimIdleSince === undefined) { window.__coopsimIdleSince = now; }
    return now - window.__coopsimIdleSince >= quiet;
}"""


def settle(page, timeout_ms: int = 60_000) -> None:
    """Wait until the app's rerun has finished and dropped what an earlier run drew.

    Why: while a rerun goes on, Streamlit keeps the elements of the run before it (marked
    ``data-stale``) until the new run has drawn its own or ended; an input committed mid-run
    interrupts it and the old elements stay longer. A check made then sees both the old and the
    new element (a strict-mode error), or only the old one. The quiet period covers the moment
    between a commit and the start of the run it asks for.
    """
    page.evaluate("() => { window.__coopsimIdleSince = undefined; }")
    page.wait_for_function(_SETTLED, arg=QUIET_MS, polling=100, timeout=timeout_ms)


def commit(locator, text: str) -> None:
    """Type into a Streamlit input and commit it (Streamlit reads inputs on Enter), then wait
    for the rerun it asks for to finish."""
    locator.fill(text)
    locator.press("Enter")
    settle(locator.page)
