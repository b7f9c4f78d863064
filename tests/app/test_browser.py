"""End to end: the real Streamlit server driven by headless Chromium through design -> run -> compare.

Uses Debian's Chromium (``apt-get install chromium``), never a downloaded browser. The server
is started with ``coopsim app`` so the command line is tested too.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
SCREENS = Path("/tmp/coopsim_screens")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    """``coopsim app`` on a free localhost port, its runs in tmp_path; yields the base URL."""
    port = _free_port()
    runs = tmp_path / "runs"
    log = open(tmp_path / "server.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "coopsim.cli",
            "app",
            "--port",
            str(port),
            "--runs",
            str(runs),
            "--headless",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, "COOPSIM_DESIGNS": str(tmp_path / "designs")},
    )
    url = f"http://localhost:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            log.close()
            pytest.fail(f"the app server did not start:\n{(tmp_path / 'server.log').read_text()}")
        time.sleep(0.3)
    yield url, runs
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
    log.close()


def _browser(playwright):
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} not found: the browser test needs Debian's Chromium. Install it with "
            "`apt-get install -y chromium chromium-driver` (make test does this via "
            "scripts/system-deps.sh); never `playwright install`."
        )
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def _commit(locator, text: str) -> None:
    """Type into a Streamlit input and commit it (Streamlit reads inputs on Enter)."""
    locator.fill(text)
    locator.press("Enter")


@pytest.mark.slow
def test_design_run_compare_in_chromium(server, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    url, runs = server
    with sync_playwright() as p:
        browser = _browser(p)
        page = browser.new_page(viewport={"width": 1400, "height": 2400})
        page.set_default_timeout(30_000)
        expect.set_options(timeout=30_000)

        # Design: the default public-goods scenario, renamed and with fewer rounds.
        page.goto(url)
        expect(page.get_by_role("heading", name="Design a mechanism")).to_be_visible()
        _commit(page.get_by_label("Name", exact=True), "browser_design")
        _commit(page.get_by_label("Rounds", exact=True), "6")
        expect(page.get_by_text("Valid design: 4 agents")).to_be_visible()
        page.screenshot(path=str(tmp_path / "design.png"), full_page=True)

        # Run: two seeds of eight episodes in the background worker.
        page.get_by_role("link", name="Run").first.click()
        expect(page.get_by_role("heading", name="Run the design")).to_be_visible()
        _commit(page.get_by_label("Seeds", exact=True), "2")
        _commit(page.get_by_label("Evaluation episodes", exact=True), "8")
        page.get_by_role("button", name="Start run").click()
        expect(page.get_by_text("Finished: 2 run directories")).to_be_visible(timeout=60_000)
        page.screenshot(path=str(tmp_path / "run.png"), full_page=True)

        # Compare: the two new runs, side by side, with a figure.
        page.get_by_role("link", name="Compare these runs").click()
        expect(page.get_by_role("heading", name="Compare runs")).to_be_visible()
        table = page.get_by_test_id("stTable")
        expect(table).to_be_visible()
        expect(table).to_contain_text("contribution_rate")
        expect(table).to_contain_text("browser_design-")
        chart = page.get_by_test_id("stImage").first
        expect(chart).to_be_visible()
        assert chart.bounding_box()["height"] > 200
        shot = tmp_path / "compare.png"
        page.screenshot(path=str(shot), full_page=True)
        browser.close()

    made = sorted(p.name for p in runs.iterdir() if not p.name.startswith("."))
    assert len(made) == 2 and all(n.startswith("browser_design-") for n in made)
    assert shot.stat().st_size > 10_000
    SCREENS.mkdir(parents=True, exist_ok=True)
    for name in ("design.png", "run.png", "compare.png"):
        shutil.copy(tmp_path / name, SCREENS / name)
