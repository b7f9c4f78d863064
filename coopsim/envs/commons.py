"""The commons: a spatial common-pool resource (Perolat et al. 2017; Melting Pot's
``commons_harvest``), batched on tensors.

B worlds of N agents live on a walled grid with patches of apples (maps in
:mod:`coopsim.envs.commons_maps`). An apple is worth 1 to whoever takes it; a taken apple's
tile regrows one only if apples still stand near it, so a patch harvested bare is gone for
good. That is the tragedy: each apple is worth taking now, and the patch is worth keeping.

**Acts** (head ``act``, 8 choices, as Melting Pot's action set): 0 no-op; 1 forward; 2 backward;
3 step left; 4 step right (moves relative to the agent's heading); 5 turn left; 6 turn right;
7 fire the tagging beam.

- *Moving* into a wall, or into a tile another agent stood on at the start of the step, fails;
  when several agents move into the same free tile the first in this step's priority order
  wins (agent i has rank ``(i - t) mod N`` at step t, so no seat is favoured).
- *Harvesting* is stepping on an apple: an agent that ends its move on a tile holding an apple
  takes it (reward 1), unless a quota in the pipeline says it has no allowance left, in which
  case the apple stays where it is.
- *The beam* reaches ``beam_length`` tiles ahead, ``2 beam_radius + 1`` tiles wide, each lane
  stopped by the first wall in it (Melting Pot's zapper). Every agent in it is tagged out:
  off the map for the next ``tag_duration`` steps, unable to act, harvest, be seen or be hit;
  then it returns to the tile it was hit on (a step later if another agent stands there).
  Firing needs ``fire_cooldown`` steps since the agent last fired. Tagging costs nobody
  anything directly: the victim loses the apples it would have taken, the tagger gains room.
- *Regrowth*, at the end of each step: every empty apple tile with no agent on it regrows
  with probability ``regrowth_probabilities[k]``, k the number of apples standing within
  Euclidean distance ``regrowth_radius`` of it (the last entry for k beyond the list). The
  default, ``[0, 0.0025, 0.005, 0.025]`` within radius 2, is Melting Pot's
  ``commons_harvest`` (``REGROWTH_PROBABILITIES``, ``APPLE_RESPAWN_RADIUS``; the
  ``DensityRegrow`` component), which follows Perolat et al.: no apples near, no regrowth.
  (The sequential-social-dilemma games of Hughes et al. 2018 use ``[0, 0.01, 0.05, 0.1]``.)

**Order within a step:** tagged-out agents whose time is up return; present agents turn and
move; agents on apples harvest; beams fire (from where agents now stand); apples regrow. One
step is one round for the mechanism pipeline: ``gross`` (and taxable ``income``) is the
apples each agent took, and the reward is ``net``, what it keeps after the mechanisms.

**Observations** are egocentric and rotated with the heading: a ``2 view_radius + 1`` square
window centred on the agent, its heading pointing up, with channels ``wall``, ``apple``,
``agent`` (itself included, at the centre); plus whether it may fire, whether it is tagged
out (then the window is blank), episode progress and the mechanisms' fields.

Every step is tensor operations over [B, N, ...] (and [B, S] over the S apple tiles), with no
Python loop: what depends only on the walls (where a move or a beam from each tile lands) is
tabled once per world.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from coopsim.envs.base import DrawableState, Step, World, WorldSpec
from coopsim.envs.buffers import Recycler
from coopsim.envs.commons_maps import DEFAULT_MAP, CommonsMap, parse_map
from coopsim.envs.observation import ObsLayout, layout_bounds
from coopsim.envs.render import commons_image
from coopsim.schema import param
from mechanisms.base import MoneyBounds, Pipeline, RoundContext
from mechanisms.extraction import ExtractionRule

ACTS = ("noop", "forward", "backward", "step_left", "step_right", "turn_left", "turn_right", "fire")
NOOP, FORWARD, BACKWARD, STEP_LEFT, STEP_RIGHT, TURN_LEFT, TURN_RIGHT, FIRE = range(8)
MAP_CHANNELS = ("wall", "apple", "agent")
# Headings 0..3 are north, east, south, west, as (row, column) steps.
_HEADINGS = torch.tensor([[-1, 0], [0, 1], [1, 0], [0, -1]])
# A move act turns the heading by this many quarter turns clockwise before stepping.
_MOVE_TURN = {FORWARD: 0, STEP_RIGHT: 1, BACKWARD: 2, STEP_LEFT: 3}
_WALL_BIT, _APPLE_BIT, _AGENT_BIT = 1, 2, 4  # bit k is channel k of MAP_CHANNELS


@dataclass
class CommonsConfig:
    kind: str = param("commons", help="World type", choices=("commons",))
    num_agents: int = param(5, help="Number of agents N", ge=1, le=64)
    map_text: str | None = param(
        None,
        help="Map as text (W wall, A apple, P spawn point, '.' open); the built-in map of five "
        "13-apple patches and ten spawn points when not given",
    )
    episode_length: int = param(1000, help="Steps per episode", ge=1, le=100_000)
    view_radius: int = param(
        5, help="Egocentric window radius r (the window is 2r+1 square)", ge=1, le=16
    )
    regrowth_radius: float = param(
        2.0, help="Apples within this Euclidean distance make an empty tile regrow", ge=0, le=8
    )
    regrowth_probabilities: list[float] = param(
        default_factory=lambda: [0.0, 0.0025, 0.005, 0.025],
        help="Regrowth chance per step with 0, 1, 2, ... apples near (the last entry for "
        "more); Melting Pot's commons_harvest by default",
        ge=0,
        le=1,
    )
    tagging: bool = param(True, help="Agents may fire the tagging beam")
    beam_length: int = param(3, help="Tiles the tagging beam reaches ahead", ge=1, le=16)
    beam_radius: int = param(
        1, help="Lanes on each side of the beam's centre (width 2 x radius + 1)", ge=0, le=4
    )
    tag_duration: int = param(
        25,
        help="Steps a tagged agent is out of the game",
        ge=1,
        le=100_000,  # the longest episode; the step counter it is added to stays small
    )
    fire_cooldown: int = param(
        10, help="Steps after firing before an agent may fire again", ge=1, le=10_000
    )

    def validate(self) -> None:
        if not self.regrowth_probabilities:
            raise ValueError("regrowth_probabilities needs at least one entry")
        grid = self.parsed_map()
        spawns = int(grid.spawns.sum())
        if spawns < self.num_agents:
            raise ValueError(
                f"the map has {spawns} spawn points (P), fewer than num_agents ({self.num_agents})"
            )

    def parsed_map(self) -> CommonsMap:
        return parse_map(self.map_text or DEFAULT_MAP, source="map_text")


class CommonsWorld(World):
    """The commons; see the module docstring for the rules."""

    kind = "commons"
    summary = "a common-pool resource: apples that regrow only near other apples"
    info_keys = ("gross", "net", "harvest", "tagged", "fired", "hits", "stock")

    def __init__(
        self,
        config: CommonsConfig,
        pipeline: Pipeline | None = None,
        batch_size: int = 1,
        device: str | torch.device = "cpu",
    ):
        self.config = c = config
        self.pipeline = pipeline or Pipeline([])
        if self.pipeline.needs_sanction_stage:
            raise ValueError("the commons has no sanction stage; its own beam tags agents out")
        self.rules = [m for m in self.pipeline if isinstance(m, ExtractionRule)]
        self.batch_size = batch_size
        self.device = dev = torch.device(device)
        n = c.num_agents
        grid = c.parsed_map()
        self.height, self.width = grid.shape
        self.pad = max(c.view_radius, c.beam_length, c.beam_radius)
        self.hp, self.wp = self.height + 2 * self.pad, self.width + 2 * self.pad
        tiles = self.hp * self.wp

        def flat(mask: Tensor) -> Tensor:  # [H, W] bool -> [K] flat padded indices
            yx = mask.nonzero()
            return ((yx[:, 0] + self.pad) * self.wp + yx[:, 1] + self.pad).to(dev)

        walls = torch.ones(self.hp, self.wp, dtype=torch.bool)
        p = self.pad
        walls[p : p + self.height, p : p + self.width] = grid.walls
        self.walls = walls.reshape(-1).to(dev)  # [Hp*Wp] bool, static
        self.apple_tiles = flat(grid.apples)  # [S] where apples can grow
        self.spawn_tiles = flat(grid.spawns)  # [K]
        s = self.apple_tiles.numel()
        self.num_apple_tiles = s
        # Tile -> apple tile index, S for tiles where no apple grows (a dump slot).
        self.tile_apple = torch.full((tiles,), s, dtype=torch.long, device=dev)  # [Hp*Wp]
        self.tile_apple[self.apple_tiles] = torch.arange(s, device=dev)
        self.neighbours = self._neighbour_matrix(grid)  # [S, S] float, within the radius
        self.probabilities = torch.tensor(c.regrowth_probabilities, device=dev)  # [P]

        side = 2 * c.view_radius + 1
        self.view = side
        self.layout = ObsLayout(
            [
                ("map", len(MAP_CHANNELS) * side * side),
                ("ready", 1),  # 1 when the agent may fire
                ("tagged_out", 1),  # 1 while the agent is out of the game
                ("time", 1),  # episode progress
                ("mechanisms", self.pipeline.obs_dim),
            ]
        )
        self.spec = WorldSpec(
            num_agents=n,
            obs_dim=self.layout.size,
            action_nvec=(len(ACTS),),
            horizon=c.episode_length,
            obs_fields=self.layout.slices,
            head_names=("act",),
            map_shape=(len(MAP_CHANNELS), side, side),
        )
        self._build_tables()
        # Observations ([B, N, ~370] floats: megabytes from B = 1,024) are written into
        # memory reused once callers drop them (see Recycler), not into fresh pages each step.
        self._recycler = Recycler(dev)
        # Scratch of the windows, rebuilt every step (see _windows_now): kept, not reallocated
        cells = side * side
        self._cells = torch.empty(batch_size * n, cells, dtype=torch.long, device=dev)
        self._window_codes = torch.empty(batch_size, n * cells, dtype=torch.uint8, device=dev)
        self._bits = torch.empty(
            batch_size, n, len(MAP_CHANNELS), cells, dtype=torch.uint8, device=dev
        )
        self._t = 0
        self.reset(seed=0)

    def _build_tables(self) -> None:
        """Precompute everything about the static map that a step would otherwise recompute.

        Why: at small B a step's cost is the number of kernels it launches, at large B the
        memory its temporaries walk. Walls never change, so where a move or a beam lands from
        each (tile, heading) is a table lookup (a beam's reach past walls included), and every
        window is one gather from a map of one byte per tile whose bits are the channels.
        """
        c, dev, n = self.config, self.device, self.config.num_agents
        tiles, wp = self.hp * self.wp, self.wp
        dump = tiles  # a tile index no agent stands on: beams past a wall end there
        headings = _HEADINGS  # [4, 2] (row, column) steps
        forward = headings[:, 0] * wp + headings[:, 1]  # [4] flat step per heading
        right = forward.roll(-1)  # [4] the heading a quarter turn clockwise
        walls = self.walls.cpu()

        # Moves: key (tile * 4 + heading) * 8 + act -> the target tile; a wall or a non-move
        # act targets the agent's own tile (it does not move).
        move = torch.zeros(4, len(ACTS), dtype=torch.long)
        for act, turn in _MOVE_TURN.items():
            move[:, act] = forward.roll(-turn)
        target = torch.arange(tiles)[:, None, None] + move[None]  # [T, 4, 8]
        inside = (target >= 0) & (target < tiles)
        blocked = ~inside | walls[target.clamp(0, tiles - 1)]
        target = torch.where(blocked, torch.arange(tiles)[:, None, None], target)
        self._move_table = target.reshape(-1).to(dev)  # [T * 32]
        turn = torch.zeros(len(ACTS), dtype=torch.long)
        turn[TURN_RIGHT], turn[TURN_LEFT] = 1, -1
        self._turn_table = ((torch.arange(4)[:, None] + turn) % 4).reshape(-1).to(dev)  # [32]

        # Beams: key tile * 4 + heading -> [L * lanes] tiles hit, each lane stopped by its
        # first wall (the cells from there on are the dump tile, where nobody stands).
        d = torch.arange(1, c.beam_length + 1)
        j = torch.arange(-c.beam_radius, c.beam_radius + 1)
        offset = d[None, :, None] * forward[:, None, None] + j[None, None] * right[:, None, None]
        cells = torch.arange(tiles)[:, None, None, None] + offset[None]  # [T, 4, L, lanes]
        inside = (cells >= 0) & (cells < tiles)
        stop = ~inside | walls[cells.clamp(0, tiles - 1)]
        reach = stop.long().cumsum(2) == 0
        self._beam_table = torch.where(reach, cells, dump).reshape(tiles * 4, -1).to(dev)

        # Windows: cell (u, v) of an agent's window (u = -r at the top, ahead) is the tile
        # pos - u forward + v right: one row of offsets per heading, and a fifth row of zeros
        # that, added to the dump tile, gives the blank window of an agent out of the game.
        side, r = self.view, c.view_radius
        w = torch.arange(side) - r
        u, v = w[:, None].expand(side, side).reshape(-1), w[None, :].expand(side, side).reshape(-1)
        window = -u[None] * forward[:, None] + v[None] * right[:, None]  # [4, side^2]
        self._window = torch.cat([window, window.new_zeros(1, side * side)]).to(dev)  # [5, .]
        # Every tile's code: bit 0 wall, bit 1 apple, bit 2 agent; the dump tile is 0.
        template = torch.zeros(tiles + 1, dtype=torch.uint8)
        template[:tiles] = walls.to(torch.uint8) * _WALL_BIT
        self._code_template = template.to(dev)
        # Channel k of MAP_CHANNELS is bit k: shifted down by k, then masked to 0 or 1.
        self._code_shifts = torch.tensor([0, 1, 2], dtype=torch.uint8, device=dev)[:, None]
        # Priority: at step t agent i has rank (i - t) mod N; beats[t mod N][i, j] is True
        # when j moves before i.
        ranks = (torch.arange(n)[None] - torch.arange(n)[:, None]) % n  # [t, i]
        self._beats = (ranks[:, None, :] < ranks[:, :, None]).to(dev)  # [N, N(i), N(j)]
        # Regrowth chance for 0..S neighbours (the last entry beyond the list).
        s = self.num_apple_tiles
        count = torch.arange(s + 1).clamp(max=len(c.regrowth_probabilities) - 1)
        self._chance_table = self.probabilities[count.to(dev)]  # [S + 1]

    def _neighbour_matrix(self, grid: CommonsMap) -> Tensor:
        """[S, S] 1 where apple tiles k != l lie within ``regrowth_radius`` of each other."""
        yx = grid.apples.nonzero().float()  # [S, 2]
        dist2 = (yx[:, None, :] - yx[None, :, :]).pow(2).sum(-1)  # [S, S]
        near = dist2 <= self.config.regrowth_radius**2 + 1e-9
        near.fill_diagonal_(False)
        return near.float().to(self.device)

    # -- state ----------------------------------------------------------------------------
    def reset(self, seed: int | None = None) -> Tensor:
        b, n, dev = self.batch_size, self.config.num_agents, self.device
        self.gen = self.make_generator(seed)
        self._t = 0
        # [B, S + 1]: apples standing, and a last column always False that absorbs lookups
        # for tiles where no apple grows; ``apples`` is its [B, S] view.
        s = self.num_apple_tiles
        self._apple_slots = torch.ones(b, s + 1, dtype=torch.bool, device=dev)
        self._apple_slots[:, s] = False
        self._grow = torch.zeros(b, s + 1, dtype=torch.bool, device=dev)  # regrowth scratch
        self._codes = torch.empty(b, self.hp * self.wp + 1, dtype=torch.uint8, device=dev)
        self._apple_tiles_b = self.apple_tiles.expand(b, -1)  # [B, S] scatter index
        noise = torch.rand(b, self.spawn_tiles.numel(), generator=self.gen, device=dev)
        self.pos = self.spawn_tiles[noise.topk(n, dim=-1).indices]  # [B, N] flat padded tile
        self.heading = torch.randint(4, (b, n), generator=self.gen, device=dev)  # [B, N]
        self.out = torch.zeros(b, n, dtype=torch.long, device=dev)  # [B, N] steps left out
        self.cooldown = torch.zeros(b, n, dtype=torch.long, device=dev)  # [B, N] until ready
        self.pipeline.reset()
        return self._observe()

    _WORLD_STATE = ("apples", "pos", "heading", "out", "cooldown")

    def replicate(self, source: Tensor) -> Tensor:
        source = source.to(self.device)
        if source.shape != (self.batch_size,):
            raise ValueError(f"replicate needs one source world per world, [{self.batch_size}]")
        for name in self._WORLD_STATE:
            setattr(self, name, getattr(self, name)[source].clone())
        self.pipeline.replicate(source)
        return self._observe()

    @property
    def apples(self) -> Tensor:
        """[B, S] bool: which apple tiles hold an apple now."""
        return self._apple_slots[:, : self.num_apple_tiles]

    @apples.setter
    def apples(self, value: Tensor) -> None:
        self._apple_slots[:, : self.num_apple_tiles] = value

    def stock(self) -> Tensor:
        """[B] apples standing now."""
        return self.apples.sum(-1)

    def action_mask(self) -> Tensor:
        """[B, N, 8] bool: no-op always; moves except into walls; turns; firing when ready.

        A tagged-out agent can do nothing, so only its no-op is allowed.
        """
        b, n = self.batch_size, self.config.num_agents
        present = (self.out == 0)[..., None]  # [B, N, 1]
        key = (self.pos * 4 + self.heading)[..., None] * 8 + torch.arange(8, device=self.device)
        open_ = self._move_table[key] != self.pos[..., None]  # [B, N, 8] a blocked move stays
        ready = (self.cooldown == 0) & self.config.tagging  # [B, N]
        mask = torch.cat(
            [
                torch.ones(b, n, 1, dtype=torch.bool, device=self.device),
                open_[..., FORWARD : STEP_RIGHT + 1],
                torch.ones(b, n, 2, dtype=torch.bool, device=self.device),
                ready[..., None],
            ],
            -1,
        )
        return torch.where(present, mask, torch.arange(len(ACTS), device=self.device) == NOOP)

    # -- dynamics -------------------------------------------------------------------------
    def step(self, actions: Tensor) -> Step:
        c, b, n = self.config, self.batch_size, self.config.num_agents
        t = self._t
        beats = self._beats[t % n]  # [N, N] j moves before i
        for rule in self.rules:
            rule.observe_stock(self.stock() / self.num_apple_tiles)
        self._return_tagged(beats)
        present = self.out == 0  # [B, N]
        act = actions.to(self.device)[..., 0].long() * present  # [B, N] NOOP when out

        # Turns, then moves: blocked by walls (in the table) and by tiles held at the start of
        # the step; several agents moving into one free tile: the first in priority order.
        pos = self.pos
        target = self._move_table[(pos * 4 + self.heading).mul_(8).add_(act)]  # [B, N]
        self.heading = self._turn_table[self.heading * 8 + act]
        held = ((target[:, :, None] == pos[:, None, :]) & present[:, None, :]).any(-1)
        ok = (target != pos) & ~held
        same = (target[:, :, None] == target[:, None, :]) & (ok[:, None, :] & beats)
        self.pos = torch.where(ok & ~same.any(-1), target, pos)

        harvest = self._harvest(present)  # [B, N] float, apples taken
        fired, hits, tagged = self._fire(act, present)
        self._regrow(present & ~tagged)

        ctx = RoundContext(gross=harvest, income=harvest, round=t, rounds=c.episode_length)
        flows = self.pipeline.apply(ctx)
        info = {
            "gross": harvest,
            **{f"transfer_{label}": flow.transfer for label, flow in flows.items()},
            "net": ctx.net,
            "harvest": harvest,  # apples taken this step
            "tagged": (~present).float(),  # 1 where the agent was out of the game this step
            "fired": fired.float(),
            "hits": hits.float(),  # agents this agent tagged out this step
            "stock": self.stock().float()[:, None].expand(b, n),  # apples standing (per world)
        }
        self._t += 1
        done = torch.full((b,), self._t >= c.episode_length, device=self.device)
        return Step(self._observe(), ctx.net, done, info, round_end=True, flows=flows)

    def _return_tagged(self, beats: Tensor) -> None:
        """Count down tagged-out agents; those whose time is up return to their tile if it is
        free (the first in priority order when several return to the same tile).

        ``beats`` [N, N]: j returns before i."""
        out = self.out
        due = out == 1  # [B, N]
        present = out == 0
        rival = present[:, None, :] | (due[:, None, :] & beats)  # [B, N, N] blocks i's tile
        stay = due & ((self.pos[:, :, None] == self.pos[:, None, :]) & rival).any(-1)
        self.out = out - ((out > 0) & ~stay).long()

    def _harvest(self, present: Tensor) -> Tensor:
        """Agents standing on apples take them, within any quota's allowance; [B, N] float."""
        slot = self.tile_apple[self.pos]  # [B, N], S where no apple grows (never an apple)
        full = self._apple_slots  # [B, S + 1], the last column always False
        take = present & full.gather(1, slot)  # [B, N] distinct tiles, one taker each
        for rule in self.rules:
            allowance = rule.allowance()
            if allowance is not None:
                take = take & (allowance >= 1)
        full.scatter_(1, torch.where(take, slot, self.num_apple_tiles), False)
        return take.float()

    def _fire(self, act: Tensor, present: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Beams of every ready agent that fires; returns who fired and how many each hit
        ([B, N]) and who was tagged out ([B, N] bool)."""
        c = self.config
        fired = (act == FIRE) & (self.cooldown == 0)  # [B, N]; act is NOOP for the absent
        if not c.tagging:
            fired.zero_()
        self.cooldown = torch.where(fired, c.fire_cooldown, (self.cooldown - 1).clamp_(min=0))
        cells = self._beam_table[self.pos * 4 + self.heading]  # [B, N, L * lanes]
        # struck[b, i, j]: j present and standing in a cell of i's beam, i fired.
        inside = (cells[:, :, :, None] == self.pos[:, None, None, :]).any(2)  # [B, N, N]
        struck = inside & (fired[:, :, None] & present[:, None, :])
        tagged = struck.any(1)  # present by construction
        self.out = torch.where(tagged, c.tag_duration + 1, self.out)
        return fired, struck.sum(-1), tagged

    def _regrow(self, present: Tensor) -> None:
        """Empty apple tiles with no agent on them regrow by the number of apples near."""
        s = self.num_apple_tiles
        full = self._apple_slots
        near = torch.mm(full[:, :s].float(), self.neighbours)  # [B, S] apples within radius
        chance = self._chance_table[near.long()]
        draw = torch.rand(chance.shape, generator=self.gen, device=self.device)
        grow = self._grow  # [B, S + 1] scratch, the last column absorbs absent agents
        torch.lt(draw, chance, out=grow[:, :s])
        grow.scatter_(1, torch.where(present, self.tile_apple[self.pos], s), False)
        full |= grow

    def round_metrics(self, info: dict[str, Tensor]) -> dict[str, Tensor]:
        """Apples taken per agent-step, the share of agents tagged out and the stock."""
        return {"harvest": info["harvest"], "tagged": info["tagged"], "stock": info["stock"]}

    # -- observation ----------------------------------------------------------------------
    def egocentric_map(self) -> Tensor:
        """[B, N, C, S*S] window around each agent, rotated so its heading points up
        (channels: MAP_CHANNELS); blank for an agent that is tagged out."""
        return self._windows_now().float()

    def _windows_now(self) -> Tensor:
        """[B, N, C, side^2] uint8 0 or 1: every agent's window, read from one code per tile.

        The result is scratch the next call overwrites: callers copy it (as floats) at once."""
        b, n, tiles = self.batch_size, self.config.num_agents, self.hp * self.wp
        codes = self._codes  # [B, tiles + 1] uint8
        codes.copy_(self._code_template.expand(b, -1))
        apples = self.apples.view(torch.uint8) * _APPLE_BIT  # [B, S]
        codes.scatter_(1, self._apple_tiles_b, apples)
        present = self.out == 0  # [B, N]
        where = torch.where(present, self.pos, tiles)  # present agents share no tile
        mark = codes.gather(1, where) | present.view(torch.uint8) * _AGENT_BIT
        codes.scatter_(1, where, mark)  # absent agents write the dump tile's 0 back
        heading = torch.where(present, self.heading, 4)  # row 4: the blank window
        cells = torch.index_select(self._window, 0, heading.view(-1), out=self._cells)
        cells = cells.view(b, n, -1)
        cells += where[..., None]  # [B, N, side^2]
        window = torch.gather(codes, 1, cells.view(b, -1), out=self._window_codes)
        window = window.view(b, n, 1, -1)
        bits = torch.bitwise_right_shift(window, self._code_shifts, out=self._bits)
        return bits.bitwise_and_(1)  # [B, N, C, side^2]

    def observe(self) -> Tensor:
        """The observation now, without stepping: [B, N, obs_dim]."""
        return self._observe()

    def _observe(self) -> Tensor:
        b, n, sl = self.batch_size, self.config.num_agents, self.layout.slices
        obs = self._recycler.empty((b, n, self.layout.size))
        obs[..., sl["map"]].view(b, n, len(MAP_CHANNELS), -1).copy_(self._windows_now())
        obs[..., sl["ready"].start] = ((self.cooldown == 0) & self.config.tagging).float()
        obs[..., sl["tagged_out"].start] = (self.out > 0).float()
        obs[..., sl["time"].start] = self._t / self.config.episode_length
        if self.pipeline.obs_dim:
            obs[..., sl["mechanisms"]] = self.pipeline.observation(b, n, self.device)
        return obs

    def observation_bounds(self) -> tuple[Tensor, Tensor]:
        """Map channels, flags and episode progress are indicators or shares in [0, 1]; an
        agent takes at most one apple a step, from which the mechanisms bound what they show."""
        c = self.config
        money = MoneyBounds(gross=1.0, income=1.0, rounds=c.episode_length, num_agents=c.num_agents)
        return layout_bounds(
            self.layout,
            {
                **dict.fromkeys(self.layout.slices, (0.0, 1.0)),
                "mechanisms": self.pipeline.observation_bounds(money),
            },
        )

    def render_rgb(self) -> Tensor:
        return commons_image(self)  # world 0's orchard, in coopsim.envs.render

    def drawable_state(self) -> DrawableState:
        """World 0: walls and apples, agents with their heading, who is tagged out."""
        h, w, p = self.height, self.width, self.pad
        walls = self.walls.view(self.hp, self.wp)[p : p + h, p : p + w]
        return DrawableState(
            layers={"wall": walls.cpu(), "apple": self.apple_grid()[0].cpu()},
            positions=self.positions()[0].cpu(),
            present=(self.out[0] == 0).cpu(),
            heading=self.heading[0].cpu(),
        )

    # -- views for people and tests -------------------------------------------------------
    def positions(self) -> Tensor:
        """[B, N, 2] (row, column) of every agent on the unpadded map."""
        return torch.stack([self.pos // self.wp - self.pad, self.pos % self.wp - self.pad], -1)

    def apple_grid(self) -> Tensor:
        """[B, H, W] bool: where apples stand now."""
        b, p = self.batch_size, self.pad
        grid = torch.zeros(b, self.hp * self.wp, dtype=torch.bool, device=self.device)
        grid[:, self.apple_tiles] = self.apples
        return grid.view(b, self.hp, self.wp)[:, p : p + self.height, p : p + self.width]

    def place(self, positions: Tensor, headings: Tensor | None = None) -> Tensor:
        """Put agents on (row, column) tiles ([B, N, 2] or [N, 2]) and optionally headings
        ([B, N] or [N]); returns the observation. For hand-built situations in tests and
        figures; raises if a tile is a wall or two agents share one."""
        yx = positions.to(self.device).long().expand(self.batch_size, -1, -1)
        pos = (yx[..., 0] + self.pad) * self.wp + yx[..., 1] + self.pad
        if bool(self.walls[pos].any()):
            raise ValueError("place: a position is a wall or off the map")
        if bool((pos[:, :, None] == pos[:, None, :]).sum(-1).gt(1).any()):
            raise ValueError("place: two agents on one tile")
        self.pos = pos.clone()
        if headings is not None:
            self.heading = headings.to(self.device).long().expand(self.batch_size, -1).clone()
        return self._observe()

    def set_apples(self, grid: Tensor) -> Tensor:
        """Set which apple tiles hold an apple from a [B, H, W] or [H, W] bool grid (tiles
        where no apple can grow are ignored); returns the observation."""
        b, p = self.batch_size, self.pad
        full = torch.zeros(b, self.hp, self.wp, dtype=torch.bool, device=self.device)
        full[:, p : p + self.height, p : p + self.width] = grid.to(self.device).bool()
        self.apples = full.view(b, -1)[:, self.apple_tiles].clone()
        return self._observe()
