"""One public-goods round's payoffs in plain Python: the arithmetic of coopsim's world.

Why plain Python: this file is copied into an exported oTree app, which must run without torch
or coopsim. ``tests/lab/test_lab_rules.py`` holds it to :class:`PublicGoodsWorld` and its
mechanism pipeline for random contributions under every supported mechanism, to the cent.

A rule is a list of ``{"label", "kind", "params"}`` dicts, applied in order, each moving money
between seats (and a pool the institution keeps across rounds), as ``mechanisms.base.Pipeline``
does.
"""

from __future__ import annotations

from typing import Any

# the mechanisms this arithmetic covers (peer punishment takes a second stage each round)
SUPPORTED = (
    "peer_punishment",
    "matching",
    "sanction_institution",
    "redistribution",
    "lump_sum",
    "tax",
    "provision_point",
)


def grid(endowment: float, levels: int) -> list[float]:
    """The contributions a seat may choose: ``levels`` even steps from 0 to its endowment."""
    unit = endowment / (levels - 1)
    return [k * unit for k in range(levels)]


def _normalised(x: list[float]) -> list[float]:
    total = sum(x)
    n = len(x)
    return [v / total for v in x] if total > 0 else [1.0 / n] * n


def _redistribution(c: list[float], e: list[float], r: float, p: dict[str, Any]) -> list[float]:
    n = len(c)
    w, v = float(p["w"]), float(p["v"])
    absolute = _normalised(c)
    relative = _normalised([ci / ei for ci, ei in zip(c, e)])
    shares = [w / n + (1 - w) * (v * a + (1 - v) * rel) for a, rel in zip(absolute, relative)]
    pot = r * sum(c)
    return [pot * s - pot / n for s in shares]  # the world paid each the equal share already


def bracket_tax(income: float, cutoffs: list[float], rates: list[float]) -> float:
    """Tax owed on ``income`` under marginal ``rates`` above each of ``cutoffs``."""
    upper = cutoffs[1:] + [float("inf")]
    return sum(r * min(max(income - lo, 0.0), hi - lo) for lo, hi, r in zip(cutoffs, upper, rates))


def _tax(
    label: str, p: dict[str, Any], gross: list[float], state: dict[str, Any], r: int, rounds: int
) -> list[float]:
    """A bracket tax: the round's gross payoff is income; collected at the period's end."""
    income = state.setdefault("income", {}).setdefault(label, [0.0] * len(gross))
    income = [i + max(g, 0.0) for i, g in zip(income, gross)]
    period = int(p["period"])
    if (r + 1) % period and r + 1 != rounds:
        state["income"][label] = income
        return [0.0] * len(gross)
    cutoffs = [float(b) * float(p["scale"]) for b in p["brackets"]]
    owed = [bracket_tax(i, cutoffs, [float(x) for x in p["rates"]]) for i in income]
    state["income"][label] = [0.0] * len(gross)
    return [-t for t in owed]


def settle(
    contributions: list[float],
    endowments: list[float],
    multiplier: float,
    mechanisms: list[dict[str, Any]],
    pool: float = 0.0,
    *,
    round_index: int = 0,
    rounds: int = 1,
    state: dict[str, Any] | None = None,
    punishment: list[list[int]] | None = None,
) -> dict[str, Any]:
    """Gross and net payoffs of one round, each mechanism's transfers, and the pool after it.

    ``contributions`` and ``endowments`` are per seat, in currency; ``pool`` is what the
    institution kept from earlier rounds of the episode. ``round_index`` (from 0) of
    ``rounds`` and ``state`` (what a tax has counted of this period's income; updated in
    place) matter to a tax, which collects at the end of each period and in the last round.
    ``punishment[i][j]``: the points seat i gave seat j in the round's second stage.
    """
    state = {} if state is None else state
    n = len(contributions)
    c = [float(x) for x in contributions]
    e = [float(x) for x in endowments]
    total = sum(c)
    gross = [ei - ci + multiplier * total / n for ci, ei in zip(c, e)]
    net = list(gross)
    transfers: dict[str, list[float]] = {}
    for mech in mechanisms:
        kind, p = mech["kind"], mech["params"]
        if kind == "matching":
            t = [multiplier * float(p["rate"]) * total / n] * n
        elif kind == "sanction_institution":
            fines = [
                float(p["fine"]) * max(0.0, float(p["threshold"]) * ei - ci) for ci, ei in zip(c, e)
            ]
            t = [-(f + float(p["fee"])) for f in fines]
            pool += sum(fines)
        elif kind == "redistribution":
            t = _redistribution(c, e, multiplier, p)
        elif kind == "tax":
            t = _tax(mech["label"], p, gross, state, round_index, rounds)
            pool -= sum(t)
        elif kind == "provision_point":
            needed = float(p["threshold"]) * sum(e)
            if total < needed - 1e-9:  # the good is not provided: its shares are taken back
                t = [-multiplier * total / n + (ci if p["refund"] else 0.0) for ci in c]
            else:
                t = [0.0] * n
        elif kind == "peer_punishment":
            points = punishment or [[0] * n for _ in range(n)]
            given = [sum(row) for row in points]
            received = [sum(points[i][j] for i in range(n)) for j in range(n)]
            t = [-(g * float(p["cost"]) + r * float(p["impact"])) for g, r in zip(given, received)]
        elif kind == "lump_sum":
            payout = float(p["share"]) * pool
            t = [payout / n] * n
            pool -= payout
        else:
            raise ValueError(f"mechanism {kind!r} is not supported here; supported: {SUPPORTED}")
        transfers[mech["label"]] = t
        net = [a + b for a, b in zip(net, t)]
    return {"gross": gross, "transfers": transfers, "net": net, "pool": pool, "state": state}
