"""Design page: a scenario's world, mechanism pipeline and population as generated widgets."""

from __future__ import annotations

import dataclasses
from typing import Any

import streamlit as st
import tomli_w

from coopsim import scenario as sc
from coopsim.agents.scripted import SCRIPTED
from coopsim.app import designs_dir, forms, numbers, planner_form, shown, state
from coopsim.envs import WORLDS
from coopsim.paths import inside, slug
from coopsim.record import atomic_write_text
from mechanisms import MECHANISMS

HANDLED = {
    "name",
    "description",
    "world",
    "mechanisms",
    "population",
    "evaluation",
    "planner",
    "source",
}


#: What each world type is, for the world box's help.
WORLD_WORDS = {
    "public_goods": "a linear public-goods game (contribute to a pot, multiplied and shared)",
    "matrix_game": "an N-player matrix game (prisoner's dilemma, stag hunt)",
    "economy": "the AI Economist's gather-trade-build economy on a grid",
    "one_step_economy": "one choice of working hours under a tax",
    "commons": "a common-pool resource: apples that regrow only near other apples",
}


# -- callbacks: they change the design before the page is drawn again ---------------------------
def _load_source() -> None:
    label = st.session_state["design_source"]
    state.set_design(state.read_toml(state.sources()[label]), label)


def _move(i: int, step: int) -> None:
    d, uids = st.session_state[state.DESIGN], st.session_state["mech_uids"]
    j = i + step
    if 0 <= j < len(uids):
        d["mechanisms"][i], d["mechanisms"][j] = d["mechanisms"][j], d["mechanisms"][i]
        uids[i], uids[j] = uids[j], uids[i]


def _remove(section: str, uid_key: str, i: int) -> None:
    del st.session_state[state.DESIGN][section][i]
    del st.session_state[uid_key][i]


def _add_mechanism() -> None:
    kind = st.session_state["add_mechanism_kind"]
    st.session_state[state.DESIGN].setdefault("mechanisms", []).append(
        {"kind": kind, **forms.defaults(MECHANISMS[kind].Params)}
    )
    st.session_state["mech_uids"].append(state.new_uid())


def _change_world(key: str) -> None:
    """A new world type: its defaults, the mechanisms that apply to it, and learning agents in
    every seat, since each scripted policy plays one kind of game (a conditional cooperator
    on the commons would fail only once the run starts)."""
    d = st.session_state[state.DESIGN]
    kind = st.session_state[key]
    world = {"kind": kind, **forms.defaults(WORLDS[kind][0])}
    mechanisms = [
        m
        for m in d.get("mechanisms", [])
        if m.get("kind") in MECHANISMS
        and (MECHANISMS[m["kind"]].worlds is None or kind in MECHANISMS[m["kind"]].worlds)
    ]
    seats = int(world.get("num_agents", 1))
    new = {**d, "world": world, "population": [{"policy": "ppo", "count": seats}]}
    new["mechanisms"] = mechanisms
    state.set_design(new, st.session_state.get("design_origin", ""))


def _add_group() -> None:
    st.session_state[state.DESIGN].setdefault("population", []).append(
        {"policy": "conditional_cooperator", "count": 1}
    )
    st.session_state["pop_uids"].append(state.new_uid())


# -- sections -------------------------------------------------------------------------------------
def _world(data: dict[str, Any], rev: int) -> dict[str, Any]:
    st.subheader("World")
    kinds = list(WORLDS)
    current = data.get("world", {}).get("kind", kinds[0])
    kind = st.selectbox(
        "World type",
        kinds,
        index=kinds.index(current) if current in kinds else 0,
        key=f"r{rev}.world.kind",
        on_change=_change_world,
        args=(f"r{rev}.world.kind",),
        help="The game the agents play: "
        + "; ".join(f"{k}: {WORLD_WORDS.get(k, k.replace('_', ' '))}" for k in kinds)
        + ". Changing it keeps the mechanisms that apply to the new world and starts its "
        "population as learning agents, who play any world.",
    )
    values = data.get("world", {}) if kind == current else {}
    world = forms.config_form(WORLDS[kind][0], values, f"r{rev}.world.{kind}", path="world")
    return {"kind": kind, **world}


