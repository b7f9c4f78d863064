"""The worlds as other libraries' environments: PettingZoo's ``ParallelEnv``
(:mod:`coopsim.adapters.pettingzoo`) and TorchRL's ``EnvBase`` (:mod:`coopsim.adapters.torchrl`),
with the seats both expose (:mod:`coopsim.adapters.suite`).

A package of its own above the building layer: an adapter builds a scenario's world and
population and drives them, so it sits where execution does, and the worlds below know nothing
of it.
"""
