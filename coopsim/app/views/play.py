"""Play page: a person takes a seat of a public-goods table; learned agents play the others.

Only the view: the game (seats, rounds, the rules in turn, the vote, a seat that leaves, the
record) is :mod:`coopsim.lab.table`, on disk under the runs folder. A table's link carries its
id (``?table=...``); whoever opens it can take a free seat, and the page keeps the person's own
token in the URL too (``&me=...``), so a reloaded tab is the same seat. The table part of the
page re-runs every :data:`POLL_S` seconds (``st.fragment(run_every=...)``) while the person
waits for the others (not while the table waits for them: a re-run could swallow a click). It
reads the table, which moves it on (a round whose time is up is settled with the seat's
agent), and shows what a lab shows: the rule in plain words, each round's contributions (own, others'), the pot, what
the rule moved and the payoffs; after the last round the result, and a vote where two rules
were played.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pandas as pd
import streamlit as st

from coopsim.app import runs_dir, shown
from coopsim.lab import table
from coopsim.schema import ConfigError

POLL_S = 2.0  # how often a table's page looks for the others' moves
NO_RULE_B = "(none: one rule, no vote)"
OWN_AGENTS = "the rule's own agents (the run's learned ones, or the scenario's)"


@st.cache_data(show_spinner=False, ttl=60)
def _scenario_rules() -> list[str]:
    """Shipped public-goods scenarios whose seats the lab's agents can all play, under a rule
    a table plays."""
    from coopsim import scenario as scenario_mod
    from coopsim.lab.otree_export import build_rule

    found = []
    for name in scenario_mod.list_scenarios():
        try:
            rule = build_rule(name, [], every_seat=True)
        except (ConfigError, ValueError, KeyError):
            continue
        if not any(m["kind"] in table.NOT_ON_THE_PAGE for m in rule["mechanisms"]):
            found.append(name)
    return found


def _run_rules() -> list[str]:
    """Public-goods runs in the runs folder that were simulated (not tables people played)."""
    from coopsim.record import expand_paths

    found = []
    for path in expand_paths(str(runs_dir() / "*"), note=lambda _: None):
        try:
            summary = json.loads((path / "summary.json").read_text())
        except (OSError, ValueError):
            continue
        if summary.get("world") == "public_goods" and summary.get("source") not in (
            "play",
            "otree",
        ):
            found.append(path)
    found.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    return [str(p) for p in found]


def _label(source: str) -> str:
    return f"run {shown.path(source)}" if "/" in source else f"scenario {source}"


def _populations() -> list[str]:
    from coopsim.stress.populations import list_populations, load_population

    out = []
    for name in list_populations():
        try:
            if load_population(name).world == "public_goods":
                out.append(name)
        except ConfigError:
            continue
    return out


# -- the lobby --------------------------------------------------------------------------------
def _open_form() -> None:
    st.subheader("Open a table")
    rules = _run_rules() + _scenario_rules()
    if not rules:
        st.info("No public-goods rule to play: train one on the Run page first.")
        return
    default = next((i for i, r in enumerate(rules) if "democratic" in r), 0)
    with st.form("open_table"):
        a = st.selectbox("Rule A", rules, index=default, format_func=_label)
        b = st.selectbox(
            "Rule B (Democratic AI: play both rules in turn, then vote)",
            [NO_RULE_B, *rules],
            format_func=lambda s: s if s == NO_RULE_B else _label(s),
        )
        fill = st.selectbox("The other seats", [OWN_AGENTS, *_populations()])
        replay = st.checkbox(
            "Replay a planner's rule round by round (else fixed at the mean it played)",
            key="play_replay",
        )
        cols = st.columns(3)
        people = cols[0].number_input("People at the table", 1, 64, 1, key="play_people")
        rounds = cols[1].number_input("Rounds per rule", 1, table.MAX_ROUNDS, 10, key="play_rounds")
        timeout = cols[2].number_input(
            "Seconds to choose each round",
            5,
            3600,
            int(table.DEFAULT_TIMEOUT_S),
            key="play_timeout",
            help="A person who has not chosen in time leaves: the seat's agent plays it from then",
        )
        name = st.text_input("Your name", "player 1", key="play_name")
        opened = st.form_submit_button("Open the table")
    if opened:
        try:
            t = table.create(
                runs_dir(),
                a,
                None if b == NO_RULE_B else b,
                population=None if fill == OWN_AGENTS else fill,
                planner="replay" if replay else "fixed",
                people=int(people),
                rounds=int(rounds),
                timeout_s=float(timeout),
            )
        except (table.TableError, ConfigError) as err:
            st.error(shown.text(str(err)))
            return
        st.query_params["table"] = t
        st.session_state["play_joining_name"] = name
        st.rerun()


def _join_form(t: str, state: dict[str, Any]) -> None:
    rule = state["rules"][0]
    free = [s for s in range(state["num_agents"]) if str(s) not in state["seats"]]
    st.markdown(f"**{len(state['seats'])} of {state['people']} people are seated.** Take a seat:")
    with st.form(f"join_{t}"):
        seat = st.selectbox(
            "Seat",
            free,
            format_func=lambda s: f"seat {s + 1} (endowment {rule['endowments'][s]:g})",
        )
        name = st.text_input(
            "Your name", st.session_state.get("play_joining_name", ""), key=f"name_{t}"
        )
        joined = st.form_submit_button("Take this seat")
    if joined:
        try:
            token = table.join(runs_dir(), t, name, seat=int(seat))
        except table.TableError as err:
            st.error(str(err))
            return
        st.query_params["me"] = token
        st.rerun()


# -- the table --------------------------------------------------------------------------------
def _who(state: dict[str, Any], rule: dict[str, Any], seat: int, me: int | None) -> str:
    person = state["seats"].get(str(seat))
    agent = f"computer agent ({rule['seat_policy'][seat].replace('_', ' ')})"
    if person is None:
        return "waiting for a person" if state["phase"] == "waiting" else agent
    name = "you" if seat == me else person["name"]
    if person["left"] is not None:
        letter, r = person["left"]
        return f"{name}, left: {agent} from round {r} of rule {letter}"
    return name


def _rule_words(rule: dict[str, Any], letter: str | None) -> None:
    title = f"Rule {letter}" if letter else "The rule"
    st.markdown(f"**{title}** ({_label(rule['source'])}):")
    st.markdown("\n".join(f"- {line}" for line in rule["rule_text"]))
    if rule.get("planner_note"):
        st.caption(rule["planner_note"])


def _round_table(rule: dict[str, Any], played: list[dict[str, Any]], me: int | None) -> None:
    """Every round so far: own and others' contributions, the pot, what the rule moved, pay."""
    rows = []
    for r, p in enumerate(played):
        c = p["contributions"]
        row: dict[str, Any] = {"round": r + 1}
        if me is not None:
            moved = sum(t[me] for t in p["transfers"].values())
            row |= {
                "you put in": c[me],
                "moved by the rule (you)": moved,
                "your payoff": p["net"][me],
            }
        for s in range(rule["num_agents"]):
            if s != me:
                row[f"seat {s + 1} put in"] = c[s]
        row["pot (multiplied)"] = rule["multiplier"] * sum(c)
        rows.append(row)
    if rows:
        st.dataframe(pd.DataFrame(rows).round(2), hide_index=True, width="stretch")


