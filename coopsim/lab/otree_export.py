"""`coopsim otree export`: a scenario's public-goods game as an oTree project for the lab.

The project holds one app: participants take the seats named by ``human_seats`` and the
scenario's own agents (scripted rules, or the PPO actors of a finished run, exported as a small
JSON of weights evaluated in plain Python) play the others. Payoffs come from
:mod:`coopsim.lab.lab_rules`, copied into the app, which the tests hold to coopsim's world.
The project is written into a hidden sibling folder and renamed into place, so a failed export
leaves nothing half-written.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import secrets
import shutil
from pathlib import Path
from typing import Any

import torch

from coopsim import builder
from coopsim import scenario as scenario_mod
from coopsim.lab import lab_agents, lab_rules, otree_files
from coopsim.record import SCENARIO, is_run_dir
from coopsim.schema import ConfigError
from coopsim.staging import list_checkpoints, load_checkpoint

APP = "coopsim_table"
APP_B = "coopsim_table_b"  # the second rule, where participants vote between two
VOTE_APP = "coopsim_vote"
PLANNER_MODES = ("fixed", "replay")
LAB_SCRIPTED = (
    "always_contribute",
    "free_rider",
    "conditional_cooperator",
    "tit_for_tat",
    "hump_shaped",
    "random",
    "people_schedule",
    "punisher",
)


def _load(source: str) -> tuple[Any, Path | None]:
    """The scenario, and the run directory it came from (None for a scenario file)."""
    path = Path(source)
    if path.is_dir():
        if not is_run_dir(path) or not (path / SCENARIO).exists():
            raise ConfigError(source, "source", "is a folder but not a run directory")
        return scenario_mod.load(path / SCENARIO), path
    return scenario_mod.load(source), None


def _fixed_rule(source: str) -> tuple[Any, Path | None, str]:
    """The scenario with a planner's rule fixed at what it learned, its run, and a note.

    A planner run's summary holds the mean of each control its evaluation played (its most
    likely controls, round by round); the lab plays that one rule throughout, without the
    planner, which is what a participant can be told in plain words.
    """
    sc, run = _load(source)
    if sc.planner is None:
        return sc, run, ""
    if run is None:
        raise ConfigError(
            source,
            "planner",
            "a planner's rule is learned: export a run directory of this "
            "scenario (`coopsim run` writes one), whose rule is fixed at what the planner learned",
        )
    summary = json.loads((run / "summary.json").read_text())
    planner = summary.get("planner") or {}
    names, values = planner.get("controls", []), planner.get("mean_controls", [])
    how = "fixed at the mean it played"
    schedule = (summary.get("training") or {}).get("planner_schedule")
    if not names and schedule and len(schedule) == len(sc.planner.controls):
        # evaluated by the schedule training installed (a planner that has not acted yet, or
        # `evaluation = "schedule"`): that schedule is the rule its runs were measured under
        names, values, how = list(sc.planner.controls), schedule, "its installed schedule"
    if not names or len(names) != len(values):
        raise ConfigError(
            str(run),
            "summary.json",
            "holds no planner controls to fix the rule at (neither planner.mean_controls nor "
            "training.planner_schedule): rerun it with `coopsim run`, or export its scenario "
            "with the controls set in its mechanisms",
        )
    _set_controls(sc, run, names, values)
    sc.planner = None
    fixed = ", ".join(f"{n} = {v:.3g}" for n, v in zip(names, values))
    return sc, run, f"The rule a planner learned, {how}: {fixed}."


def _set_controls(sc: Any, run: Path, names: list[str], values: list[float]) -> None:
    """Set the scenario's mechanism parameters a planner controls (``label.field``)."""
    labels = builder.make_pipeline(sc, 1, torch.device("cpu")).labels
    for name, value in zip(names, values):
        label, _, field = name.partition(".")
        if label not in labels:
            raise ConfigError(str(run), "planner.controls", f"{name!r} names no mechanism")
        params = sc.mechanisms[labels.index(label)].params
        if not isinstance(getattr(params, field, None), (int, float)):
            raise ConfigError(
                str(run), "planner.controls", f"{name!r} is not one number; it cannot be set"
            )
        if hasattr(params, "preset"):
            params.preset = "custom"  # the learned values, not a preset's
        setattr(params, field, float(value))


