"""Two people at one Play table in headless Chromium: two browser contexts take seats 1 and 2
through the table's link, learned agents play seats 3 and 4, both rules are played (the rule a
planner learned, then a preset), each person votes, and the recorded run directories load with
``load_run`` with the people's seats marked in the ``controller`` column."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest

from coopsim import scenario as scenario_mod
from coopsim.record import expand_paths, load_run
from coopsim.runner import run_scenario
from tests.browser import SCREENS, free_port, launch, start_server, stop_server

pytestmark = pytest.mark.slow

ROUNDS = 2  # per rule; the page's default is 10


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """A server whose runs folder holds a planner run (rule A) and a preset's run (rule B)."""
    folder = tmp_path_factory.mktemp("play")
    runs = folder / "runs"
    for name in ("democratic_ai_planner", "democratic_strict_egalitarian"):
        run_scenario(scenario_mod.load(name), out=runs, iterations=1, episodes=2)
    port = free_port()
    proc = start_server(folder, port)
    yield f"http://localhost:{port}", runs
    stop_server(proc)


def _table_state(runs: Path) -> dict:
    (folder,) = (runs / ".tables").iterdir()
    return json.loads((folder / "state.json").read_text())


def _taken(runs: Path, seat: int, rule: int, r: int) -> bool:
    """Whether the table holds seat ``seat``'s choice for round ``r`` (from 1) of ``rule``."""
    state = _table_state(runs)
    return len(state["rounds"][rule]) >= r or (
        state["rule_index"] == rule and str(seat) in state["pending"]
    )


def _choose(page, level: int, runs: Path, seat: int, rule: int, r: int) -> None:
    """Move the contribution slider to ``level`` (from 0), contribute, and wait until the
    table on disk holds the choice."""
    from playwright.sync_api import expect

    slider = page.get_by_role("slider")
    expect(slider).to_have_count(1)  # not last round's, still drawn while the page reruns
    expect(slider).to_be_visible()
    slider.focus()
    page.keyboard.press("Home")
    for _ in range(level):
        page.keyboard.press("ArrowRight")
    expect(slider).to_have_value(str(level))
    page.get_by_role("button", name="Contribute").click()
    deadline = time.monotonic() + 60
    while not _taken(runs, seat, rule, r):
        assert time.monotonic() < deadline, f"seat {seat + 1}'s choice never reached the table"
        time.sleep(0.2)


def _round_heading(page, letter: str, r: int):
    return page.get_by_role("heading", name=f"Rule {letter} round {r} of {ROUNDS}")


def test_two_people_one_agent_seat_two_rules_and_a_vote(app):
    from playwright.sync_api import expect, sync_playwright

    url, runs = app
    ann_levels = {"A": [10, 6], "B": [4, 8]}  # of 10: Ann has 10 points, a level is 1 point
    bob_levels = {"A": [2, 1], "B": [0, 2]}  # Bob has 2 points: a level is 0.2
    with sync_playwright() as p:
        browser = launch(p)
        ann = browser.new_context(viewport={"width": 1400, "height": 2400}).new_page()
        bob = browser.new_context(viewport={"width": 1400, "height": 2400}).new_page()
        for page in (ann, bob):
            page.set_default_timeout(60_000)
        expect.set_options(timeout=60_000)

        # Ann opens a table: the planner's rule (A), the strict egalitarian preset (B)
        ann.goto(f"{url}/play")
        expect(ann.get_by_role("heading", name="Open a table")).to_be_visible()
        ann.get_by_label("Rule A").click()
        ann.get_by_role("option", name=re.compile("democratic_ai_planner")).click()
        ann.get_by_label(re.compile("^Rule B")).click()
        ann.get_by_role("option", name=re.compile("democratic_strict_egalitarian")).click()
        people = ann.get_by_label("People at the table")
        people.fill("2")
        rounds = ann.get_by_label("Rounds per rule")
        rounds.fill(str(ROUNDS))
        ann.get_by_role("button", name="Open the table").click()
        expect(ann.get_by_role("button", name="Take this seat")).to_be_visible()
        ann.get_by_label("Your name").fill("Ann")
        ann.get_by_role("button", name="Take this seat").click()  # seat 1: endowment 10
        expect(ann.get_by_text("Waiting for people: 1 of 2 seated.")).to_be_visible()
        link = re.search(r"(http\S+\?table=[0-9a-f]{8})", ann.inner_text("body")).group(1)
        assert "me=" not in link

        # Bob opens the shared link and takes seat 2 (the first free one)
        bob.goto(link)
        expect(bob.get_by_role("button", name="Take this seat")).to_be_visible()
        bob.get_by_label("Your name").fill("Bob")
        bob.get_by_role("button", name="Take this seat").click()

        for letter in ("A", "B"):
            for r in range(1, ROUNDS + 1):
                for seat, (page, levels) in enumerate(((ann, ann_levels), (bob, bob_levels))):
                    expect(_round_heading(page, letter, r)).to_be_visible()
                    _choose(page, levels[letter][r - 1], runs, seat, "AB".index(letter), r)
        for seat, (page, choice) in enumerate(((ann, "A"), (bob, "B"))):
            expect(page.get_by_role("heading", name="Your vote")).to_be_visible()
            page.get_by_test_id("stRadioGroup").get_by_text(f"Rule {choice}").click()
            page.get_by_role("button", name="Vote").click()
            deadline = time.monotonic() + 60
            while _table_state(runs)["votes"].get(str(seat)) != choice:
                assert time.monotonic() < deadline, (
                    f"seat {seat + 1}'s vote never reached the table"
                )
                time.sleep(0.2)
        for page in (ann, bob):
            expect(page.get_by_text("Recorded as run directories (open them")).to_be_visible()
            expect(page.get_by_text("Votes: rule A 1, rule B 1.")).to_be_visible()
        SCREENS.mkdir(parents=True, exist_ok=True)
        ann.screenshot(path=str(SCREENS / "play_ann_result.png"), full_page=True)
        body = ann.inner_text("body")
        assert "/tmp/" not in body and str(runs) not in body
        browser.close()

    played = [
        load_run(path)
        for path in expand_paths(str(runs / "*"))
        if json.loads((Path(path) / "summary.json").read_text()).get("source") == "play"
    ]
    assert len(played) == 2
    by_rule = {run.summary["play"]["rule"]: run for run in played}
    assert by_rule["A"].summary["scenario"] == "democratic_ai_planner"
    assert by_rule["B"].summary["scenario"] == "democratic_strict_egalitarian"
    for letter, run in by_rule.items():
        ep = run.episodes.sort_values(["round", "agent"])
        seats = ep.groupby("agent", observed=True)["controller"].first().tolist()
        assert seats == ["human", "human", "ppo", "ppo"]
        assert (ep["controller"].astype(str) == "human").sum() == 2 * ROUNDS
        mine = ep[ep["agent"] == 0]["contribution"].tolist()
        theirs = ep[ep["agent"] == 1]["contribution"].tolist()
        assert mine == pytest.approx([float(k) for k in ann_levels[letter]])
        assert theirs == pytest.approx([0.2 * k for k in bob_levels[letter]])
        assert run.summary["votes"]["counts"] == {"A": 1, "B": 1}
        assert run.summary["play"]["people"]["1"]["name"] == "Ann"
        assert run.summary["play"]["people"]["2"] == {"name": "Bob", "left": None}