def _last_round(
    state: dict[str, Any], rule: dict[str, Any], played: list[dict[str, Any]], me: int | None
) -> None:
    """The last round as a lab's results screen: every seat, who played it, what moved."""
    p = played[-1]
    rows = [
        {
            "seat": s + 1,
            "who": _who(state, rule, s, me),
            "endowment": rule["endowments"][s],
            "put in": p["contributions"][s],
            "moved by the rule": sum(t[s] for t in p["transfers"].values()),
            "payoff": p["net"][s],
        }
        for s in range(rule["num_agents"])
    ]
    st.markdown(
        f"**Round {len(played)}**: the pot, after multiplying, was "
        f"{rule['multiplier'] * sum(p['contributions']):.2f}."
    )
    st.dataframe(pd.DataFrame(rows).round(2), hide_index=True, width="stretch")


def level_labels(endowment: float, levels: int) -> list[str]:
    """The points each contribution level stands for, as the slider shows them.

    A level ``k`` puts ``k * endowment / (levels - 1)`` into the pot. Where every step is a
    whole number of points (20 points in 21 levels) the labels are integers: "7.00" would
    suggest a precision the game does not have. Otherwise each label has the fewest decimals
    (at most two) that tell the levels apart and show them exactly where they are exact.
    """
    if levels < 2:
        raise ValueError(f"levels: got {levels!r}, a slider needs at least 2")
    values = [k * endowment / (levels - 1) for k in range(levels)]
    for decimals in range(3):
        if all(abs(v - round(v, decimals)) < 1e-9 * max(1.0, abs(v)) for v in values):
            break
    return [f"{v:.{decimals}f}" for v in values]


