"""A sweep killed mid-way (the driver, or one worker) and run again ends with the same table.

Each test starts ``coopsim sweep`` in a subprocess over learning cells, waits until a cell has
written a training checkpoint, kills with SIGKILL, and runs the same command again; the table
must equal an uninterrupted sweep's (``wall_s`` and run folder names aside) and some cell must
have resumed from a checkpoint rather than started over.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from coopsim import scenario as sc
from coopsim.record import load_sweep
from coopsim.sweeps import run_sweep
from coopsim.sweeps.spec import load_base

pytestmark = pytest.mark.slow

SWEEP = """
[training]
iterations = 16
num_worlds = 8
checkpoint_every = 2
gamma = 0.5
learning_rate = 0.01
reward_scale = 0.02

[evaluation]
episodes = 4

[sweep]
seeds = 2
[sweep.grid]
"mechanisms.0.rate" = [0.0, 2.0]
"""
COMPARED_OUT = ("wall_s", "run")


@pytest.fixture(scope="module")
def sweep_file(tmp_path_factory) -> Path:
    base = sc.resolve_path("public_goods_learning_matching").read_text()
    base = base[: base.index("[training]")]  # the world, the match and four PPO learners
    path = tmp_path_factory.mktemp("spec") / "matching_sweep.toml"
    path.write_text(base + SWEEP)
    return path


@pytest.fixture(scope="module")
def uninterrupted(sweep_file, tmp_path_factory) -> pd.DataFrame:
    scenario, spec = load_base(sweep_file)
    return run_sweep(scenario, spec, tmp_path_factory.mktemp("whole")).table


def _command(sweep_file: Path, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "coopsim.cli",
        "sweep",
        str(sweep_file),
        "--out",
        str(out),
        *extra,
    ]


def _wait_for_checkpoint(proc: subprocess.Popen, out: Path, timeout: float = 240.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if list(out.glob("*/.*.partial/checkpoints/iteration-*.pt")):
            return
        if proc.poll() is not None:
            raise AssertionError(f"the sweep ended (rc {proc.returncode}) before a checkpoint")
        time.sleep(0.02)
    proc.kill()
    raise AssertionError("no checkpoint appeared")


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def _resumed(out: Path) -> list[int]:
    return [
        json.loads(p.read_text())["training"]["resumed_from"]
        for p in out.glob("*/*/summary.json")
        if json.loads(p.read_text())["training"]["resumed_from"] is not None
    ]


def _check_same(out: Path, uninterrupted: pd.DataFrame, *, must_resume: bool = True) -> None:
    table = load_sweep(out)
    assert (table["status"] == "ok").all(), table[["status", "error"]]
    keep = [c for c in uninterrupted.columns if c not in COMPARED_OUT]
    pd.testing.assert_frame_equal(table[keep], uninterrupted[keep])
    if must_resume:
        assert _resumed(out), "no cell resumed from a checkpoint"
    assert not list(out.glob("*/.*.partial")), "a staging folder was left behind"


@pytest.mark.parametrize("backend", ["local", "ray"])
def test_a_killed_driver_resumes_to_the_same_table(sweep_file, uninterrupted, tmp_path, backend):
    if backend == "ray":
        pytest.importorskip("ray", reason="the ray extra: pip install -e '.[ray]'")
    out = tmp_path / "sweep"
    cmd = _command(sweep_file, out, "--workers", "2", "--backend", backend)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_for_checkpoint(proc, out)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    # Local workers die with their driver, so an interrupted cell must resume. Ray tears a dead
    # driver's tasks down asynchronously: one may finish its cell before the rerun starts,
    # which then has nothing left to resume; the table must be the same either way.
    _check_same(out, uninterrupted, must_resume=backend == "local")


def test_a_killed_worker_fails_its_rows_and_the_rerun_completes(
    sweep_file, uninterrupted, tmp_path
):
    out = tmp_path / "sweep"
    cmd = _command(sweep_file, out, "--workers", "2")
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _wait_for_checkpoint(proc, out)
    workers = [p for p in _children(proc.pid) if b"spawn_main" in _cmdline(p)]
    assert workers, "no worker process found"
    os.kill(workers[0], signal.SIGKILL)
    _, err = proc.communicate(timeout=600)
    assert proc.returncode == 1 and "run the same command again" in err
    assert "failed" in set(load_sweep(out)["status"])
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    _check_same(out, uninterrupted)


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""