def _replayed_controls(run: Path, rounds: int) -> tuple[list[str], list[list[float]]]:
    """The planner's controls round by round: each round's mean over the run's evaluation
    episodes (the ``rate_k`` columns of ``episodes.parquet``, in ``planner.controls`` order)."""
    import pandas as pd

    names = (json.loads((run / "summary.json").read_text()).get("planner") or {}).get("controls")
    columns = [f"rate_{k}" for k in range(len(names or []))]
    try:
        ep = pd.read_parquet(run / "episodes.parquet", columns=["round", "agent", *columns])
    except (OSError, ValueError, KeyError):
        ep = None
    if not names or ep is None:
        raise ConfigError(
            str(run),
            "episodes.parquet",
            "holds no planner controls per round to replay (its planner was evaluated by a "
            "fixed schedule): export it without replaying, at that schedule",
        )
    by_round = ep[ep["agent"] == 0].groupby("round")[columns].mean()
    if len(by_round) < rounds:
        raise ConfigError(
            str(run), "rounds", f"the run played {len(by_round)} rounds; {rounds} asked for"
        )
    return names, by_round.to_numpy()[:rounds].tolist()


def _replay_rounds(source: str, rule: dict[str, Any], sc: Any, run: Path) -> None:
    """Add to ``rule`` each round's mechanisms, observation and words, as the planner played
    them (``mechanisms_by_round``, ``mechanism_observation_by_round``, ``controls_by_round``)."""
    names, values = _replayed_controls(run, rule["rounds"])
    mechanisms, observations, texts = [], [], []
    for row in values:
        each = _load(source)[0]
        _set_controls(each, run, names, row)
        each.planner = None
        pipeline = builder.make_pipeline(each, 1, torch.device("cpu"))
        mechanisms.append(
            [
                {"label": label, "kind": m.kind, "params": _plain(m.params)}
                for label, m in zip(pipeline.labels, each.mechanisms)
            ]
        )
        n = rule["num_agents"]
        observations.append(pipeline.observation(1, n, torch.device("cpu"))[0].tolist())
        texts.append([m.describe() for m in pipeline.mechanisms])
    rule["mechanisms_by_round"] = mechanisms
    rule["rule_text_by_round"] = texts
    rule["mechanism_observation_by_round"] = observations
    rule["controls_by_round"] = {"names": names, "values": values}
    steps = "; ".join(
        f"round {r + 1}: " + ", ".join(f"{n} = {v:.3g}" for n, v in zip(names, row))
        for r, row in enumerate(values)
    )
    rule["planner_note"] = f"The rule a planner learned, replayed round by round: {steps}."


def _actor_json(net_state: dict[str, torch.Tensor], levels: int) -> dict[str, Any]:
    """A PPO actor's weights as nested lists: the body's linear layers, then the head."""
    body, k = [], 0
    while f"actor_body.{k}.weight" in net_state:
        body.append(
            {
                "weight": net_state[f"actor_body.{k}.weight"].tolist(),
                "bias": net_state[f"actor_body.{k}.bias"].tolist(),
            }
        )
        k += 2  # Linear, Tanh, Linear, Tanh
    head = {"weight": net_state["actor.weight"].tolist(), "bias": net_state["actor.bias"].tolist()}
    return {"body": body, "head": head, "levels": levels}