def _mechanisms(
    data: dict[str, Any], world_kind: str, rev: int
) -> tuple[list[dict[str, Any]], dict[planner_form.Control, list[float] | None] | None]:
    """The pipeline's widgets: the mechanisms as entered, and the controls whose "let the
    planner choose" switch is on (each with its narrowed range), None while a mechanism does
    not validate (its controls depend on its parameters)."""
    st.subheader("Mechanism pipeline")
    st.caption(
        "Applied in this order every round: each mechanism moves money between agents "
        "(taxes, rebates, fines, matching funds) after the world pays out. Switch on 'Let the "
        "planner choose' beside a parameter to have a learning planner set it."
    )
    applicable = [
        k for k, cls in MECHANISMS.items() if cls.worlds is None or world_kind in cls.worlds
    ]
    uids = st.session_state["mech_uids"]
    entries = data.get("mechanisms", [])
    out = []
    slots = []  # where each mechanism's planner switches go, filled once all are entered
    if not entries:
        st.info("No mechanisms: agents keep what the world pays them.")
    for i, (uid, entry) in enumerate(zip(uids, entries)):
        with st.container(border=True):
            head = st.columns([4, 1, 1, 1], vertical_alignment="bottom")
            kinds = list(dict.fromkeys([*applicable, entry.get("kind")]))
            kind = head[0].selectbox(
                f"Mechanism {i + 1}",
                kinds,
                index=kinds.index(entry.get("kind")),
                key=f"r{rev}.m{uid}.kind",
                help="; ".join(
                    f"{k}: {MECHANISMS[k].summary}" for k in applicable if k in MECHANISMS
                ),
            )
            head[1].button(
                "↑", key=f"r{rev}.m{uid}.up", on_click=_move, args=(i, -1), help="Move up"
            )
            head[2].button(
                "↓", key=f"r{rev}.m{uid}.down", on_click=_move, args=(i, 1), help="Move down"
            )
            head[3].button(
                "Remove",
                key=f"r{rev}.m{uid}.rm",
                on_click=_remove,
                args=("mechanisms", "mech_uids", i),
            )
            if kind in MECHANISMS:
                st.caption(MECHANISMS[kind].summary)
                values = entry if kind == entry.get("kind") else {}
                params = forms.config_form(
                    MECHANISMS[kind].Params,
                    values,
                    f"r{rev}.m{uid}.{kind}",
                    path=f"mechanisms[{i}]",
                )
            else:
                params = {k: v for k, v in entry.items() if k != "kind"}
            out.append({"kind": kind, **params})
            slots.append(st.container())
    chosen = _switches(out, slots, data.get("planner"), rev)
    add = st.columns([4, 2], vertical_alignment="bottom")
    add[0].selectbox(
        "Add a mechanism",
        applicable,
        key="add_mechanism_kind",
        help="Mechanisms that apply to this world type.",
    )
    add[1].button("Add mechanism", on_click=_add_mechanism)
    return out, chosen


def _switches(
    mechanisms: list[dict[str, Any]], slots: list, planner: dict[str, Any] | None, rev: int
) -> dict[planner_form.Control, list[float] | None] | None:
    """Each mechanism's "let the planner choose" switches, drawn in its box."""
    controls = planner_form.controls_of(mechanisms)
    if controls is None:
        if slots:
            slots[-1].caption("Fix the mechanisms' errors to choose what a planner sets.")
        return None
    uids = st.session_state["mech_uids"]
    chosen: dict[planner_form.Control, list[float] | None] = {}
    for i, (slot, entry) in enumerate(zip(slots, mechanisms)):
        own = [c for c in controls if c.index == i]
        with slot:
            chosen.update(planner_form.switches(own, planner, f"r{rev}.m{uids[i]}.{entry['kind']}"))
    return chosen


