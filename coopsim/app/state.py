"""The design being edited, kept in Streamlit's session state as plain scenario data.

The design is the same dict a scenario TOML file parses to, so saving it is ``tomli_w.dumps``
and checking it is :func:`coopsim.scenario.from_dict`. Widget values are copied back into it
on every rerun, which keeps the design when the person visits another page (Streamlit forgets
the state of widgets that are not drawn), and it is saved for the browser session
(:mod:`coopsim.app.session`), which keeps it when the tab is closed and opened again.
"""

from __future__ import annotations

import copy
import re
import sys
from pathlib import Path
from typing import Any

import streamlit as st

from coopsim import scenario as sc
from coopsim.app import designs_dir, session
from coopsim.schema import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DESIGN = "design"
DEFAULT_SCENARIO = "public_goods"
#: Run names chosen on Compare; the Report page reports on the same runs. A plain key, not a
#: widget's: Streamlit forgets a widget's value once its page is left.
SELECTED_RUNS = "selected_runs"


def sources() -> dict[str, Path]:
    """Label -> TOML file, for the ready scenarios and the designs saved from the app."""
    out = dict(sc.list_scenarios())
    folder = designs_dir()
    if folder.is_dir():
        for path in sorted(folder.glob("*.toml")):
            out[f"saved: {path.stem}"] = path
    return out


def read_toml(path: Path) -> dict[str, Any]:
    """A scenario file as plain data, resolved through the loader when it is valid.

    Resolving fills in defaults so every widget starts from the value the run would use; a
    file that does not validate is shown as written so the person can fix it.
    """
    try:
        return sc.load(path).to_dict()
    except ConfigError:
        return tomllib.loads(Path(path).read_text())


def set_design(data: dict[str, Any], origin: str) -> None:
    """Replace the design; widget keys change with the revision so widgets take new values."""
    ss = st.session_state
    ss[DESIGN] = data
    ss["design_origin"] = origin
    ss["design_rev"] = ss.get("design_rev", 0) + 1
    ss["mech_uids"] = list(range(len(data.get("mechanisms", []))))
    ss["pop_uids"] = list(range(len(data.get("population", []))))
    ss["next_uid"] = 1000


def init() -> None:
    """Start from the design this browser session last edited, else the default scenario."""
    token = session.current()
    if DESIGN in st.session_state:
        return
    restored = session.load_design(token)
    if restored is not None:
        set_design(*restored)
        return
    found = sources()
    name = DEFAULT_SCENARIO if DEFAULT_SCENARIO in found else next(iter(found), None)
    if name is None:
        set_design({"name": "design", "world": {"kind": "public_goods"}, "population": []}, "")
    else:
        set_design(read_toml(found[name]), name)


def new_uid() -> int:
    st.session_state["next_uid"] += 1
    return st.session_state["next_uid"]


def validate(data: dict[str, Any]) -> tuple[sc.Scenario | None, ConfigError | None]:
    """The design as a validated scenario, or the error (its ``field`` says where)."""
    try:
        return sc.from_dict(data, source="design"), None
    except ConfigError as err:
        return None, err


#: Most field errors one check collects (each costs one more validation of the design).
MAX_FIELD_ERRORS = 12
_STEP = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+)\])?")


def _drop(data: Any, path: str) -> bool:
    """Delete the value at a check's field path (``world.num_agents``, ``mechanisms[0].rate``)
    from ``data``; False where the path does not end at a value of a table."""
    steps = path.split(".")
    node = data
    for i, step in enumerate(steps):
        found = _STEP.fullmatch(step)
        if found is None or not isinstance(node, dict) or found.group(1) not in node:
            return False
        name, index = found.group(1), found.group(2)
        last = i == len(steps) - 1
        if last and index is None:
            del node[name]
            return True
        node = node[name]
        if index is not None:
            if not isinstance(node, list) or int(index) >= len(node) or last:
                return False
            node = node[int(index)]
    return False


def field_errors(data: dict[str, Any]) -> list[ConfigError]:
    """Every field the check refuses, not only the first: after each error the refused value
    is taken out (so its default stands in) and the design checked again.

    Why: the check stops at its first error, so a second bad box had no error beside it until
    the first was fixed. An error that names no single value (counts that do not add up) ends
    the list, since taking nothing out cannot get past it.
    """
    work = copy.deepcopy(data)
    found: list[ConfigError] = []
    while len(found) < MAX_FIELD_ERRORS:
        _, err = validate(work)
        if err is None or any(e.field == err.field for e in found):
            break
        found.append(err)
        if not _drop(work, err.field):
            break
    return found


def check(data: dict[str, Any]) -> tuple[sc.Scenario | None, str | None]:
    """The design as a validated scenario, or the command line's error message."""
    scenario, err = validate(data)
    return scenario, None if err is None else str(err)


def design() -> dict[str, Any]:
    init()
    return st.session_state[DESIGN]


def keep(data: dict[str, Any]) -> None:
    """Make ``data`` the design being edited, and save it for the browser session."""
    st.session_state[DESIGN] = data
    session.save_design(session.current(), data, st.session_state.get("design_origin", ""))


def select_runs(names: list[str]) -> None:
    """Remember the runs chosen on Compare for the other pages."""
    st.session_state[SELECTED_RUNS] = list(names)


def selected_runs(available: list[str]) -> list[str]:
    """The runs chosen on Compare that still exist, in the order they were chosen."""
    return [n for n in st.session_state.get(SELECTED_RUNS, []) if n in available]
