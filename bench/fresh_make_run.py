"""What a new user waits for: a fresh clone, ``make run``, until the app shows the demo's results.

Clones a branch of this repository into a new folder under /tmp, runs ``make run`` there (the
app on a free port, headless) and times each phase: the clone, the install (until
``.venv/.installed`` appears), the demo (until it prints its takeaway), the app answering HTTP
200, and the app's Compare page, in headless Chromium (Debian's, driven by playwright from the
interpreter running this script), opened on the demo's runs with each of its rules in the rules
table and a figure drawn. Prints one line per phase and the machine's load, then stops the app
and everything ``make run`` started, and removes the clone (also after a failure) unless
``--keep``.

    .venv/bin/python bench/fresh_make_run.py [--branch NAME] [--keep]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

# Debian's Chromium, never a downloaded one. A local copy of what tests/browser.py declares for
# the test suite: this study runs as a script from any folder (and against a fresh clone), so
# it does not import the test tree.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]  # fmt: skip


def free_port() -> int:
    """A TCP port nothing listens on now, for the app started next."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


REPO = Path(__file__).resolve().parents[1]
DEMO_DONE = "the runs: coopsim compare"  # the demo's last line
LIMIT_S = 1800


def wait_for(what: str, ready, proc: subprocess.Popen, log: Path) -> None:
    """Poll ``ready()`` until true; fail with make's log if make ends or time runs out."""
    deadline = time.monotonic() + LIMIT_S
    while not ready():
        if proc.poll() is not None or time.monotonic() > deadline:
            sys.exit(f"make run ended before {what}:\n{log.read_text()[-3000:]}")
        time.sleep(0.25)


def newcomer_env() -> dict[str, str]:
    """This environment as a new user's shell has it: without ``PYTHONDONTWRITEBYTECODE``,
    which test machines set and which makes `make` byte-compile the whole install (see the
    Makefile), and without an activated environment's variables."""
    drop = {"PYTHONDONTWRITEBYTECODE", "VIRTUAL_ENV", "PYTHONPATH"}
    return {k: v for k, v in os.environ.items() if k not in drop}


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


def demo_rules(text: str) -> list[str]:
    """The rules of the demo's final table, as its log printed them (the first column: the
    label, followed by two or more spaces), so the Compare page can be held to the same."""
    lines = text[text.index("mean [95% CI]") :].splitlines()[2:]  # past the title and header
    rules = []
    for line in lines:
        if not line.strip() or line.startswith("("):  # the table ends at its notes
            break
        rules.append(re.split(r"\s{2,}", line.strip())[0])
    if not rules:
        raise ValueError("no rows under the demo's table header")
    return rules


def compare_shows(url: str, names: list[str], rules: list[str]) -> None:
    """Open the Compare page and wait until it has chosen the demo's runs (``names``), its
    rules table shows each of the demo's ``rules`` with the learners' contribution rate, and
    its first figure has drawn."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1600})
        page.goto(f"{url}/compare")
        chosen = page.get_by_test_id("stMultiSelect").first  # the runs the page opened on
        for name in names:
            expect(chosen.locator(f'[data-tag][aria-label="{name}"]')).to_have_count(
                1, timeout=120_000
            )
        # the rules table; the run-by-run one follows it, folded in an expander
        table = page.get_by_test_id("stTable").first
        expect(table).to_contain_text("learners' contribution rate", timeout=120_000)
        for rule in rules:
            expect(table).to_contain_text(rule)
        figure = page.locator('[role="tabpanel"] img').first
        expect(figure).to_be_visible(timeout=120_000)
        page.wait_for_function("e => e.complete && e.naturalWidth > 0", arg=figure.element_handle())
        browser.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    branch = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--abbrev-ref", "HEAD"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    parser.add_argument("--branch", default=branch, help=f"branch to clone (default: {branch})")
    parser.add_argument("--keep", action="store_true", help="keep the clone afterwards")
    args = parser.parse_args()
    # playwright comes with the dev extra (`make test`), not with `make run`: say so now, not
    # after minutes of install and training when the Compare page is to be opened
    if importlib.util.find_spec("playwright") is None:
        sys.exit(
            f"{sys.executable} has no playwright: run this with the interpreter of an "
            "environment set up by `make test` (the dev extra), e.g. .venv/bin/python"
        )

    folder = Path(tempfile.mkdtemp(prefix="coopsim-fresh-"))
    clone, log = folder / "coopsim", folder / "make.log"
    port = free_port()
    url = f"http://localhost:{port}"
    print(
        f"load before: {os.getloadavg()[0]:.1f} (1-min average), {os.cpu_count()} cores", flush=True
    )
    start = time.monotonic()
    marks: list[tuple[str, float]] = []

    def mark(phase: str) -> None:
        marks.append((phase, time.monotonic() - start))
        print(f"{phase:<38} at {marks[-1][1]:6.1f} s  (load {os.getloadavg()[0]:.1f})", flush=True)

    subprocess.run(["git", "clone", "-q", "--branch", args.branch, str(REPO), str(clone)],
                   check=True)  # fmt: skip
    mark("cloned")
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            ["make", "run", f"APP_ARGS=--headless --port {port}"],
            cwd=clone, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            env=newcomer_env(),
        )  # fmt: skip
    try:
        wait_for("the install", (clone / ".venv" / ".installed").exists, proc, log)
        mark("installed")
        wait_for("the demo's end", lambda: DEMO_DONE in log.read_text(errors="replace"), proc, log)
        mark("demo finished")
        wait_for("the app answering", lambda: answers(f"{url}/_stcore/health"), proc, log)
        if not answers(url):
            sys.exit(f"{url} did not answer 200")
        mark("app answers HTTP 200")
        # a fresh clone's runs are the demo's, and the page opens on the latest demo's runs
        runs = [p.name for p in (clone / "runs").iterdir() if not p.name.startswith(".")]
        rules = demo_rules(log.read_text(errors="replace"))
        compare_shows(url, runs, rules)
        mark(f"Compare: {len(runs)} runs, {len(rules)} rules, a figure")
        text = log.read_text(errors="replace")
        print("\nthe demo printed:")
        print(text[text.index("mean [95% CI]") : text.index(DEMO_DONE)].rstrip())
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        if args.keep:
            print(f"\nthe clone: {clone}")
        else:  # a clone holds a whole environment (about 2 GB): never left behind in /tmp
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
