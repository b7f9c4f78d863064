"""Shipped notebook runs: found by scenario and seed, or a one-line error naming the command
that makes them."""

from __future__ import annotations

import pytest

from coopsim.analysis import shipped_runs


def test_a_missing_run_names_the_folder_and_the_command(monkeypatch, tmp_path):
    monkeypatch.setattr(shipped_runs, "data_dir", lambda notebook: tmp_path / notebook)
    with pytest.raises(FileNotFoundError) as err:
        shipped_runs.shipped_run("commons", "commons_quota", 2)
    message = str(err.value)
    assert "no shipped run of commons_quota at seed 2" in message
    assert "python scripts/notebook_data.py commons" in message and "\n" not in message


def test_the_newest_run_of_a_scenario_and_seed_is_found(monkeypatch, tmp_path):
    monkeypatch.setattr(shipped_runs, "data_dir", lambda notebook: tmp_path / notebook)
    for name in ("tax-20260101-000000-s0", "tax-20260102-000000-s0", "tax-20260103-000000-s1",
                 "tax_saez-20260104-000000-s0"):  # fmt: skip
        (tmp_path / "nb" / name).mkdir(parents=True)
        (tmp_path / "nb" / name / "summary.json").write_text("{}")
    assert shipped_runs.shipped_run("nb", "tax", 0).name == "tax-20260102-000000-s0"
    assert shipped_runs.shipped_run("nb", "tax").name == "tax-20260103-000000-s1"
    assert shipped_runs.shipped_run("nb", "tax_saez").name.startswith("tax_saez-")


def test_training_is_asked_for_by_the_environment(monkeypatch):
    monkeypatch.delenv(shipped_runs.TRAIN_ENV, raising=False)
    assert not shipped_runs.training()
    monkeypatch.setenv(shipped_runs.TRAIN_ENV, "1")
    assert shipped_runs.training()
