"""``coopsim demo --quick``: the whole path in seconds, and a caution that its numbers say
nothing about the rules."""

from __future__ import annotations

from coopsim.cli import main
from coopsim.experiments.demo import ARMS


def test_a_quick_demo_says_its_numbers_show_the_wiring_only(tmp_path, capsys):
    out_dir = tmp_path / "quick"
    code = main(["demo", "--quick", "--seeds", "0", "--workers", "1", "--out", str(out_dir)])
    out = capsys.readouterr().out
    assert code == 0
    runs = [p for p in out_dir.iterdir() if (p / "summary.json").is_file()]
    assert len(runs) == len(ARMS)
    assert "--quick: one training iteration per rule" in out
    assert "not what the rules do" in out
