"""``coopsim stress RUNS... [--populations ...] --out DIR``: rules against unseen agents."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from coopsim.cli.args import non_negative_int, positive_int, seed_list

if TYPE_CHECKING:
    import pandas as pd

    from coopsim.analysis.rules import Rule


def coalition_list(text: str) -> list[int]:
    """'1,2' -> [1, 2]: exploiter sizes, each a positive number of seats ('' for none)."""
    if not text.strip():
        return []
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seat counts like 1,2; got {text!r}") from None
    if any(k < 1 for k in sizes):
        raise argparse.ArgumentTypeError(f"seat counts must be >= 1; got {text!r}")
    if len(set(sizes)) < len(sizes):  # one exploiter per size: a repeat would count it twice
        raise argparse.ArgumentTypeError(f"seat counts must be distinct; got {text!r}")
    return sizes


def legend(episodes: int) -> str:
    """What each column of the printed verdict is. Why spelled out: a worst case above the
    in-distribution value reads as a bug unless one knows the worst case is over the other
    populations only, each on episodes of its own."""
    return (
        "the verdict below: in_distribution: the rule's own trained seats (mean over its "
        f"runs, {episodes} episodes each); worst_case, p10: the lowest and the 10th-percentile "
        "mean over the "
        "populations it never trained with (worst_population: which), not its own seats nor "
        "exploiters, each population on episodes of its own; exploitability: an exploiter's "
        "gain over the seats it replaced; *_share: of the yardstick"
    )


def verdict_table(
    frame: pd.DataFrame, rules: Sequence[Rule], yardsticks: Mapping[str, float]
) -> tuple[pd.DataFrame, list[str]]:
    """The verdict per rule, the rules named by the labels the brief and the app's Compare page
    give them (:func:`coopsim.analysis.rules.rules_verdict`) and grouped as
    :func:`coopsim.analysis.rules.rules_table` groups runs, with notes.

    A scenario whose runs belong to more than one rule (cells of a sweep, given as run
    directories) is one name in the stress test, its rules' runs pooled: it keeps that name,
    and a note says so, rather than dropping it from the verdict."""
    import pandas as pd

    from coopsim.analysis.rules import objective_label, rules_verdict
    from coopsim.analysis.stress import stress_labels, verdict

    table = rules_verdict(frame, rules, yardsticks)
    labels = stress_labels(rules, frame)
    pooled = [str(name) for name in dict.fromkeys(frame["rule"]) if name not in labels]
    if not pooled:
        return table, []
    rest = verdict(frame[frame["rule"].isin(pooled)], dict(yardsticks))
    own = {s: objective_label(r.own_objective) for r in rules for s in r.scenarios}
    rest.insert(1, "objective", rest["rule"].map(own).fillna(""))
    note = (
        f"{', '.join(pooled)}: runs of more than one rule came from this scenario, and the "
        "stress test pooled them under its name"
    )
    return pd.concat([table, rest], ignore_index=True), [note]


def verdict_lines(
    frame: pd.DataFrame, rules: Sequence[Rule], yardsticks: Mapping[str, float], episodes: int
) -> list[str]:
    """What ``coopsim stress`` prints of its verdict: the column legend, the notes (a worst case
    above the in-distribution value explained), the table, then each exploiter's gain in words.
    Rules go by their labels and the learners trained under a rule by that rule's label, the
    words the brief's Stress test section and the app's Stress test tab use, so one rule reads
    the same wherever it is shown."""
    from coopsim.analysis.stress import exploitability_words, stress_labels, worst_above_home

    table, notes = verdict_table(frame, rules, yardsticks)
    labels = stress_labels(rules, frame)
    lines = [legend(episodes)]  # what each column of the table below is
    lines += [f"note: {note}" for note in notes]
    lines += [f"note: {note}" for note in worst_above_home(frame, labels=labels)]
    if table["objective"].nunique() > 1:
        lines.append(
            "each rule on its own objective: compare a row's numbers, not rules whose "
            "objectives differ"
        )
    columns = ["rule", "objective", "in_distribution", "worst_case", "worst_population", "p10"]
    columns += ["exploitability", "in_distribution_share", "worst_case_share"]  # of the yardstick
    lines.append(table[columns].to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    for row in table.itertuples(index=False):  # the gain with its interval and budget
        if row.exploiter:
            lines.append(f"{row.rule}: {exploitability_words(row)}")
    return lines


#: Where the namespace keeps the dests of the options typed on the command line.
GIVEN = "stress_options_given"


class Given(argparse.Action):
    """Store an option's value and remember that it was typed: a flag given on the command
    line overrides a settings file's value, a default does not."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        setattr(namespace, self.dest, values)
        setattr(namespace, GIVEN, {*getattr(namespace, GIVEN, ()), self.dest})


