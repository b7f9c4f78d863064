"""Names a user gives can never choose where a file lands: slugs, containment, redaction."""

from __future__ import annotations

from pathlib import Path

import pytest

from coopsim import scenario as sc
from coopsim.app import jobs
from coopsim.paths import UnsafePathError, inside, redact, slug
from coopsim.record import RunWriter, new_run_name
from coopsim.runner import run_scenario
from coopsim.staging import partial_dir

HOSTILE = [
    "../../escape/XXX",
    "/etc/passwd",
    "..",
    ".",
    "a/b\\c",
    "nul\x00byte",
    "x" * 300,
    ".hidden",
    "...",
    "",
    "  ",
    "é/../ü",
]


@pytest.mark.parametrize("name", HOSTILE)
def test_slug_is_one_safe_visible_name(name):
    s = slug(name)
    assert s and len(s) <= 80
    assert "/" not in s and "\\" not in s and "\x00" not in s
    assert not s.startswith(".") and s not in (".", "..")
    assert s == s.lower()


def test_names_differing_only_in_case_share_one_slug():
    # On a case-insensitive file system they would share a folder anyway: say so up front.
    assert slug("Design") == slug("design") == "design"


@pytest.mark.parametrize("part", ["../x", "/abs/x", "a/../../x"])
def test_inside_refuses_paths_that_leave_the_root(tmp_path, part):
    with pytest.raises(UnsafePathError) as err:
        inside(tmp_path / "runs", part)
    assert str(tmp_path) not in str(err.value)


def test_inside_refuses_a_symlink_that_leads_out(tmp_path):
    root = tmp_path / "runs"
    root.mkdir()
    (root / "link").symlink_to(tmp_path)
    with pytest.raises(UnsafePathError):
        inside(root, "link", "x")


def test_inside_accepts_a_plain_child(tmp_path):
    assert inside(tmp_path, "a", "b.toml") == tmp_path / "a" / "b.toml"


def test_redact_hides_server_paths(tmp_path):
    text = f"{tmp_path}/runs/x: permission denied"
    assert redact(text, {"<runs>": tmp_path / "runs"}) == "<runs>/x: permission denied"


@pytest.mark.parametrize("name", HOSTILE)
def test_run_names_and_partial_folders_stay_in_the_runs_folder(tmp_path, name):
    out = tmp_path / "runs"
    assert partial_dir(out, name, 0).resolve().parent == out.resolve()
    writer = RunWriter(out, new_run_name(name, 0))
    assert writer.final.resolve().parent == out.resolve()
    assert writer.staging.resolve().parent == out.resolve()
    with writer:
        pass


def test_run_writer_refuses_a_name_that_is_a_path(tmp_path):
    with pytest.raises(UnsafePathError):
        RunWriter(tmp_path / "runs", "../escaped")
    assert not (tmp_path / "escaped").exists()


@pytest.mark.parametrize("name", HOSTILE)
def test_app_job_folders_stay_in_the_runs_folder(tmp_path, name):
    out = tmp_path / "runs"
    job = jobs.prepare("name = 'x'\n", out, seeds=[0], name=name)
    assert job.path.resolve().parent == (out / jobs.JOBS).resolve()


def test_a_scenario_named_as_a_path_runs_inside_the_runs_folder(tmp_path):
    data = sc.load("public_goods").to_dict()
    data["name"] = "../../escape/XXX"
    scenario = sc.from_dict(data)
    out = tmp_path / "deep" / "runs"
    path = Path(run_scenario(scenario, seed=0, out=out, episodes=1))
    assert path.resolve().parent == out.resolve()
    assert path.name.startswith("escape_xxx-")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["deep"]