def build_rule(
    source: str,
    human_seats: list[int],
    *,
    rounds: int | None = None,
    every_seat: bool = False,
    planner: str = "fixed",
) -> dict[str, Any]:
    """Everything the exported app needs to know about the rule, seats and agents (JSON).

    ``rounds`` plays a shorter or longer game than the scenario's; ``every_seat`` gives every
    seat its agent, people's seats included (the app's Play table hands a seat to its agent
    when the person leaves). ``planner``: a planner run's rule ``"fixed"`` at the mean it
    played, or ``"replay"``-ed round by round as its evaluation played it."""
    if planner not in PLANNER_MODES:
        raise ConfigError(source, "--planner", f"got {planner!r}, allowed: fixed, replay")
    sc, run, planner_note = _fixed_rule(source)
    if planner == "replay" and not planner_note:
        raise ConfigError(source, "--planner", "replay needs a run of a scenario with a planner")
    w = sc.world
    if rounds is not None:
        w.rounds = rounds
    if w.kind != "public_goods":
        raise ConfigError(source, "world.kind", f"is {w.kind!r}; only public_goods can be exported")
    for m in sc.mechanisms:
        if m.kind not in lab_rules.SUPPORTED:
            raise ConfigError(
                source,
                "mechanisms",
                f"{m.kind!r} cannot be exported yet; supported: " + ", ".join(lab_rules.SUPPORTED),
            )
    for m in sc.mechanisms:
        why = _lab_refusal(m, w)
        if why is not None:
            raise ConfigError(source, f"mechanisms ({m.kind})", why)
    if sc.planner is not None:
        raise ConfigError(
            source,
            "planner",
            "a planner's rule cannot be exported yet; export a scenario with "
            "the rule fixed (its mechanisms' parameters set)",
        )
    n = w.num_agents
    bad = [s for s in human_seats if not 0 <= s < n]
    if bad or len(set(human_seats)) != len(human_seats) or not (human_seats or every_seat):
        raise ConfigError(source, "--seats", f"needs distinct seats from 1 to {n}")
    world = builder.make_world(sc, 1)
    pipeline = world.pipeline
    mech_obs = pipeline.observation(1, n, torch.device("cpu"))[0].tolist()  # [N, m]
    mechanisms = [
        {"label": label, "kind": m.kind, "params": _plain(m.params)}
        for label, m in zip(pipeline.labels, sc.mechanisms)
    ]
    fields, start = [], 0  # where each mechanism's entries sit in the observation
    for mech, built in zip(mechanisms, pipeline.mechanisms):
        fields.append({**mech, "start": start, "width": built.obs_dim})
        start += built.obs_dim
    rule_text = [mech.describe() for mech in pipeline.mechanisms] or [
        "No rule moves money: each keeps what they did not put in, plus their share of the pot."
    ]
    endowments = list(map(float, w.endowments)) if w.endowments else [float(w.endowment)] * n
    learners = _learner_weights(run, w.levels) if run is not None else []
    agents, seat, learner = {}, 0, 0
    for g in sc.population:
        for k in range(g.count):
            s = seat + k
            if s in human_seats and not every_seat:
                continue
            if g.policy == "ppo":
                if run is None:
                    raise ConfigError(
                        source,
                        "population",
                        "PPO seats need a trained run: export the run "
                        "directory (`coopsim run` writes one), not the scenario",
                    )
                if learner >= len(learners):
                    raise ConfigError(str(run), "checkpoints", "holds no trained PPO weights")
                actor = {**learners[learner], "num_seats": g.count}
                agents[str(s)] = {"policy": "actor", "actor": actor, "seat_index": k}
            elif g.policy in LAB_SCRIPTED:
                agents[str(s)] = {"policy": g.policy, "params": _plain(g.params)}
            else:
                raise ConfigError(
                    source,
                    "population",
                    f"policy {g.policy!r} cannot play in the lab; "
                    "scripted ones that can: " + ", ".join(LAB_SCRIPTED),
                )
        learner += g.policy == "ppo"
        seat += g.count
    punishing = any(m.kind == "peer_punishment" for m in sc.mechanisms)
    if punishing and any(a["policy"] == "actor" for a in agents.values()):
        raise ConfigError(
            source,
            "mechanisms (peer_punishment)",
            "learned agents' punishment stage is not exported yet; seat scripted agents "
            "(punisher, conditional_cooperator, ...) beside the participants",
        )
    names = sorted({a["policy"] for a in agents.values()})
    agent_text = (
        f"The other {n - len(human_seats)} seat(s) are played by computer agents." if agents else ""
    )
    rule = {
        "scenario": sc.name,
        "description": sc.description,
        "source": str(source),
        "num_agents": n,
        "endowments": endowments,
        "multiplier": float(w.multiplier),
        "rounds": int(w.rounds),
        "levels": int(w.levels),
        "mechanisms": mechanisms,
        "mechanism_observation": mech_obs,
        "mechanism_fields": fields,
        "rule_text": rule_text,
        "planner_note": planner_note,
        "agent_text": agent_text,
        "agent_policies": names,
        "human_seats": human_seats,
        "agents": agents,
        "seat_policy": _seat_policies(sc, human_seats),
    }
    if planner == "replay":
        _replay_rounds(source, rule, sc, run)
    return rule


def _lab_refusal(mech: Any, world: Any) -> str | None:
    """Why the lab's arithmetic cannot play this mechanism as the world does, or None."""
    p = mech.params
    if mech.kind == "tax" and (p.schedule == "saez" or p.cap != "none"):
        return "a 'saez' schedule or a 'liquid' cap cannot be exported; give the rates"
    return None


def _seat_policies(sc: Any, human_seats: list[int]) -> list[str]:
    out, seat = [], 0
    for g in sc.population:
        out += [g.policy] * g.count
        seat += g.count
    return ["human" if s in human_seats else p for s, p in enumerate(out)]