def _population(data: dict[str, Any], rev: int) -> list[dict[str, Any]]:
    st.subheader("Population")
    st.caption(
        "Which policy each seat runs; the counts must add up to the world's number of agents."
    )
    uids = st.session_state["pop_uids"]
    policies = list(sc.POLICIES)  # every policy a group may name (scripted and learning)
    out = []
    for i, (uid, group) in enumerate(zip(uids, data.get("population", []))):
        with st.container(border=True):
            head = st.columns([4, 2, 1], vertical_alignment="bottom")
            current = group.get("policy")
            names = list(dict.fromkeys([*policies, current])) if current else policies
            policy = head[0].selectbox(
                f"Group {i + 1} policy",
                names,
                index=names.index(current) if current in names else 0,
                key=f"r{rev}.p{uid}.policy",
                help="; ".join(f"{k}: {v.summary}" for k, v in SCRIPTED.items()),
            )
            with head[1]:
                count = numbers.number_box(
                    "Agents",
                    group.get("count", 1),
                    int,
                    key=f"r{rev}.p{uid}.count",
                    help="How many agents run this policy. Allowed: >= 1.",
                ).value
                forms.field_slot(f"population[{i}].count", f"r{rev}.p{uid}.count")
            head[2].button(
                "Remove",
                key=f"r{rev}.p{uid}.rm",
                on_click=_remove,
                args=("population", "pop_uids", i),
            )
            entry: dict[str, Any] = {"policy": policy, "count": count}
            cls = SCRIPTED.get(policy)
            if cls is not None and cls.Params is not type(None):
                values = group.get("params", {}) if policy == current else {}
                entry["params"] = forms.config_form(
                    cls.Params, values, f"r{rev}.p{uid}.{policy}", path=f"population[{i}].params"
                )
            elif group.get("params") and policy == current:
                entry["params"] = group["params"]
            out.append(entry)
    st.button("Add group", on_click=_add_group)
    return out


def _extra_sections(data: dict[str, Any], rev: int) -> dict[str, Any]:
    """Any further typed section of a scenario (training, say) gets widgets the same way."""
    out: dict[str, Any] = {}
    scenario, _ = state.check(data)
    if scenario is None:
        return {k: data[k] for k in data if k not in HANDLED}
    for f in dataclasses.fields(scenario):
        value = getattr(scenario, f.name)
        if f.name in HANDLED or not dataclasses.is_dataclass(value):
            continue
        st.subheader(forms.label(f.name))
        out[f.name] = forms.config_form(
            type(value), data.get(f.name, {}), f"r{rev}.{f.name}", path=f.name
        )
    return out


PENDING_SAVE = "pending_save"  # a save that would replace another design, waiting for a choice
SAVED = "saved_message"  # the last save's message, shown once after the callback's rerun


def _free_name(name: str) -> str:
    """``name``, or ``name_2``, ``name_3``, ...: the first that no saved design has."""
    folder, k, found = designs_dir(), 1, name
    while inside(folder, f"{found}.toml").exists():
        k += 1
        found = f"{name}_{k}"
    return found


def _write(name: str, text: str) -> None:
    folder = designs_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = inside(folder, f"{name}.toml")
    atomic_write_text(path, text)
    st.session_state.pop(PENDING_SAVE, None)
    st.session_state[SAVED] = (
        f"Saved to {shown.path(path)}: listed as 'saved: {name}' under Start from scenario"
    )


def _ask_before_replacing(text: str) -> None:
    """Two names can make one file name ('' and '..' both give design.toml): never replace
    another design silently, offer to overwrite it or to save under a free name."""
    pending = st.session_state.get(PENDING_SAVE)
    if not pending:
        return
    if pending["text"] != text:  # the design changed since: the question no longer applies
        st.session_state.pop(PENDING_SAVE, None)
        return
    name, free = pending["name"], _free_name(pending["name"])
    where = shown.path(inside(designs_dir(), f"{name}.toml"))
    st.warning(
        f"Not saved: {where} holds another design ('saved: {name}'). Overwrite it, or save "
        f"this design as {free}.toml?",
        icon=":material/warning:",
    )
    cols = st.columns([2, 2, 1])
    cols[0].button(f"Save as {free}.toml", type="primary", on_click=_write, args=(free, text))
    cols[1].button(f"Overwrite {name}.toml", on_click=_write, args=(name, text))
    cols[2].button("Cancel", on_click=st.session_state.pop, args=(PENDING_SAVE, None))


