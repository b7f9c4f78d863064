"""End to end: the real Streamlit server driven by headless Chromium through design -> run -> compare.

Uses Debian's Chromium (``apt-get install chromium``), never a downloaded browser. The server
is started with ``coopsim app`` so the command line is tested too.
"""

from __future__ import annotations

import json
import shutil
import signal

import pytest

from tests.browser import SCREENS, commit, free_port, launch, start_server, stop_server, tall_page


@pytest.mark.slow
def test_design_run_compare_in_chromium(server, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    url, runs = server
    with sync_playwright() as p:
        browser, page = tall_page(p)

        # Design: the default public-goods scenario, renamed and with fewer rounds.
        page.goto(url)
        expect(page.get_by_role("heading", name="Design a mechanism")).to_be_visible()
        commit(page.get_by_label("Name", exact=True), "browser_design")
        commit(page.get_by_label("Rounds", exact=True), "6")
        expect(page.get_by_text("Valid design: 4 agents")).to_be_visible()
        page.screenshot(path=str(tmp_path / "design.png"), full_page=True)

        # Run: two seeds of eight episodes in the background worker.
        page.get_by_role("link", name="Run").first.click()
        expect(page.get_by_role("heading", name="Run the design")).to_be_visible()
        commit(page.get_by_label("Seeds", exact=True), "2")
        commit(page.get_by_label("Evaluation episodes", exact=True), "8")
        page.get_by_role("button", name="Start run").click()
        expect(page.get_by_text("Finished: 2 run directories")).to_be_visible(timeout=60_000)
        page.screenshot(path=str(tmp_path / "run.png"), full_page=True)

        # Compare: the two new runs, side by side, with a figure.
        page.get_by_role("link", name="Compare these runs").click()
        expect(page.get_by_role("heading", name="Compare rules")).to_be_visible()
        table = page.get_by_test_id("stTable").first  # the rule, pooled over its seeds
        expect(table).to_be_visible()
        expect(table).to_contain_text("contribution rate")  # the registry's label
        expect(table).to_contain_text("seeds")
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


def _open_run_page(page) -> None:
    from playwright.sync_api import expect

    page.get_by_role("link", name="Run").first.click()
    expect(page.get_by_role("heading", name="Run the design")).to_be_visible()


@pytest.mark.slow
def test_two_sessions_queue_close_tab_restart_and_hostile_names(tmp_path):
    """The probes of a real deployment, as regressions: two browser sessions at once on a
    server with one job slot, a hostile design name and session token, a closed and reopened
    tab, and the server killed while a job runs, then started again."""
    from playwright.sync_api import expect, sync_playwright

    port = free_port()
    url = f"http://localhost:{port}"
    proc = start_server(tmp_path, port, "--max-jobs", "1")
    runs = tmp_path / "runs"
    try:
        with sync_playwright() as p:
            browser = launch(p)
            expect.set_options(timeout=30_000)
            size = {"width": 1400, "height": 2000}
            one, two = browser.new_context(viewport=size), browser.new_context(viewport=size)
            a, b = one.new_page(), two.new_page()
            for page, name in ((a, "../../escape A"), (b, "session_b")):
                page.goto(f"{url}/?s=../../etc/passwd")  # a hostile token is replaced
                expect(page.get_by_role("heading", name="Design a mechanism")).to_be_visible()
                commit(page.get_by_label("Name", exact=True), name)
                expect(page.get_by_text("Valid design: 4 agents")).to_be_visible()
            token_a = a.url.split("s=", 1)[1]
            assert "passwd" not in token_a and "/" not in token_a

            # Two sessions start a job each; with one slot the second waits with its place shown.
            for page in (a, b):
                _open_run_page(page)
                commit(page.get_by_label("Seeds", exact=True), "2")
                commit(page.get_by_label("Evaluation episodes", exact=True), "64")
                page.get_by_role("button", name="Start run").click()
            expect(b.get_by_text("Queued, 1st in line")).to_be_visible()
            b.screenshot(path=str(tmp_path / "queued.png"), full_page=True)
            # Each session sees only its own job, and others' only in the list, without Stop.
            expect(a.get_by_text("escape_a-")).to_be_visible()
            expect(a.get_by_text("session_b-")).to_have_count(0)

            # Kill the server while the jobs go on; the queue moves on without it.
            stop_server(proc, signal.SIGKILL)
            a.close()
            proc = start_server(tmp_path, port, "--max-jobs", "1")

            # A reopened tab (same URL) is the same session: its design and its job are back.
            a = one.new_page()
            a.goto(f"{url}/?s={token_a}")
            expect(a.get_by_label("Name", exact=True)).to_have_value("../../escape A")
            _open_run_page(a)
            expect(a.get_by_text("Finished: 2 run directories")).to_be_visible(timeout=90_000)
            b.goto(b.url)
            expect(b.get_by_text("Finished: 2 run directories")).to_be_visible(timeout=90_000)
            b.get_by_text("All jobs").click()
            table = b.get_by_test_id("stDataFrame")
            expect(table).to_be_visible()
            expect(b.get_by_role("button", name="Stop this run")).to_have_count(0)
            b.screenshot(path=str(tmp_path / "all_jobs.png"), full_page=True)
            browser.close()
    finally:
        stop_server(proc)

    made = sorted(p.name for p in runs.iterdir() if not p.name.startswith("."))
    assert [n.split("-", 1)[0] for n in made] == ["escape_a", "escape_a", "session_b", "session_b"]
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == ["designs", "runs"] or (
        sorted(p.name for p in tmp_path.iterdir() if p.is_dir()) == ["runs"]
    )
    status = [json.loads(p.read_text()) for p in runs.glob(".jobs/*/status.json")]
    spans = sorted((s["started_ns"], s["finished_ns"]) for s in status)
    assert spans[0][1] <= spans[1][0]  # one slot: the second job started after the first ended
    SCREENS.mkdir(parents=True, exist_ok=True)
    for name in ("queued.png", "all_jobs.png"):
        shutil.copy(tmp_path / name, SCREENS / name)


@pytest.mark.slow
def test_compare_opens_on_the_demos_rules_in_a_table_that_fits_1400_pixels(tmp_path):
    """The latest demo's five rules, one row each, in the order `coopsim demo` prints them
    (the runs finished in another), and the whole table inside the window: no column runs off
    the right edge and none is squeezed to a word per line."""
    from playwright.sync_api import expect, sync_playwright

    from coopsim.analysis.demo_findings import by_rule
    from tests.demo_runs import tiny_demo

    printed = list(by_rule(tiny_demo(tmp_path / "runs", seeds=(0, 1))))  # the demo's rows
    port = free_port()
    proc = start_server(tmp_path, port)
    try:
        with sync_playwright() as p:
            browser, page = tall_page(p)
            page.goto(f"http://localhost:{port}/compare")
            expect(page.get_by_role("heading", name="Compare rules")).to_be_visible()
            table = page.get_by_test_id("stTable").first
            expect(table).to_contain_text("matching, planner-chosen")
            rows = table.locator("tbody tr")
            expect(rows).to_have_count(5)
            expect(rows.locator("th")).to_have_text(printed)
            box = table.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 1400, box
            widths = table.evaluate(
                "t => { const e = t.querySelector('table');"
                " return [e.scrollWidth, t.clientWidth]; }"
            )
            assert widths[0] <= widths[1] + 1, widths  # nothing to scroll sideways
            # no cell squeezed to a word per line: each holds at most three lines of text
            lines = table.locator("th, td").evaluate_all(
                "cs => cs.map(c => { const s = getComputedStyle(c);"
                " const inner = c.clientHeight - parseFloat(s.paddingTop)"
                " - parseFloat(s.paddingBottom);"
                " return [c.innerText, Math.round(inner / parseFloat(s.lineHeight))]; })"
            )
            assert max(n for _, n in lines) <= 3, lines
            page.screenshot(path=str(tmp_path / "compare_rules.png"), full_page=True)
            browser.close()
    finally:
        stop_server(proc)
    SCREENS.mkdir(parents=True, exist_ok=True)
    shutil.copy(tmp_path / "compare_rules.png", SCREENS / "compare_rules.png")
