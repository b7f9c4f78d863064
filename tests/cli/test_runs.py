"""``coopsim app``: where the server listens, and that stopping the command stops the server."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from coopsim.cli import build_parser
from coopsim.cli.runs import app_command
from tests.browser import free_port


def test_the_app_listens_on_localhost_unless_told_otherwise():
    args = build_parser().parse_args(["app"])
    assert args.address == "localhost"
    command = app_command(args.port, args.headless, args.address)
    assert command[command.index("--server.address") + 1] == "localhost"
    shared = build_parser().parse_args(["app", "--address", "0.0.0.0"])
    command = app_command(shared.port, shared.headless, shared.address)
    assert command[command.index("--server.address") + 1] == "0.0.0.0"


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://localhost:{port}/_stcore/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def _port_taken(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.slow
def test_a_sigterm_to_the_command_stops_the_server(tmp_path):
    """Stopping ``coopsim app`` (not its process group) must not leave Streamlit on the port."""
    port = free_port()
    command = [sys.executable, "-m", "coopsim.cli", "app", "--headless", "--port", str(port)]
    proc = subprocess.Popen(
        [*command, "--runs", str(tmp_path / "runs")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env={**os.environ, "COOPSIM_DESIGNS": str(tmp_path / "designs")},
    )
    try:
        deadline = time.monotonic() + 60
        while not _answers(port):
            assert proc.poll() is None and time.monotonic() < deadline, "the app did not start"
            time.sleep(0.3)
        proc.send_signal(signal.SIGTERM)  # the command only, as `kill <pid>` does
        proc.wait(timeout=20)
        deadline = time.monotonic() + 20
        while _port_taken(port):
            assert time.monotonic() < deadline, "the server outlived the command"
            time.sleep(0.3)
    finally:
        with contextlib.suppress(ProcessLookupError):  # what is left of its process group
            os.killpg(proc.pid, signal.SIGKILL)
