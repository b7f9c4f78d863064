"""coopsim report SWEEP_DIR: a Sweep section with findings, then the best cell's runs."""

from __future__ import annotations

from coopsim import cli
from coopsim import scenario as sc
from coopsim.report.content import build_content
from coopsim.report.model import FigureBlock, Paragraph, Table
from coopsim.sweeps import SweepSpec, run_sweep


def test_a_sweep_folder_reports_its_findings_and_its_best_cells_runs(tmp_path):
    spec = SweepSpec(grid={"mechanisms.0.rate": [0, 2]}, seeds=[0, 1])
    run_sweep(sc.load("public_goods_matching"), spec, tmp_path / "sw", episodes=3)
    report = build_content([tmp_path / "sw"])
    sweep = report.sections[0]
    assert sweep.title == "Sweep: sw"
    texts = [b.text for b in sweep.blocks if isinstance(b, Paragraph)]
    assert any(
        t.startswith("The best cell for objective is rate of mechanism 1 (mechanisms.0.rate) = 2:")
        for t in texts
    )
    assert any(
        t.startswith(
            "Raising rate of mechanism 1 (mechanisms.0.rate) from 0 to 2 changes objective by +"
        )
        for t in texts
    )
    assert any(isinstance(b, Table) for b in sweep.blocks)
    assert any(isinstance(b, FigureBlock) for b in sweep.blocks)
    assert "2 run(s)" in report.subtitle  # the best cell at its two seeds
    out = tmp_path / "report.html"
    assert cli.main(["report", str(tmp_path / "sw"), "-o", str(out)]) == 0
    assert "The best cell for objective" in out.read_text()
