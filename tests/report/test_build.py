"""Writing reports: the format from the suffix, files replaced atomically, and reports written
into a folder never overwriting one another, whoever writes them at the same moment."""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path

import pytest

from coopsim.cli import main
from coopsim.report import Paragraph, Report, Section, build, build_report


def test_report_to_folder_and_bad_suffix(run_dirs, tmp_path, capsys):
    path = build_report(run_dirs[1:], tmp_path / "reports")
    assert path.parent == tmp_path / "reports" and path.suffix == ".html"
    assert path.name.startswith("report-")
    # no temporary file left; the findings as data beside the report
    assert sorted(p.name for p in path.parent.iterdir()) == sorted(
        [path.name, f"{path.stem}.findings.json"]
    )
    with pytest.raises(ValueError, match=r"\.html or \.pdf"):
        build_report(run_dirs[1:], tmp_path / "report.docx")
    assert main(["report", str(tmp_path / "nothing-*"), "-o", str(tmp_path / "r.html")]) == 2
    assert "no run directories" in capsys.readouterr().err


@pytest.fixture
def quick_reports(monkeypatch):
    """Reports of one paragraph each, all stamped with the same second."""

    class FrozenClock(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime(2026, 1, 2, 3, 4, 5)

    def content(runs, rank_by=None):
        (writer,) = runs
        return Report(f"report by {writer}", "", [Section("a", "A", [Paragraph(writer)])])

    monkeypatch.setattr(build, "datetime", FrozenClock)
    monkeypatch.setattr(build, "build_content", content)


def test_a_named_file_is_replaced(tmp_path, quick_reports):
    out = tmp_path / "r.html"
    build_report(["first"], out)
    assert build_report(["second"], out) == out
    assert "report by second" in out.read_text() and "first" not in out.read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]


def test_writers_in_the_same_second_never_overwrite(tmp_path, quick_reports, monkeypatch):
    """Writers finishing together each publish under their own name (threads)."""
    writers = [f"writer-{i}" for i in range(4)]
    ready = threading.Barrier(len(writers))
    render = build._render

    def render_then_wait(report, path, *, pdf):
        render(report, path, pdf=pdf)
        ready.wait(timeout=30)  # all publish at once, racing for one name

    monkeypatch.setattr(build, "_render", render_then_wait)
    paths: dict[str, Path] = {}

    def write(name: str) -> None:
        paths[name] = build_report([name], tmp_path)

    threads = [threading.Thread(target=write, args=(w,)) for w in writers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(p.name for p in paths.values()) == [
        "report-20260102-030405-2.html", "report-20260102-030405-3.html",
        "report-20260102-030405-4.html", "report-20260102-030405.html",
    ]  # fmt: skip
    for name, path in paths.items():
        assert f"report by {name}" in path.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in paths.values())