def _choose(t: str, state: dict[str, Any], rule: dict[str, Any], me: int, token: str) -> None:
    i = state["rule_index"]
    r = len(state["rounds"][i])
    letter = table.LETTERS[i] if len(state["rules"]) > 1 else ""
    st.markdown(f"### Rule {letter} round {r + 1} of {rule['rounds']}".replace("  ", " "))
    if state["seats"][str(me)]["left"] is not None:
        st.warning("Your time ran out: your seat's agent plays it now.")
        return
    if str(me) in state["pending"]:
        left = max(0, int(state["deadline"] - time.time()))
        st.info(f"You put in your choice. Waiting for the others ({left} s left).")
        return
    by_round = rule.get("rule_text_by_round")
    if by_round:  # a planner's rule replayed: this round's
        st.markdown("**The rule this round:** " + " ".join(by_round[r]))
    endowment = rule["endowments"][me]
    labels = level_labels(endowment, rule["levels"])
    level = st.select_slider(
        f"You have {endowment:g} points this round. How much do you put into the common pot?",
        options=list(range(rule["levels"])),
        value=0,
        format_func=lambda k: labels[k],
        key=f"level_{t}_{i}_{r}",
    )
    if st.button("Contribute", key=f"contribute_{t}_{i}_{r}", type="primary"):
        try:
            table.act(runs_dir(), t, token, int(level))
        except table.TableError as err:
            st.error(str(err))
            return
        st.rerun()  # the whole page: whether it polls depends on the phase


def _vote(t: str, state: dict[str, Any], me: int | None, token: str | None) -> None:
    st.markdown("### Your vote")
    for i, rule in enumerate(state["rules"]):
        _rule_words(rule, table.LETTERS[i])
        if me is not None:
            total = sum(p["net"][me] for p in state["rounds"][i])
            st.markdown(f"You earned **{total:.2f}** under rule {table.LETTERS[i]}.")
    if me is None or token is None:
        return
    if str(me) in state["votes"]:
        st.info(f"You voted for rule {state['votes'][str(me)]}. Waiting for the others.")
        return
    choice = st.radio(
        "Under which rule would you rather play again?",
        list(table.LETTERS),
        format_func=lambda x: f"Rule {x}",
        key=f"vote_{t}",
        horizontal=True,
    )
    if st.button("Vote", key=f"vote_button_{t}", type="primary"):
        table.vote(runs_dir(), t, token, choice)
        st.rerun()  # the whole page: whether it polls depends on the phase


def _result(state: dict[str, Any], me: int | None) -> None:
    st.markdown("### The result")
    for i, rounds in enumerate(state["rounds"]):
        totals = [sum(p["net"][s] for p in rounds) for s in range(state["num_agents"])]
        letter = table.LETTERS[i] if len(state["rules"]) > 1 else None
        head = f"Rule {letter}: " if letter else ""
        mine = f"you earned {totals[me]:.2f}; " if me is not None else ""
        st.markdown(f"{head}{mine}the table earned {sum(totals):.2f} in {len(rounds)} rounds.")
    if state["votes"]:
        counts = {x: sum(v == x for v in state["votes"].values()) for x in table.LETTERS}
        st.markdown(f"Votes: rule A {counts['A']}, rule B {counts['B']}.")
    st.success(
        "Recorded as run directories (open them on Compare): "
        + ", ".join(f"`{shown.path(p)}`" for p in state["runs"])
    )


