"""Taking a scenario's public-goods game to people: an oTree project, and its data back as runs.

The files :mod:`coopsim.lab.lab_rules` and :mod:`coopsim.lab.lab_agents` are plain Python (no
torch, no coopsim imports): the export copies them into the oTree app, so the lab computes
payoffs and the learned or scripted seats with the same code that the tests hold to coopsim's
own world.
"""
