"""The app's job and form defects as a person meets them, in headless Chromium on one server.

One ``coopsim app --max-jobs 2`` serves every test of this module (each opens its own browser
session): an older interrupted job resumed from its own row of "Your jobs", the training chart
in small multiples, number boxes that keep what was typed or say why not, a second design whose
name makes the same file name, a sweep that waits for a free job slot, and messages that name
paths under ``<runs>`` only. Screenshots go to ``/tmp/coopsim_screens``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from coopsim.app import jobs, slots
from tests.app.test_jobs_run import interrupted_job
from tests.browser import SCREENS, commit, free_port, start_server, stop_server, tall_page

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """One app server with two job slots for the module; yields (url, its folder)."""
    folder = tmp_path_factory.mktemp("app")
    port = free_port()
    proc = start_server(folder, port, "--max-jobs", "2")
    yield f"http://localhost:{port}", folder
    stop_server(proc)


def _shot(page, folder: Path, name: str) -> None:
    path = folder / name
    page.screenshot(path=str(path), full_page=True)
    SCREENS.mkdir(parents=True, exist_ok=True)
    shutil.copy(path, SCREENS / name)


def _no_server_paths(page, folder: Path) -> None:
    text = page.inner_text("body")
    assert str(folder) not in text and "/tmp/" not in text, "a server path is shown"


def _open(page, url: str, label: str, heading: str) -> None:
    from playwright.sync_api import expect

    page.goto(url)
    expect(page.get_by_role("heading", name="Design a mechanism")).to_be_visible()
    if label != "Design":
        page.get_by_role("link", name=label).first.click()
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()


def _token(page) -> str:
    return page.url.split("s=", 1)[1].split("&", 1)[0]


def _training_rows(n: int = 40) -> list[dict[str, float]]:
    return [
        {
            "iteration": k,
            "agent_steps": 20_000.0 * (k + 1),
            "agents_return": 8.0 + 0.3 * k,
            "agents_entropy": 1.4 - 0.02 * k,
            "agents_policy_loss": 0.03 * (-1) ** k / (k + 1),
            "agents_value_loss": 2.0 / (k + 1),
        }
        for k in range(n)
    ]


def test_an_older_interrupted_job_is_resumed_from_its_own_row(app):
    from playwright.sync_api import expect, sync_playwright

    url, folder = app
    runs = folder / "runs"
    with sync_playwright() as p:
        browser, page = tall_page(p)
        page.goto(url)
        expect(page.get_by_role("heading", name="Design a mechanism")).to_be_visible()
        token = _token(page)
        # Two jobs of this session left interrupted, then a newer one that trained and finished.
        older = interrupted_job(runs, "older")
        _retag(older, token)
        other = interrupted_job(runs, "other")
        _retag(other, token)
        newest = jobs.prepare("", runs, seeds=[0], name="trained", owner=token)
        jobs.write_status(
            newest.path,
            state="done",
            progress=1.0,
            message="finished",
            iterations=_training_rows(),
            runs=[],
        )

        page.get_by_role("link", name="Run").first.click()
        expect(page.get_by_role("heading", name="Your jobs (3)")).to_be_visible()
        expect(page.get_by_text("Training metrics by iteration")).to_be_visible()
        chart = page.get_by_test_id("stVegaLiteChart").first
        expect(chart).to_be_visible()
        assert chart.bounding_box()["height"] > 250  # two rows of panels, not one flat line
        _shot(page, folder, "run_training_chart.png")

        row = page.locator(f".st-key-job-row-{older.id}")
        expect(row.get_by_role("button", name="Resume")).to_be_visible()
        expect(page.locator(f".st-key-job-row-{other.id}").get_by_role("button", name="Discard"))
        row.get_by_role("button", name="Resume").click()
        expect(page.get_by_text("Finished: 1 run directories written to <runs>")).to_be_visible(
            timeout=90_000
        )
        expect(page.get_by_text(f"`{older.id}`", exact=False)).to_have_count(0)
        expect(page.locator(f".st-key-job-row-{older.id}")).to_contain_text("done")
        expect(page.locator(f".st-key-job-row-{other.id}")).to_contain_text("interrupted")
        _no_server_paths(page, folder)
        _shot(page, folder, "run_jobs_list.png")
        browser.close()
    assert jobs.load(older.path).state == "done"
    assert jobs.load(other.path).state == "interrupted"


def _retag(job: jobs.Job, owner: str) -> None:
    """Give a job made on disk to the browser session that will act on it."""
    spec = jobs._read_json(job.path / jobs.JOB)
    spec["owner"] = owner
    (job.path / jobs.JOB).write_text(__import__("json").dumps(spec))


def test_number_boxes_keep_what_was_typed_and_a_second_design_name_asks(app):
    from playwright.sync_api import expect, sync_playwright

    url, folder = app
    with sync_playwright() as p:
        browser, page = tall_page(p)
        page.goto(url)
        expect(page.get_by_role("heading", name="Design a mechanism")).to_be_visible()
        multiplier = page.get_by_label("Multiplier", exact=True)
        agents = page.get_by_label("Num agents", exact=True)
        rounds = page.get_by_label("Rounds", exact=True)
        commit(multiplier, "1e309")
        expect(
            page.get_by_text("1e309 is beyond the largest number a run can hold")
        ).to_be_visible()
        commit(agents, "12345678901234567890")
        # Beneath the box (the page's markdown writes >= as ≥), and in the check.
        beside = page.get_by_text("got 12345678901234567890, must be ≥ 2 and ≤ 64", exact=True)
        expect(beside).to_be_visible()
        commit(rounds, "")
        expect(page.get_by_text("empty: type a number")).to_be_visible()
        expect(multiplier).to_have_value("1e309")  # nothing put back behind the person's back
        expect(agents).to_have_value("12345678901234567890")
        expect(rounds).to_have_value("")
        expect(page.get_by_text("Valid design")).to_have_count(0)
        _shot(page, folder, "design_number_boxes.png")

        commit(multiplier, "1.6")
        commit(agents, "4")
        commit(rounds, "6")
        expect(page.get_by_text("Valid design: 4 agents")).to_be_visible()
        name = page.get_by_label("Name", exact=True)
        commit(name, "")
        # The rerun that empties the name draws a new file-name box before it drops the old one
        # (seen taking up to 30 s on a loaded machine): wait for the new box by its value.
        new_box = page.locator('input[aria-label="File name"][value="design.toml"]')
        expect(new_box).to_have_count(1, timeout=120_000)
        expect(page.get_by_label("File name", exact=True)).to_have_count(1, timeout=120_000)
        page.get_by_role("button", name="Save design").click()
        expect(page.get_by_text("Saved to <designs>/design.toml")).to_be_visible()
        commit(name, "..")
        commit(rounds, "7")
        page.get_by_role("button", name="Save design").click()
        expect(
            page.get_by_text("Not saved: <designs>/design.toml holds another design")
        ).to_be_visible()
        _shot(page, folder, "design_save_asks.png")
        page.get_by_role("button", name="Save as design_2.toml").click()
        expect(page.get_by_text("Saved to <designs>/design_2.toml")).to_be_visible()
        _no_server_paths(page, folder)
        browser.close()
    designs = folder / "designs"
    assert sorted(p.name for p in designs.glob("*.toml")) == ["design.toml", "design_2.toml"]
    assert "rounds = 6" in (designs / "design.toml").read_text()
    assert "rounds = 7" in (designs / "design_2.toml").read_text()


def test_a_sweep_waits_for_a_job_slot_and_runs_with_the_one_free(app):
    from playwright.sync_api import expect, sync_playwright

    url, folder = app
    runs = folder / "runs"
    holders = [
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"]) for _ in range(2)
    ]
    try:
        for proc in holders:  # two job workers keep both slots busy
            job = jobs.prepare("", runs, seeds=[0], name="busy")
            jobs.write_status(
                job.path, state="running", pid=proc.pid, pid_start=slots.process_start(proc.pid)
            )
        with sync_playwright() as p:
            browser, page = tall_page(p)
            _open(page, url, "Sweep", "Sweep")
            commit(page.get_by_label("Field = values", exact=True), "mechanisms.0.rate=0,2")
            commit(page.get_by_label("Seeds", exact=True), "1")
            commit(page.get_by_label("Evaluation episodes", exact=True), "3")
            commit(page.get_by_label("Workers", exact=True), "2")
            commit(page.get_by_label("Sweep name", exact=True), "slots")
            page.get_by_role("button", name="Launch sweep").click()
            expect(page.get_by_text("into <runs>/sweeps/slots")).to_be_visible()
            expect(page.get_by_text("Waiting for a free slot: 2 of 2")).to_be_visible()
            _shot(page, folder, "sweep_waiting.png")
            holders[0].kill()
            holders[0].wait()
            expect(page.get_by_text("Runs with 1 worker of the 2 asked for")).to_be_visible(
                timeout=60_000
            )
            expect(page.get_by_text("2 of 2 runs done")).to_be_visible(timeout=90_000)
            _no_server_paths(page, folder)
            _shot(page, folder, "sweep_one_slot.png")
            browser.close()
    finally:
        for proc in holders:
            proc.kill()
            proc.wait()
