"""Every command the README and the docs show runs, as a reader would type it.

The shell blocks of ``README.md`` and ``docs/**/*.md`` are read, and each page's command lines
(backslash continuations joined, comments dropped) run in a fresh working folder of the page's
own, in the order the page gives them: a command that reads ``runs/*`` finds what the commands
before it on that page wrote, so every page runs on its own, as a reader who opens it would. Where a
command has a flag for a tiny budget it gets it (``--quick``, one training iteration, two
evaluation episodes): this checks that the command runs and exits cleanly, not its results,
which other tests check. A command fails on a non-zero exit or a traceback. Set-up commands
(``make``, ``pip``, ``venv``) are not run here: ``make test`` running this suite is their check.
A documented command that none of the rules below covers fails the test until it gets one, so
no command goes unchecked by accident.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.browser import free_port

ROOT = Path(__file__).resolve().parents[2]
SHELL_BLOCK = re.compile(r"^```(?:bash|sh|shell|console)\n(.*?)^```", re.S | re.M)
#: Commands that set up a machine: `make test` (which runs this suite) is their check.
SETUP = ("make ", "python3 -m venv", ".venv/bin/python -m pip", "pip ", "source ")
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


@dataclass(frozen=True)
class Documented:
    """One command line as a page shows it, and where."""

    page: str
    line: int
    text: str

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"


def documented_commands(pages: list[Path] = PAGES) -> list[Documented]:
    """The command lines of every shell block, in page order."""
    found = []
    for page in pages:
        if not page.exists():
            continue
        text = page.read_text()
        for block in SHELL_BLOCK.finditer(text):
            first_line = text[: block.start(1)].count("\n") + 1
            lines = block.group(1).splitlines()
            i = 0
            while i < len(lines):
                start = i
                joined = lines[i]
                while joined.rstrip().endswith("\\") and i + 1 < len(lines):
                    i += 1
                    joined = joined.rstrip()[:-1].rstrip() + " " + lines[i].strip()
                i += 1
                command = _without_comment(joined)
                if command:
                    name = str(page.relative_to(ROOT)) if page.is_relative_to(ROOT) else page.name
                    found.append(Documented(name, first_line + start, command))
    return found


def _without_comment(line: str) -> str:
    """The line without a trailing `# ...` comment; a `#` inside quotes or a word stays."""
    in_single = in_double = False
    for k, ch in enumerate(line):
        if ch == "'" and not in_double:
            in_single = not in_single
        elif ch == '"' and not in_single:
            in_double = not in_double
        elif ch == "#" and not in_single and not in_double and (k == 0 or line[k - 1].isspace()):
            return line[:k].strip()
    return line.strip()


def quick_form(command: str) -> str | None:
    """The command with a tiny budget where it has one; None for a set-up command. Raises if
    no rule covers it."""
    if command.startswith(SETUP):
        return None
    words = shlex.split(command)
    if words[0] == "python" and words[1:2] == ["-c"]:
        return command
    if words[0] != "coopsim":
        raise AssertionError(f"no rule runs this documented command: {command!r}")
    sub = words[1]
    if sub in ("list", "compare", "report"):
        return command
    if sub == "bench":
        return f"{command} --quick"
    if sub == "demo":
        return f"{command} --quick --seeds 0,1"
    if sub == "run":
        from coopsim import scenario as sc

        learns = sc.load(words[2]).learns
        return f"{command} --iterations 1 --episodes 2" if learns else f"{command} --episodes 2"
    if sub == "sweep":
        return f"{command} --seeds 1 --episodes 2 --set training.iterations=1"
    if sub == "stress":
        return f"{command} --exploiter-iterations 1 --episodes 2"
    if sub == "experiment":
        return command if "--table" in words else f"{command} --quick"
    if sub == "app":
        return command
    if sub == "otree" and words[2:3] == ["export"]:  # writes an oTree project; no budget
        return command
    raise AssertionError(f"no rule runs this documented command: {command!r}")


DOCUMENTED = documented_commands()
#: What this test runs: every documented command but the set-up ones.
COMMANDS = [c for c in DOCUMENTED if not c.text.startswith(SETUP)]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    bin_dir = str(Path(sys.executable).parent)  # the venv's `coopsim` and `python`
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("COOPSIM_THREADS", "1")
    return env


def _serves(command: str, cwd: Path) -> None:
    """Start the app as documented, wait until its server answers, then stop it."""
    port = free_port()
    proc = subprocess.Popen(
        f"{command} --headless --port {port}",
        shell=True,
        cwd=cwd,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.stdout.read().decode(errors="replace")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health") as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        raise AssertionError(f"`{command}` did not serve within 90 s")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        proc.stdout.close()
        with contextlib.suppress(ProcessLookupError):  # a server stuck writing to the pipe
            os.killpg(proc.pid, signal.SIGKILL)


def test_every_documented_command_has_a_rule():
    assert COMMANDS, "no shell blocks found in README.md"
    for documented in DOCUMENTED:
        quick_form(documented.text)  # raises for a command no rule covers


PAGES_WITH_COMMANDS = sorted({c.page for c in COMMANDS})


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES_WITH_COMMANDS)
def test_a_pages_commands_run_in_order(page: str, tmp_path: Path):
    for documented in (c for c in COMMANDS if c.page == page):
        _runs(documented, tmp_path)


def _runs(documented: Documented, workdir: Path) -> None:
    command = quick_form(documented.text)
    assert command is not None
    if shlex.split(command)[:2] == ["coopsim", "app"]:
        _serves(command, workdir)
        return
    done = subprocess.run(
        command,
        shell=True,
        cwd=workdir,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{documented.id}: `{command}` exited {done.returncode}\n{output}"
    assert "Traceback (most recent call last)" not in output, f"{documented.id}: {output}"


def test_comment_and_continuation_parsing(tmp_path: Path):
    page = tmp_path / "page.md"
    page.write_text(
        "text\n```bash\ncoopsim list   # the scenarios\n"
        "coopsim sweep a --set x=1 \\\n    --out 'runs/#1'\n\n```\n"
    )
    found = documented_commands([page])
    assert [c.text for c in found] == ["coopsim list", "coopsim sweep a --set x=1 --out 'runs/#1'"]
    assert [c.line for c in found] == [3, 4]
