"""The one TOML reader and the one atomic write."""

from __future__ import annotations

import os

import pytest

from coopsim.files import TOMLDecodeError, atomic_file, atomic_write_text, read_toml


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