def add_stress_parser(sub) -> None:
    p = sub.add_parser(
        "stress",
        help="play each run's rule against populations it never trained with, and exploiters",
        description="Play each run's rule against populations it never trained with, and "
        "against exploiters. The options below may come from a settings file (--config, a "
        "[stress] table whose keys are the options' names with underscores); an option typed "
        "on the command line overrides the file's value, and one given by neither takes the "
        "default shown.",
    )
    p.add_argument("runs", nargs="+", help="run directories or glob patterns (the rules)")
    p.add_argument("--out", required=True, help="folder for stress.parquet and its cells")
    p.add_argument(
        "--config",
        default=None,
        help="a stress settings file (TOML, a [stress] table) or a shipped one's name "
        "(scenarios/stress/: default); flags typed here override its values",
    )
    p.add_argument(
        "--populations",
        nargs="*",
        default=None,
        action=Given,
        help="population files or shipped names (populations/); default: the shipped ones "
        "marked default_suite for the runs' world",
    )
    p.add_argument(
        "--partners",
        nargs="*",
        default=[],
        action=Given,
        help="more run directories whose learners play as cross-play populations (their own "
        "rules are not stressed)",
    )
    p.add_argument(
        "--episodes", type=positive_int, default=32, action=Given, help="per population (32)"
    )
    p.add_argument(
        "--seed", type=non_negative_int, default=0, action=Given, help="evaluation seed (0)"
    )
    p.add_argument(
        "--coalitions",
        type=coalition_list,
        default=[1],
        action=Given,
        help="exploiters' sizes in seats, e.g. 1,2 ('' for none; default: 1)",
    )
    p.add_argument(
        "--exploiter-iterations",
        type=positive_int,
        default=30,
        action=Given,
        help="PPO iterations each exploiter trains (30)",
    )
    p.add_argument(
        "--exploiter-start",
        choices=("fresh", "replaced", "both"),
        default="both",
        action=Given,
        help="how exploiters start: fresh weights, the replaced seats' own policies (warm), or "
        "both, each its own population (default: both)",
    )
    p.add_argument(
        "--cross-seeds",
        type=non_negative_int,
        default=None,
        action=Given,
        help="most other training seeds whose learners each run meets (default: all)",
    )
    p.add_argument(
        "--exploit-seeds",
        type=seed_list,
        default=None,
        action=Given,
        help="training seeds whose runs get exploiters, e.g. 0 (default: every run's)",
    )
    p.add_argument("--fresh", action="store_true", help="discard finished cells, start over")
    p.set_defaults(func=cmd_stress)


def given_options(args: argparse.Namespace) -> dict:
    """The stress options typed on the command line, by name, with their values."""
    return {name: getattr(args, name) for name in sorted(getattr(args, GIVEN, ()))}


def cmd_stress(args: argparse.Namespace) -> int:
    from coopsim.analysis.stress import rule_yardsticks
    from coopsim.record import expand_paths
    from coopsim.schema import ConfigError
    from coopsim.stress.driver import Stress
    from coopsim.stress.populations import default_suite, load_population
    from coopsim.stress.settings import load_settings, resolve

    # the settings first: a mistake in the file is named before any run is read
    file = load_settings(args.config) if args.config is not None else None
    settings = resolve(given_options(args), file)  # typed flags over the file's values
    runs = [str(p) for p in expand_paths(args.runs)]
    if not runs:
        raise ConfigError(None, "RUNS", f"no run directories match {' '.join(args.runs)}")
    partners = [str(p) for p in expand_paths(settings.partners)] if settings.partners else []
    config = settings.config()
    if settings.populations is None:
        plan = Stress(runs, [], args.out, config, partners)
        kinds = {run.scenario.world.kind for run in plan.runs}
        plan.populations = [p for kind in sorted(kinds) for p in default_suite(kind)]
    else:
        pops = [load_population(p) for p in settings.populations]
        plan = Stress(runs, pops, args.out, config, partners)
    path = plan.run(progress=True, fresh=args.fresh)
    for note in dict.fromkeys(plan.notes):
        print(f"note: {note}", file=sys.stderr)
    import pandas as pd

    from coopsim.analysis.rules import group_rules
    from coopsim.record import load_run

    rules = group_rules([load_run(run) for run in runs])  # the runs given are the rules
    frame = pd.read_parquet(path)
    for line in verdict_lines(frame, rules, rule_yardsticks(runs), settings.episodes):
        print(line, file=sys.stderr)
    print(path)
    return 0
