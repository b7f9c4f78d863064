"""Conformance kits, as PettingZoo's test utilities are for environments.

``check_world(kind)`` holds a registered world to the batched-world protocol and
``check_mechanism(kind)`` a registered mechanism to the mechanism protocol, each by playing
them under fixed action draws and comparing runs that must agree. Both raise AssertionError
naming the subject, the property and what differed, and otherwise return a
:class:`Conformance` record of what was checked. ``tests/test_conformance.py`` runs them over
every entry of ``coopsim.envs.WORLDS`` and ``mechanisms.MECHANISMS``.
"""

from coopsim.conformance.mechanisms import check_mechanism
from coopsim.conformance.verdict import Conformance
from coopsim.conformance.worlds import check_world

__all__ = ["Conformance", "check_mechanism", "check_world"]
