"""Observation vectors with named fields, so scripted policies and people can read them."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import torch
from torch import Tensor

# How an observation field is filled from a packer's source row (see GatherPacker).
SCALAR = "scalar"  # one value per step, the same for every world and agent (round progress)
OWN = "own"  # agent i reads entry i of an [B, N] source (its own last contribution)
EGOCENTRIC = "egocentric"  # agent i reads entries i, i+1, ... (mod N) of an [B, N] source
PER_AGENT = "per_agent"  # agent i reads its own [w] slice of an [B, N, w] source


class ObsLayout:
    """Fixed order of named fields in a flat per-agent observation vector."""

    def __init__(self, fields: list[tuple[str, int]]):
        self.slices: dict[str, slice] = {}
        start = 0
        for name, width in fields:
            self.slices[name] = slice(start, start + width)
            start += width
        self.size = start

    def pack(self, batch: int, agents: int, device: torch.device, **values) -> Tensor:
        """Write every field into one [B, N, size] tensor; scalars and [B, N] broadcast."""
        out = torch.empty(batch, agents, self.size, device=device)
        for name, sl in self.slices.items():
            v = values[name]
            if isinstance(v, Tensor) and v.dim() == 2:
                v = v[..., None]
            out[..., sl] = v
        return out


class GatherPacker:
    """Builds [B, N, size] observations with one ``torch.index_select`` from a compact source row.

    Why: writing each field into its strided slice of the output walks the whole observation
    tensor once per field, and at large B that tensor (B x N x size floats) is far bigger than
    the cache, so the cost is one trip to memory per field. Here the world writes each
    *distinct* value once into a small per-world row ``src`` ([B, S], S ~ 4N), and a fixed index
    ([N * size], built once) copies it out to every agent's slots in a single pass.

    ``fields`` maps each layout field to ``(how, source)``: ``how`` is one of SCALAR, OWN,
    EGOCENTRIC, PER_AGENT; fields naming the same source share its block of ``src`` (a world's
    last contributions feed both its own-contribution field and the egocentric list). A SCALAR
    field is its own source. The world fills blocks through :meth:`block` / :meth:`set_scalars`
    (the buffer is reused between steps) and calls :meth:`gather`, which returns a new tensor.
    """

    def __init__(
        self,
        layout: ObsLayout,
        fields: dict[str, tuple[str, str]],
        num_agents: int,
        batch_size: int,
        device: torch.device,
        source_widths: dict[str, int] | None = None,
    ):
        n = num_agents
        widths = dict(source_widths or {})  # PER_AGENT source -> per-agent width w
        self.layout = layout
        self.num_agents = n
        self.batch_size = batch_size
        self.scalars = [f for f, (how, _) in fields.items() if how == SCALAR]
        # Source blocks: scalars first (one contiguous run, written in one copy), then one
        # block per named source: N wide (OWN/EGOCENTRIC) or N * w wide (PER_AGENT).
        self.offsets: dict[str, int] = {name: i for i, name in enumerate(self.scalars)}
        self.widths: dict[str, int] = dict.fromkeys(self.scalars, 1)
        start = len(self.scalars)
        for name, (how, source) in fields.items():
            if how not in (SCALAR, OWN, EGOCENTRIC, PER_AGENT):
                raise ValueError(f"field {name!r}: unknown fill {how!r}")
            if how == SCALAR or source in self.offsets:
                continue
            width = n * widths.get(source, 1) if how == PER_AGENT else n
            self.offsets[source], self.widths[source] = start, width
            start += width
        self.source_size = start
        columns = torch.empty(n, layout.size, dtype=torch.long)  # [N, size] src column per slot
        agent = torch.arange(n)[:, None]  # [N, 1]
        for name, sl in layout.slices.items():
            how, source = fields[name]
            width = sl.stop - sl.start
            k = torch.arange(width)[None, :]  # [1, w]
            off = self.offsets[name if how == SCALAR else source]
            if how in (SCALAR, OWN) and width != 1:
                raise ValueError(f"field {name!r}: a {how} field is 1 wide, the layout has {width}")
            if how == EGOCENTRIC and width != n:
                raise ValueError(f"field {name!r}: egocentric needs width N={n}, got {width}")
            if how == SCALAR:
                cols = torch.full((n, 1), off)
            elif how == OWN:
                cols = off + agent
            elif how == EGOCENTRIC:
                cols = off + (agent + k) % n
            else:
                cols = off + agent * width + k
            columns[:, sl] = cols
        self.index = columns.reshape(-1).to(device)  # [N * size], the same for every world
        self.src = torch.zeros(batch_size, self.source_size, device=device)  # [B, S]
        self._scalar_rows: dict[tuple[float, ...], Tensor] = {}  # see set_scalars
        # the blocks' views, made once: a world writes several every step
        self._blocks = {
            name: self.src[:, off : off + self.widths[name]] for name, off in self.offsets.items()
        }
        self._scalar_block = self.src[:, : len(self.scalars)]

    def block(self, source: str) -> Tensor:
        """The [B, width] view of ``src`` holding ``source``, to write into with ``out=``."""
        return self._blocks[source]

    def set_scalars(self, *values: float) -> None:
        """Write this step's scalar fields, in the order of the layout.

        The values repeat from episode to episode (round progress, stage), so each distinct
        tuple is made a device tensor once and kept (a few thousand at most)."""
        if self.scalars:
            vals = self._scalar_rows.get(values)
            if vals is None:
                if len(self._scalar_rows) >= 65_536:
                    self._scalar_rows.clear()
                vals = torch.tensor(values, dtype=self.src.dtype).to(self.src.device)
                self._scalar_rows[values] = vals  # [n_scalars]
            self._scalar_block.copy_(vals)

    def gather(self, out: Tensor | None = None) -> Tensor:
        """A [B, N, size] observation tensor from the current source rows: a new one, or
        ``out`` ([B, N * size], contiguous) filled and viewed as one."""
        # index_select: one shared index for every row, where gather reads an index per
        # element (1.5-2x slower at large B).
        if out is None:
            out = torch.index_select(self.src, 1, self.index)  # [B, N * size]
        else:
            torch.index_select(self.src, 1, self.index, out=out)
        return out.view(self.batch_size, self.num_agents, self.layout.size)


@functools.lru_cache(maxsize=64)
def egocentric_index(n: int, device: torch.device) -> Tensor:
    """[N, N] long: row i lists agents i, i+1, ... (mod N); cached per (N, device)."""
    return (torch.arange(n, device=device)[:, None] + torch.arange(n, device=device)) % n


def egocentric(x: Tensor) -> Tensor:
    """[B, N] per-agent values -> [B, N, N], row i listing agents i, i+1, ... (mod N).

    Every agent sees the group from its own seat, so one shared policy fits every seat.
    """
    return x[:, egocentric_index(x.shape[-1], x.device)]


Bound = float | Sequence[float]  # one value for the whole field, or one per entry


def layout_bounds(
    layout: ObsLayout, bounds: dict[str, tuple[Bound, Bound]]
) -> tuple[Tensor, Tensor]:
    """Low and high [size] of a layout's observation from each field's declared (low, high).

    Every field must be declared, so a field added without bounds fails here, by name.
    """
    low = torch.empty(layout.size)
    high = torch.empty(layout.size)
    missing = set(layout.slices) - set(bounds)
    if missing:
        raise ValueError(f"observation bounds: no bounds declared for {sorted(missing)}")
    for name, sl in layout.slices.items():
        lo, hi = bounds[name]
        low[sl] = torch.as_tensor(lo, dtype=torch.float32)
        high[sl] = torch.as_tensor(hi, dtype=torch.float32)
    if (low > high).any():
        raise ValueError("observation bounds: a low bound exceeds its high bound")
    return low, high


def economy_bounds(world) -> tuple[Tensor, Tensor]:
    """Bounds of the gather-trade-build economy's observation (:class:`EconomyWorld`).

    Derived from the rules per step, over an episode of L steps: an agent earns at most a
    house's pay plus every open ask of both resources sold at the top price, gathers at most
    2 units and buys at most ``max_orders`` per resource, and its labour per step is at most
    the dearest act plus one order per resource. Map channels are indicators (one agent per
    tile), market entries are shares of ``max_price`` or ``max_orders``.
    """
    from mechanisms.base import MoneyBounds

    c = world.config
    length, r = c.episode_length, 2  # wood and stone
    trade = r * c.max_orders * c.max_price
    income = c.build_payment * c.max_skill + trade  # [coin] per agent and step
    money = MoneyBounds(gross=income, income=income, rounds=length, num_agents=c.num_agents)
    transfer = world.pipeline.transfer_bound(money)
    units = length * (2 + c.max_orders) / 10
    act_labour = max(c.move_labour, c.gather_labour, c.build_labour)
    mech_low, mech_high = world.pipeline.observation_bounds(money)
    return layout_bounds(
        world.observer.layout,
        {
            "map": (0.0, 1.0),
            "inventory": (
                [-length * transfer / 100, 0.0, 0.0],
                [length * (income + transfer) / 100, units, units],
            ),
            "labour": (0.0, length * (act_labour + r * c.order_labour) / 1000),
            "skills": (0.0, 1.0),
            "position": (0.0, 1.0),
            "time": (0.0, 1.0),
            "market": (0.0, 1.0),
            "mechanisms": (mech_low, mech_high),
        },
    )