def _share_link(t: str) -> str:
    """This page's address with only the table's id: the link others join by (never the
    person's own ``me`` token)."""
    try:
        base = str(st.context.url).split("?", 1)[0]
    except AttributeError:  # an older Streamlit: the path alone
        base = "/play"
    return f"{base}?table={t}"


def _table_view(t: str) -> None:
    token = st.query_params.get("me")
    try:
        state = table.view(runs_dir(), t)
    except table.TableError as err:
        st.error(str(err))
        return
    try:
        me: int | None = table.seat_of(state, token)
    except table.TableError:
        me, token = None, None
    st.markdown(f"Table `{t}`. Others join through this link: `{_share_link(t)}`")
    multi = len(state["rules"]) > 1
    rule = state["rules"][state["rule_index"]]
    st.markdown(
        f"A public-goods game for {state['num_agents']}: each round every seat puts some of its "
        f"endowment into a common pot, which is multiplied by {rule['multiplier']:g} and shared "
        f"equally; each keeps what they did not put in, plus their share, and then the rule "
        f"moves money. {rule['rounds']} rounds"
        + (" under rule A, then as many under rule B, then a vote." if multi else ".")
    )
    _rule_words(rule, table.LETTERS[state["rule_index"]] if multi else None)
    seats = pd.DataFrame(
        [
            {
                "seat": s + 1,
                "endowment": rule["endowments"][s],
                "who": _who(state, rule, s, me),
            }
            for s in range(state["num_agents"])
        ]
    )
    st.dataframe(seats, hide_index=True, width="stretch")
    if state["phase"] == "waiting":
        if me is None:
            _join_form(t, state)
        else:
            st.info(f"Waiting for people: {len(state['seats'])} of {state['people']} seated.")
        if st.button("Start now (agents take the empty seats)", key=f"start_{t}"):
            table.start(runs_dir(), t)
            st.rerun()  # the whole page: whether it polls depends on the phase
        return
    played = state["rounds"][state["rule_index"]]
    if played:
        _last_round(state, rule, played, me)
        _round_table(rule, played, me)
    if state["phase"] == "play" and me is not None and token is not None:
        _choose(t, state, rule, me, token)
    elif state["phase"] == "play":
        st.info("The game is on; this browser has no seat at this table.")
    elif state["phase"] == "vote":
        _vote(t, state, me, token)
    elif state["phase"] == "done":
        _result(state, me)


def _my_turn(t: str) -> bool:
    """Whether the table waits for this person's contribution or vote. Then the page does not
    poll: nothing the person sees changes until they choose, and a re-run while they click
    could swallow the click."""
    try:
        state = table.view(runs_dir(), t)
    except table.TableError:
        return False
    try:
        seat = str(table.seat_of(state, st.query_params.get("me")))
    except table.TableError:  # not seated: the join form waits for them while seats are free
        return state["phase"] == "waiting"
    person = state["seats"][seat]
    if state["phase"] == "play":
        return person["left"] is None and seat not in state["pending"]
    return state["phase"] == "vote" and person["left"] is None and seat not in state["votes"]


def render() -> None:
    st.header("Play a table")
    st.caption(
        "Take a seat of a public-goods game; learned agents (or a population) play the other "
        "seats. Played tables are recorded as run directories, with people's seats marked."
    )
    t = st.query_params.get("table")
    if not t:
        _open_form()
        st.subheader("Join a table")
        given = st.text_input("Table id (from the link someone shared)", key="play_join_id")
        if given:
            st.query_params["table"] = given.strip()
            st.rerun()
        return
    st.fragment(run_every=None if _my_turn(t) else POLL_S)(_table_view)(t)
    if st.button("Leave this page's table", key="leave_table"):
        for key in ("table", "me"):
            st.query_params.pop(key, None)
        st.rerun()
