"""bench/fresh_make_run.py refuses, before it clones or installs anything, an interpreter that
cannot open the Compare page at its end (no playwright: an environment from `make run` alone)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_an_interpreter_without_playwright_is_refused_before_any_clone():
    before = set(Path(tempfile.gettempdir()).glob("coopsim-fresh-*"))
    # -S: no site-packages, so no playwright, as in a venv that only `make run` set up
    done = subprocess.run(
        [sys.executable, "-S", str(ROOT / "bench" / "fresh_make_run.py")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "has no playwright" in done.stderr and "make test" in done.stderr, done.stderr
    assert set(Path(tempfile.gettempdir()).glob("coopsim-fresh-*")) == before  # nothing cloned


def load_script():
    """The script as a module (it lives outside the package, in bench/)."""
    spec = importlib.util.spec_from_file_location(
        "fresh_make_run", ROOT / "bench" / "fresh_make_run.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_demos_rules_are_read_from_its_printed_table():
    from coopsim.analysis.demo_findings import arm_findings, format_table
    from tests.analysis.test_demo_findings import fake_run

    base = arm_findings("no mechanism", [fake_run([s, s], ["ppo"] * 2) for s in (0, 0.05, 0)])
    mixed = [
        fake_run([s, s, 1, 1], ["ppo", "ppo", "punisher", "punisher"], -2.0, 0.0)
        for s in (0.5, 0.5, 0.55)
    ]
    punish = arm_findings("peer punishment 3x, with 2 punisher seats", mixed)
    log = (
        "training: 100%\nmean [95% CI] over training seeds\n"
        + format_table([base, punish])
        + "\n\n- With no mechanism ...\n\nthe runs: coopsim compare runs/x-*\n"
    )
    assert load_script().demo_rules(log) == [
        "no mechanism",
        "peer punishment 3x, with 2 punisher seats",
    ]


def test_a_log_without_table_rows_is_refused():
    script = load_script()
    with pytest.raises(ValueError, match="no rows"):
        script.demo_rules("mean [95% CI] over training seeds\nrule  contribution\n\n")


def test_make_runs_as_in_a_new_users_shell(monkeypatch):
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    monkeypatch.setenv("VIRTUAL_ENV", "/somewhere/.venv")
    monkeypatch.setenv("COOPSIM_BENCH_PROBE", "kept")
    env = load_script().newcomer_env()
    assert "PYTHONDONTWRITEBYTECODE" not in env and "VIRTUAL_ENV" not in env
    assert env["COOPSIM_BENCH_PROBE"] == "kept" and env["PATH"] == os.environ["PATH"]
