"""The Run page's list of a session's jobs: each with its own buttons, the oldest included."""

from __future__ import annotations

import time

from streamlit.testing.v1 import AppTest

from coopsim import scenario as sc
from coopsim.app import jobs

SESSION = "test-session-token-0002"
TIMEOUT = 60


def _page() -> AppTest:
    script = (
        "from coopsim.app import state\n"
        "from coopsim.app.views import run\n"
        "state.init()\n"
        "run.render()\n"
    )
    at = AppTest.from_string(script, default_timeout=TIMEOUT)
    at.query_params["s"] = SESSION
    return at


def interrupted_job(runs, name: str) -> jobs.Job:
    """A job of SESSION whose worker died: a small public-goods design, one seed left."""
    data = sc.load("public_goods").to_dict()
    data["name"] = name
    data["world"]["rounds"] = 3
    design = sc.from_dict(data, source="test").to_toml()
    job = jobs.prepare(design, runs, seeds=[0], episodes=2, name=name, owner=SESSION)
    jobs.write_status(job.path, state="running", pid=2**22 + 4321)  # no such process
    loaded = jobs.load(job.path)
    assert loaded.state == "interrupted" and loaded.resumable
    return loaded


def _button(at: AppTest, key: str):
    found = [b for b in at.button if b.key == key]
    assert found, f"no button {key!r}; have {[b.key for b in at.button]}"
    return found[0]


def test_an_older_interrupted_job_can_be_resumed_and_another_discarded(runs_env):
    older = interrupted_job(runs_env, "older")
    middle = interrupted_job(runs_env, "middle")
    newest = interrupted_job(runs_env, "newest")
    at = _page().run()
    assert not at.exception
    assert any(h.value == "Your jobs (3)" for h in at.subheader)
    for job in (older, middle, newest):  # every job has its own Resume and Discard
        _button(at, f"list.resume-{job.id}")
        _button(at, f"list.discard-{job.id}")

    _button(at, f"list.discard-{middle.id}").click().run()
    assert jobs.load(middle.path).state == "discarded"
    _button(at, f"list.resume-{older.id}").click().run()
    assert at.session_state["active_job"] == str(older.path)  # the resumed job is watched
    deadline = time.monotonic() + TIMEOUT
    while not jobs.load(older.path).finished:
        assert time.monotonic() < deadline, jobs.load(older.path).status
        time.sleep(0.3)
    done = jobs.load(older.path)
    assert done.state == "done" and done.status["done_seeds"] == [0], done.status
    assert jobs.load(newest.path).state == "interrupted"  # untouched
    at.run()
    shown = [s.value for s in at.success]
    assert any("Finished: 1 run directories written to <runs>" in s for s in shown), shown
    codes = [c.value for c in at.code]
    assert codes and all(c.startswith("<runs>/older-") for c in codes), codes
    assert not any(str(runs_env.parent) in c for c in codes)