def _save(data: dict[str, Any], valid: bool) -> None:
    st.subheader("Save")
    stem = slug(data.get("name", "design"), fallback="design")
    cols = st.columns([3, 1, 1], vertical_alignment="bottom")
    # Keyed by the design's name: a fixed key kept the first name typed, so a renamed design
    # was saved under its old file name.
    fname = cols[0].text_input(
        "File name",
        value=f"{stem}.toml",
        key=f"save_name.{stem}",
        help=f"Saved designs go to {shown.path(designs_dir())} and appear in the scenario list "
        "above. A name already taken by another design asks before replacing it.",
    )
    text = tomli_w.dumps(data)
    if cols[1].button("Save design", disabled=not valid, type="primary"):
        name = slug(fname.removesuffix(".toml"), fallback=stem)
        path = inside(designs_dir(), f"{name}.toml")
        if path.exists() and path.read_text() != text:
            st.session_state[PENDING_SAVE] = {"name": name, "text": text}
            st.session_state.pop(SAVED, None)
        else:
            _write(name, text)
    cols[2].download_button(
        "Download TOML",
        data=text,
        file_name=f"{slug(fname.removesuffix('.toml'), fallback=stem)}.toml",
        mime="application/toml",
        disabled=not valid,
    )
    saved = st.session_state.pop(SAVED, None)
    if saved:
        st.success(saved)
    _ask_before_replacing(text)


def render() -> None:
    data = state.design()
    rev = st.session_state["design_rev"]
    forms.start_fields()
    st.title("Design a mechanism")
    st.caption(
        "Pick a scenario, change its world, mechanisms and population, then run it on the "
        "Run page. Hover over the ? next to a field for what it means and which values are allowed."
    )
    labels = list(state.sources())
    origin = st.session_state.get("design_origin")
    st.selectbox(
        "Start from scenario",
        labels,
        index=labels.index(origin) if origin in labels else 0,
        key="design_source",
        on_change=_load_source,
        help="The ready scenarios in scenarios/ and the designs you saved. Choosing one replaces "
        "the current design.",
    )
    head = st.columns([1, 2])
    name = head[0].text_input(
        "Name",
        value=data.get("name", ""),
        key=f"r{rev}.name",
        help="Names the run directories, e.g. runs/<name>-<time>-s<seed>.",
    )
    description = head[1].text_input(
        "Description",
        value=data.get("description", ""),
        key=f"r{rev}.description",
        help="One line on what this design tests; shown in listings and reports.",
    )
    new: dict[str, Any] = {"name": name, "description": description}
    new["world"] = _world(data, rev)
    new["mechanisms"], chosen = _mechanisms(data, new["world"]["kind"], rev)
    if chosen is None:  # kept as it was until the pipeline validates again
        planner = data.get("planner")
    else:
        planner = planner_form.planner_section(data.get("planner"), chosen, f"r{rev}.planner")
    if planner is not None:
        new["planner"] = planner
    new["population"] = _population(data, rev)
    st.subheader("Evaluation")
    new["evaluation"] = forms.config_form(
        sc.EvaluationConfig,
        data.get("evaluation", {}),
        f"r{rev}.evaluation",
        columns=3,
        path="evaluation",
    )
    kept = {k: v for k, v in data.items() if k != "planner"}  # the planner is new's to say
    new.update(_extra_sections({**kept, **new}, rev))
    if not new["mechanisms"]:
        del new["mechanisms"]
    state.keep(new)

    scenario, problem = state.validate(new)
    error = None if problem is None else str(problem)
    st.subheader("Check")
    if problem is not None:
        for each in state.field_errors(new):
            forms.show_field_error(each.field, each.problem)
        st.error(f"error: {error}", icon=":material/error:")
    else:
        st.success(
            f"Valid design: {scenario.num_agents} agents, mechanisms: {scenario.mechanism_label}, "
            f"{scenario.evaluation.episodes} evaluation episodes. Go to Run to run it.",
            icon=":material/check_circle:",
        )
    _save(new, error is None)
