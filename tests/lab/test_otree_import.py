"""What `coopsim otree import` refuses, in one line, without writing a run directory."""

from __future__ import annotations

import json

import pytest

from coopsim.cli import main
from coopsim.lab.otree_export import export
from coopsim.lab.otree_import import import_csv
from coopsim.schema import ConfigError


@pytest.fixture
def project(tmp_path):
    return export("public_goods", tmp_path / "project", [0])


def rows(rounds: int) -> str:
    """A one-participant table's CSV that stops after ``rounds`` rounds."""
    head = (
        "participant.code,player.seat,group.id_in_subsession,group.contributions,group.net,"
        "group.gross,group.transfers,subsession.round_number,session.code\n"
    )
    c, net = [10.0, 20.0, 0.0, 0.0], [26.0, 16.0, 36.0, 36.0]
    line = '"p1",0,1,"{c}","{n}","{n}","{{}}",{r},"s1"\n'
    return head + "".join(
        line.format(c=json.dumps(c), n=json.dumps(net), r=r) for r in range(1, rounds + 1)
    )


def test_an_unfinished_table_is_refused(project, tmp_path):
    csv = tmp_path / "coopsim_table.csv"
    csv.write_text(rows(9))  # public_goods has 10 rounds
    with pytest.raises(ConfigError, match="no group finished all 10 rounds"):
        import_csv(csv, project, tmp_path / "runs")
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_a_finished_table_is_a_run(project, tmp_path):
    csv = tmp_path / "coopsim_table.csv"
    csv.write_text(rows(10))
    from coopsim.record import load_run

    run = load_run(import_csv(csv, project, tmp_path / "runs"))
    assert run.episodes.groupby("agent", observed=True)["controller"].first().tolist() == [
        "human",
        "conditional_cooperator",
        "conditional_cooperator",
        "free_rider",
    ]
    assert run.episodes["net"].sum() == pytest.approx(10 * 114.0)
    assert run.summary["metrics"]["productivity"]["mean"] == pytest.approx(10 * 114.0)


def test_wrong_files_get_one_line_errors(project, tmp_path, capsys):
    wide = tmp_path / "all_apps_wide.csv"
    wide.write_text("participant.code,coopsim_table.1.player.level\np1,3\n")
    assert main(["otree", "import", str(wide), "--project", str(project)]) == 2
    assert "column missing" in capsys.readouterr().err
    assert main(["otree", "import", str(wide), "--project", str(tmp_path)]) == 2
    assert "give the folder `coopsim otree export` wrote" in capsys.readouterr().err