def _plain(params: Any) -> dict[str, Any]:
    """A params dataclass (or dict, or None) as a plain dict for JSON."""
    if params is None:
        return {}
    if isinstance(params, dict):
        return dict(params)
    return dataclasses.asdict(params)


def _learner_weights(run: Path, levels: int) -> list[dict[str, Any]]:
    """The actors of the run's newest checkpoint, one per learning group, in seat order."""
    checkpoints = list_checkpoints(run)
    if not checkpoints:
        return []
    state = load_checkpoint(checkpoints[max(checkpoints)])
    return [_actor_json(learner["net"], levels) for learner in state["learners"]]


def _write_table(app: Path, source: str, rule: dict[str, Any]) -> None:
    """One table app: the fixed files, the rule, the scenario as exported."""
    app.mkdir()
    (app / "__init__.py").write_text(otree_files.APP_INIT)
    (app / "tests.py").write_text(otree_files.TESTS)
    (app / "rule.json").write_text(json.dumps(rule, indent=1))
    # the scenario as exported: `coopsim otree import` measures the lab's data under it
    (app / "scenario.toml").write_text(_fixed_rule(source)[0].to_toml())
    shutil.copyfile(lab_rules.__file__, app / "coopsim_rules.py")
    shutil.copyfile(lab_agents.__file__, app / "coopsim_agents.py")
    for name, text in (
        ("Introduction", otree_files.INTRODUCTION),
        ("Contribute", otree_files.CONTRIBUTE),
        ("Results", otree_files.RESULTS),
        ("Punish", otree_files.PUNISH),
    ):
        (app / f"{name}.html").write_text(text)


def export(
    source: str,
    out: str | os.PathLike,
    human_seats: list[int],
    vote: str | None = None,
    planner: str = "fixed",
) -> Path:
    """Write the oTree project for ``source`` (scenario or run directory) into ``out``.

    With ``vote`` (a second scenario or run), participants play under both rules in turn, the
    same seats at the same table size, then vote for the rule they would rather play under
    (Democratic AI's protocol); the apps are ``coopsim_table``, ``coopsim_table_b`` and
    ``coopsim_vote``. ``planner="replay"`` plays a planner run's rule round by round as its
    evaluation did, instead of fixed at the mean.
    """
    rule = build_rule(source, human_seats, planner=planner)
    other = None
    if vote is not None:  # a planner's rule is replayed in either place it is asked for
        try:
            other = build_rule(vote, human_seats, planner=planner)
        except ConfigError as err:
            if "replay needs a run" not in str(err):
                raise
            other = build_rule(vote, human_seats)
    if other is not None and other["num_agents"] != rule["num_agents"]:
        raise ConfigError(
            vote,
            "world.num_agents",
            f"is {other['num_agents']}; the vote needs both rules at "
            f"tables of {rule['num_agents']}",
        )
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise ConfigError(str(out), "--out", "exists and is not empty; choose a new folder")
    staging = out.parent / f".{out.name}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        apps = [APP] if other is None else [APP, APP_B, VOTE_APP]
        title = re.sub(r"[^A-Za-z0-9 _-]", "", rule["scenario"].replace("_", " "))
        if other is not None:
            title += " vs " + re.sub(r"[^A-Za-z0-9 _-]", "", other["scenario"].replace("_", " "))
        (staging / "settings.py").write_text(
            otree_files.SETTINGS.format(
                app=APP,
                apps=json.dumps(apps),
                title=title,
                n=len(human_seats),
                secret=secrets.token_hex(16),
            )
        )
        (staging / "requirements.txt").write_text(otree_files.REQUIREMENTS)
        (staging / "_static").mkdir()  # oTree serves it, and refuses to start without it
        (staging / "_static" / "README.txt").write_text("Static files of the project.\n")
        _write_table(staging / APP, source, rule)
        if other is not None:
            _write_table(staging / APP_B, vote, other)
            app = staging / VOTE_APP
            app.mkdir()
            (app / "__init__.py").write_text(otree_files.VOTE_INIT)
            (app / "tests.py").write_text(otree_files.VOTE_TESTS)
            (app / "Vote.html").write_text(otree_files.VOTE_PAGE)
            rules = {"A": rule["rule_text"], "B": other["rule_text"]}
            (app / "rules.json").write_text(json.dumps(rules, indent=1))
        if out.exists():
            out.rmdir()
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out
