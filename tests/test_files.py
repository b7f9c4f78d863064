"""The one TOML reader and the one atomic write."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from coopsim.files import (
    TOMLDecodeError,
    atomic_file,
    atomic_new_file,
    atomic_write_text,
    read_toml,
)


def test_read_toml_and_its_error(tmp_path):
    good, bad = tmp_path / "a.toml", tmp_path / "b.toml"
    good.write_text('name = "x"\n[world]\nkind = "commons"\n')
    bad.write_text("name = \n")
    assert read_toml(good) == {"name": "x", "world": {"kind": "commons"}}
    with pytest.raises(TOMLDecodeError):
        read_toml(bad)


def test_an_atomic_write_replaces_whole_and_leaves_nothing_behind(tmp_path):
    path = tmp_path / "deep" / "f.txt"
    atomic_write_text(path, "old")
    assert path.read_text() == "old"
    with pytest.raises(RuntimeError), atomic_file(path, "w") as fh:
        fh.write("half")
        raise RuntimeError("killed mid-write")
    assert path.read_text() == "old"  # the old content, never a part
    assert os.listdir(path.parent) == ["f.txt"]  # no temporary left
    with atomic_file(path) as fh:
        fh.write(b"new")
    assert path.read_bytes() == b"new"
    mask = os.umask(0)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask  # the usual permissions, not 0600


def test_atomic_file_refuses_other_modes(tmp_path):
    with pytest.raises(ValueError, match="mode"), atomic_file(tmp_path / "f", "a"):
        pass


def test_a_new_file_takes_the_first_free_name_and_leaves_nothing_on_an_error(tmp_path):
    target = tmp_path / "report.html"
    names = []
    for text in ("one", "two", "three"):
        with atomic_new_file(target, "w") as new:
            new.file.write(text)
        names.append(new.path.name)
    assert names == ["report.html", "report-2.html", "report-3.html"]
    assert (tmp_path / "report-2.html").read_text() == "two"  # never replaced
    with pytest.raises(RuntimeError), atomic_new_file(target, "w") as new:
        new.file.write("half")
        raise RuntimeError("killed mid-write")
    assert new.path is None
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names)  # no temporary left


# Each process writes its file, says it is ready, and publishes once both are.
_PUBLISH = """
import sys, time
from pathlib import Path
from coopsim.files import atomic_new_file
folder, gate, who = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
with atomic_new_file(folder / "report-20260102-030405.html", "w") as new:
    new.file.write(who)
    (gate / who).touch()
    while len(list(gate.iterdir())) < 2:
        time.sleep(0.001)
print(new.path)
"""


def test_processes_publishing_together_never_overwrite(tmp_path):
    """Two processes claim the same name at the same instant: each gets its own file."""
    folder, gate = tmp_path / "reports", tmp_path / "gate"
    folder.mkdir()
    gate.mkdir()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _PUBLISH, str(folder), str(gate), who],
            stdout=subprocess.PIPE,
            text=True,
        )
        for who in ("a", "b")
    ]
    published = {}
    for who, proc in zip(("a", "b"), procs):
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0
        published[who] = Path(out.strip())
    assert {p.name for p in published.values()} == {
        "report-20260102-030405.html", "report-20260102-030405-2.html"
    }  # fmt: skip
    for who, path in published.items():
        assert path.read_text() == who
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in published.values())
