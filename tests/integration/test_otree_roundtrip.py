"""Export a scenario to oTree, let oTree's bots play it (`otree test`), import their data, and
check every payoff against coopsim's own world stepped with the same contributions.

oTree pins old web libraries (starlette 0.14, markupsafe 1.1) that cannot share an environment
with the app's, so it lives in its own virtual environment: ``$COOPSIM_OTREE`` names its
``otree`` command, else ``.venv-lab/bin/otree`` in the repository (``make lab-venv``), else
``otree`` on the PATH.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import torch

from coopsim import builder
from coopsim import scenario as scenario_mod
from coopsim.lab.otree_export import export
from coopsim.lab.otree_import import import_csv
from coopsim.record import load_run

ROOT = Path(__file__).resolve().parents[2]


def otree_command() -> str | None:
    for candidate in (os.environ.get("COOPSIM_OTREE"), str(ROOT / ".venv-lab/bin/otree")):
        if candidate and Path(candidate).is_file():
            return candidate
    return shutil.which("otree")


OTREE = otree_command()
needs_otree = pytest.mark.skipif(OTREE is None, reason="oTree not installed (make lab-venv)")


def play(project: Path, participants: int, data: Path) -> str:
    done = subprocess.run(
        [OTREE, "test", "coopsim_table", str(participants), "--export", str(data)],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "OTREE_PRODUCTION": "0"},
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Bots completed session" in done.stdout + done.stderr
    return done.stdout + done.stderr


def assert_world_payoffs(project: Path, episodes, app: str = "coopsim_table") -> None:
    """Every seat's payoff in every round equals coopsim's world's, to the cent, for the same
    contributions."""
    sc = scenario_mod.load(project / app / "scenario.toml")
    replayed = json.loads((project / app / "rule.json").read_text()).get("controls_by_round")
    levels = sc.world.levels
    for e, ep in episodes.groupby("episode"):
        world = builder.make_world(sc, 1)
        world.reset(seed=0)
        endow = torch.as_tensor(world.endowment).expand(sc.world.num_agents)
        for r, rows in ep.sort_values("agent").groupby("round"):
            if replayed:  # the planner's controls of this round, set as a planner sets them
                for name, value in zip(replayed["names"], replayed["values"][r]):
                    label, _, field = name.partition(".")
                    mech = world.pipeline.mechanisms[world.pipeline.labels.index(label)]
                    mech.set_control(field, torch.tensor([[value]]))
            c = torch.tensor(rows["contribution"].to_numpy()).double()
            level = torch.round(c / endow * (levels - 1)).long()
            if world.stages == 2:  # peer punishment: contributions, then the points given
                first = torch.zeros(1, len(level), len(world.spec.action_nvec), dtype=torch.long)
                first[0, :, 0] = level
                world.step(first)
                n = len(level)
                points = [json.loads(v) for v in rows["punishment_points"]]
                second = torch.zeros_like(first)
                for i in range(n):
                    for k in range(n - 1):  # egocentric: the next seat first
                        second[0, i, 1 + k] = points[i][(i + 1 + k) % n]
                step = world.step(second)
                assert (
                    step.info["punishment_given"][0].tolist() == rows["punishment_given"].tolist()
                )
            else:
                step = world.step(level[None, :, None])
            assert torch.allclose(step.info["contribution"][0].double(), c, atol=1e-6)
            # to the cent: within half a cent (rounding each to cents would split a payoff
            # of x.xx5 between the lab's float64 and the world's float32)
            mine, theirs = rows["net"].tolist(), step.info["net"][0].double().tolist()
            assert max(abs(a - b) for a, b in zip(mine, theirs)) < 0.005, (e, r, mine, theirs)


@needs_otree
@pytest.mark.parametrize(
    "source, seats",
    [
        ("public_goods_institution", [0, 2]),
        ("democratic_libertarian_scripted", [0, 1]),
        ("public_goods_tax_every_three", [1, 3]),
        ("public_goods_provision_point", [0]),
        ("public_goods_punishment", [1, 3]),
    ],
)
def test_bots_payoffs_match_the_world_to_the_cent(tmp_path, source, seats):
    if source == "public_goods_tax_every_three":  # a tax collected every 3 rounds, rebated
        text = (ROOT / "scenarios/public_goods_tax.toml").read_text()
        path = tmp_path / f"{source}.toml"
        path.write_text(text.replace("period = 1", "period = 3"))
        source = str(path)
    if source == "public_goods_provision_point":  # missed in some rounds, met in others
        text = (ROOT / "scenarios/public_goods.toml").read_text()
        path = tmp_path / f"{source}.toml"
        point = '[[mechanisms]]\nkind = "provision_point"\nthreshold = 0.45\nrefund = true\n\n'
        path.write_text(text.replace("[[population]]", point + "[[population]]", 1))
        source = str(path)
    if source == "democratic_libertarian_scripted":  # unequal endowments, redistribution
        text = (ROOT / "scenarios/democratic_libertarian.toml").read_text()
        text = text.replace(
            'policy = "ppo"\ncount = 4',
            'policy = "conditional_cooperator"\ncount = 2'
            '\n\n[[population]]\npolicy = "free_rider"\ncount = 2',
        )
        path = tmp_path / "democratic_libertarian_scripted.toml"
        path.write_text(text.split("[training]")[0])
        source = str(path)
    project = export(source, tmp_path / "project", seats)
    play(project, 2 * len(seats), tmp_path / "data")  # two tables
    run = load_run(import_csv(tmp_path / "data/coopsim_table.csv", project, tmp_path / "runs"))
    episodes = run.episodes
    assert sorted(episodes["episode"].unique()) == [0, 1]
    humans = sorted(episodes.loc[episodes["controller"] == "human", "agent"].unique())
    assert humans == seats
    assert (episodes.loc[episodes["controller"] == "human", "participant"] != "").all()
    assert_world_payoffs(project, episodes)
    for label in [c for c in episodes.columns if c.startswith("transfer_")]:
        assert (episodes[label].abs() > 0.005).any(), f"{label} never moved money"
    # contributions vary (the bots are not all at one level), and the agents played
    assert episodes["contribution"].nunique() > 3
    assert set(episodes["controller"]) > {"human"}


@needs_otree
def test_trained_ppo_agents_fill_the_other_seats(tmp_path):
    from coopsim.runner import run_scenario

    sc = scenario_mod.load("democratic_liberal_egalitarian")
    run_dir = run_scenario(sc, out=tmp_path / "trained", iterations=1, episodes=2)
    project = export(str(run_dir), tmp_path / "project", [2])
    rule = (project / "coopsim_table/rule.json").read_text()
    assert '"policy": "actor"' in rule
    for plain in ("coopsim_agents.py", "coopsim_rules.py"):  # the lab needs no torch or numpy
        code = (project / "coopsim_table" / plain).read_text()
        assert "import torch" not in code and "import numpy" not in code
    play(project, 3, tmp_path / "data")  # three tables of one participant and three agents
    run = load_run(import_csv(tmp_path / "data/coopsim_table.csv", project, tmp_path / "runs"))
    episodes = run.episodes
    assert sorted(episodes["episode"].unique()) == [0, 1, 2]
    controllers = episodes.groupby("agent")["controller"].first().tolist()
    assert controllers == ["ppo", "ppo", "human", "ppo"]
    assert_world_payoffs(project, episodes)
    # the learned agents sample their contributions: they are not stuck at one level
    assert episodes.loc[episodes["controller"] == "ppo", "contribution"].nunique() > 2


@needs_otree
def test_two_rules_then_a_vote(tmp_path):
    import pandas as pd

    project = export(
        "public_goods_institution", tmp_path / "project", [0, 1], vote="public_goods_matching"
    )
    play(project, 4, tmp_path / "data")
    data = tmp_path / "data"
    runs = {}
    for app in ("coopsim_table", "coopsim_table_b"):
        path = import_csv(
            data / f"{app}.csv", project, tmp_path / "runs", votes=data / "coopsim_vote.csv"
        )
        runs[app] = load_run(path)
        assert_world_payoffs(project, runs[app].episodes, app)
    assert runs["coopsim_table"].summary["scenario"] == "public_goods_institution"
    assert runs["coopsim_table_b"].summary["scenario"] == "public_goods_matching"
    # the bots vote A when their id in the session is odd
    ids = pd.read_csv(data / "coopsim_vote.csv", dtype=str)
    expected = {
        code: "A" if int(i) % 2 else "B"
        for code, i in zip(ids["participant.code"], ids["participant.id_in_session"])
    }
    for app, letter in (("coopsim_table", "A"), ("coopsim_table_b", "B")):
        run = runs[app]
        humans = run.episodes[run.episodes["controller"] == "human"]
        assert dict(zip(humans["participant"], humans["vote"])) == expected
        votes = run.summary["votes"]
        assert votes["this_rule"] == letter
        assert votes["counts"] == {"A": 2, "B": 2}


@needs_otree
def test_a_planner_rule_replayed_round_by_round(tmp_path):
    import pandas as pd

    from coopsim.runner import run_scenario

    sc = scenario_mod.load("democratic_ai_planner")
    run_dir = run_scenario(sc, out=tmp_path / "trained", iterations=1, episodes=2)
    project = export(str(run_dir), tmp_path / "project", [0], planner="replay")
    rule = json.loads((project / "coopsim_table/rule.json").read_text())
    # each round's controls are the run's evaluation's, that round (mean over its episodes)
    ep = pd.read_parquet(run_dir / "episodes.parquet")
    want = ep[ep["agent"] == 0].groupby("round")[["rate_0", "rate_1"]].mean().to_numpy()
    assert rule["controls_by_round"]["names"] == ["redistribution.w", "redistribution.v"]
    got = rule["controls_by_round"]["values"]
    assert [x for row in got for x in row] == pytest.approx(want.ravel().tolist())
    assert len(rule["mechanisms_by_round"]) == 10
    for r, mechs in enumerate(rule["mechanisms_by_round"]):
        assert [mechs[0]["params"]["w"], mechs[0]["params"]["v"]] == pytest.approx(want[r])
    assert "replayed round by round" in rule["planner_note"]
    play(project, 2, tmp_path / "data")  # two tables of one participant and three PPO agents
    run = load_run(import_csv(tmp_path / "data/coopsim_table.csv", project, tmp_path / "runs"))
    assert_world_payoffs(project, run.episodes)
