"""What the integers of the act head mean (the order heads are read by :mod:`.market`)."""

from __future__ import annotations

import torch

ACTS = ("rest", "up", "down", "left", "right", "gather", "build")
REST, UP, DOWN, LEFT, RIGHT, GATHER, BUILD = range(len(ACTS))
MOVES = torch.tensor([[0, 0], [-1, 0], [1, 0], [0, -1], [0, 1], [0, 0], [0, 0]])  # [7, 2] dy, dx
