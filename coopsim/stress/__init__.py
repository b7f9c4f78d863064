"""Stress tests: every designed rule against agents it never met.

A rule is judged here not only against the agents it was trained with but against
populations (:mod:`coopsim.stress.populations`, TOML files like scenarios): the learners of its
other training seeds, learners trained under other rules, scripted mixes, and an exploiter
trained against it (:mod:`coopsim.stress.exploiter`). :func:`coopsim.stress.driver.stress`
writes ``stress.parquet``; :mod:`coopsim.analysis.stress` turns it into a verdict per rule;
:mod:`coopsim.stress.robust` trains a planner against a mixture of populations.

This package file imports nothing: reading a population file is part of loading a scenario
(``[planner] populations``), which must not pull in the execution layers the driver needs.
"""
