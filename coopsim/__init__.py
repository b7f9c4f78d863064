"""coopsim: a cooperative-AI policy sandbox.

Learning agents live in batched economies and social dilemmas, a planner designs the rules
they live under, and every outcome is measured for welfare, equality and cooperation.
"""

__version__ = "0.1.0"
