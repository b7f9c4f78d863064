"""`coopsim --threads N` and $COOPSIM_THREADS: one torch thread unless told otherwise."""

from __future__ import annotations

import pytest
import torch

from coopsim import cli


@pytest.fixture(autouse=True)
def restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_one_thread_by_default_then_the_environment_then_the_flag(monkeypatch):
    monkeypatch.delenv(cli.THREADS_ENV, raising=False)
    assert cli.default_threads(None) == 1
    monkeypatch.setenv(cli.THREADS_ENV, "3")
    assert cli.default_threads(None) == 3
    assert cli.default_threads(2) == 2


def test_the_command_sets_torch_threads_before_it_runs(monkeypatch, capsys):
    monkeypatch.delenv(cli.THREADS_ENV, raising=False)
    torch.set_num_threads(2)
    assert cli.main(["list"]) == 0
    assert torch.get_num_threads() == 1
    assert cli.main(["--threads", "2", "list"]) == 0
    assert torch.get_num_threads() == 2


def test_a_bad_thread_count_in_the_environment_is_refused_by_name(monkeypatch, capsys):
    monkeypatch.setenv(cli.THREADS_ENV, "many")
    assert cli.main(["list"]) == 2
    assert "$COOPSIM_THREADS: got 'many', expected an integer >= 1" in capsys.readouterr().err
