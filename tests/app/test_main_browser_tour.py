"""The docs' app tour (docs/app.md), step by step, in headless Chromium: design -> run -> compare -> report.

Each step does what the docs page "The app, step by step" says, with its labels and values, so a
change to the app that breaks the tour breaks this test (and the page must change with it).
Along the way the app's former traps are checked as a user meets them: every page opens from
its own URL, optional fields of a planner scenario are unset rather than 0, a renamed design is
saved under its new name, a zero-width interval on Compare is explained, and the Report page
reports on the runs chosen on Compare, previewed inline, as HTML and PDF.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.browser import commit, settle, tall_page

PAGE = Path(__file__).resolve().parents[2] / "docs" / "app.md"
TOUR = "# The app, step by step"


def tour_steps() -> list[str]:
    """The page's numbered tour steps, as written."""
    text = PAGE.read_text()
    section = text[text.index(TOUR) :]
    end = section.find("\n#", len(TOUR))
    section = section if end < 0 else section[:end]
    return re.findall(r"^\d\. (.+?)(?=^\d\. |\Z)", section, flags=re.S | re.M)


def test_the_docs_have_the_four_steps_this_test_walks():
    steps = tour_steps()
    assert [s.split("**")[1] for s in steps] == ["Design.", "Run.", "Compare.", "Report."]
    design, run, compare, report = (" ".join(s.split()) for s in steps)
    for said in (
        "*Start from scenario* choose `public_goods_institution`",
        "*Name* to `my_institution`",
        "*Rounds* to `5`",
        "*Save design*",
        "`my_institution.toml`",
    ):
        assert said in design, said
    for said in ("*Seeds* to `2`", "*Evaluation episodes* to `8`", "*Start run*", "Finished: 2"):
        assert said in run, said
    for said in ("*Compare these runs*", "*Each run on its own*", "marked `*`"):
        assert said in compare, said
    for said in ("*Write a report on these runs*", "*Build report*", "*Download PDF*"):
        assert said in report, said


@pytest.mark.slow
@pytest.mark.browser
def test_the_readme_tour_in_chromium(server, tmp_path):  # noqa: F811
    from playwright.sync_api import expect, sync_playwright

    url, runs = server
    with sync_playwright() as p:
        browser, page = tall_page(p)

        # Every page opens from its own address.
        for path, heading in (
            ("report", "Scenario report"),
            ("compare", "Compare rules"),
            ("run", "Run the design"),
            ("design", "Design a mechanism"),
        ):
            page.goto(f"{url}/{path}")
            expect(page.get_by_role("heading", name=heading)).to_be_visible()
            expect(page.get_by_text("Page not found")).to_have_count(0)

        # A planner scenario's optional numbers are unset, not 0 (which was invalid).
        start = page.get_by_role("combobox", name="Start from scenario")

        def choose(name: str) -> None:
            """Pick a scenario as a person does in a long list: type, then click it."""
            start.click()
            start.fill(name)
            page.get_by_role("option", name=name, exact=True).click()
            expect(start).to_have_value(name)
            settle(page)

        choose("tax_one_step_ai_planner")
        expect(page.get_by_text("Valid design: 4 agents")).to_be_visible()
        expect(page.get_by_text("num_minibatches: got 0")).to_have_count(0)

        # 1. Design.
        choose("public_goods_institution")
        name = page.get_by_role("textbox", name="Name", exact=True)
        expect(name).to_have_count(1)  # the form is drawn again for the new scenario
        expect(name).to_have_value("public_goods_institution")
        commit(name, "my_institution")
        commit(page.get_by_label("Rounds", exact=True), "5")
        expect(page.get_by_text("Valid design: 4 agents")).to_be_visible()
        # The save box is keyed by the design's name: until the rerun that draws the renamed
        # one has finished, the old box is still on the page, alone or beside the new one. So
        # wait for the one box and its value together, not one after the other.
        page.wait_for_function(
            """() => {
                const boxes = document.querySelectorAll('input[aria-label="File name"]');
                return boxes.length === 1 && boxes[0].value === "my_institution.toml";
            }""",
            timeout=60_000,
        )
        file_name = page.get_by_label("File name", exact=True)
        expect(file_name).to_have_value("my_institution.toml")
        page.get_by_role("button", name="Save design").click()
        expect(
            page.get_by_text("my_institution.toml: listed as 'saved: my_institution'")
        ).to_be_visible()

        # 2. Run.
        page.get_by_role("link", name="Run").first.click()
        expect(page.get_by_role("heading", name="Run the design")).to_be_visible()
        commit(page.get_by_label("Seeds", exact=True), "2")
        commit(page.get_by_label("Evaluation episodes", exact=True), "8")
        page.get_by_role("button", name="Start run").click()
        expect(page.get_by_text("Finished: 2 run directories")).to_be_visible(timeout=60_000)

        # 3. Compare: the two runs, every interval of zero width marked and explained.
        page.get_by_role("link", name="Compare these runs").click()
        expect(page.get_by_role("heading", name="Compare rules")).to_be_visible()
        rules = page.get_by_test_id("stTable").first  # the rule, pooled over its two seeds
        expect(rules).to_contain_text("contribution rate")
        expect(rules).to_contain_text("seeds")
        # the '*' notes go with the run-by-run table, collapsed while rules are pooled
        note = page.get_by_text("Zero-width intervals: * every unit gave the same value")
        expect(note).to_be_hidden()
        by_run = page.get_by_test_id("stExpander").filter(has_text="Each run on its own")
        by_run.get_by_text("Each run on its own").click()
        expect(
            by_run.get_by_text("Zero-width intervals: * every unit gave the same value")
        ).to_be_visible()

        # 4. Report: on the runs chosen on Compare, previewed, as HTML and PDF.
        page.get_by_role("link", name="Write a report on these runs").click()
        expect(page.get_by_role("heading", name="Scenario report")).to_be_visible()
        chosen = page.get_by_text("(chosen on Compare)")
        expect(chosen).to_contain_text("my_institution-")
        page.get_by_role("button", name="Build report").click()
        expect(page.get_by_role("button", name="Download HTML")).to_be_visible(timeout=120_000)
        expect(page.get_by_role("button", name="Download PDF")).to_be_visible()
        preview = page.frame_locator("iframe").first
        expect(preview.get_by_text("my_institution").first).to_be_attached()
        with page.expect_download() as pdf:
            page.get_by_role("button", name="Download PDF").click()
        saved = tmp_path / "report.pdf"
        pdf.value.save_as(saved)
        page.screenshot(path=str(tmp_path / "tour-report.png"), full_page=True)
        browser.close()

    assert saved.read_bytes()[:5] == b"%PDF-"
    made = sorted(p.name for p in runs.iterdir() if not p.name.startswith("."))
    assert len(made) == 2 and all(n.startswith("my_institution-") for n in made)
    assert (tmp_path / "designs" / "my_institution.toml").exists()
