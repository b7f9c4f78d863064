"""Contributors who answer the rule in force: best, hurdle, logit, crowding-out and linear
responders.

The zoo's conditional cooperators and free riders read contributions only, so no rule moves
them and no planner can be robust to them. These read the rule as well: each round every
seat evaluates its own payoff for each contribution level it could give, under the rules it
sees (the mechanisms' part of its observation, read back with
:meth:`~mechanisms.base.Mechanism.read_observation`) and the others' last contributions, by
running the world's mechanism pipeline once on a batch of [worlds x seats x levels] rounds.
No loop over worlds, seats or levels. Then:

* :class:`BestResponder` gives the payoff-maximising level (myopic best response, the Cournot
  adjustment process; Fudenberg and Levine 1998, *The Theory of Learning in Games*, ch. 2).
  Ties go to the smallest contribution: an indifferent agent keeps its money.
* :class:`HurdleResponder` gives its whole endowment when the private return per coin under
  the rule, ``1 + (payoff(give all) - payoff(give nothing)) / e_i``, reaches its own hurdle,
  else nothing. Contributions rise with the return per coin (Isaac and Walker 1988, "Group
  size effects in public goods provision", QJE 103(1)); hurdles differ between people (a
  warm glow lowers one's hurdle below 1, Andreoni 1990; distrust raises it). A seat's hurdle
  is a fixed quantile of the stated uniform distribution: seat i of N takes quantile
  (i + 0.5) / N, so a group spans the distribution and a run is reproducible.
* :class:`QuantalResponder` draws its level with logit probabilities
  ``exp(payoff / (temperature * e_i))`` (quantal response, McKelvey and Palfrey 1995; applied
  to public goods by Anderson, Goeree and Holt 1998, J. Public Econ. 70(2)): payoff
  differences matter in proportion to the endowment, and the temperature sets the noise.
* :class:`CrowdingResponder` is an intrinsically motivated contributor whose giving a rule's
  incentive crowds out: it gives ``intrinsic`` of its endowment while the rule adds at most
  ``tolerance`` to the private return per coin (over the game's own ``r / N``), and
  ``degree`` less of its endowment for every unit of incentive beyond that (Frey and
  Oberholzer-Gee 1997, "The cost of price incentives: an empirical analysis of motivation
  crowding-out", AER 87(4); Gneezy and Rustichini 2000, "A fine is a price", J. Legal Stud.
  29(1); Fehr and Rockenbach 2003, "Detrimental effects of sanctions on human altruism",
  Nature 422). It does not weigh what defiance costs it: the strong form of the evidence,
  where people give less under a sanction that would pay them to give more.
* :class:`LinearResponder` gives ``base`` of its endowment when the rule adds nothing to the
  game's own return per coin ``r / N``, and ``slope`` more for every unit the rule adds:
  ``clip(base + slope * (R - r / N), 0, 1)`` with ``R`` the private return per coin above.
  People give part of their endowment at an MPCR below 1, where the other responders give
  nothing (Isaac, Walker and Thomas 1984, "Divergent evidence on free riding", Public Choice
  43(2); Ledyard 1995, "Public goods: a survey of experimental research", Handbook of
  Experimental Economics), and give more when the return per coin rises (Isaac, Walker and
  Thomas 1984: MPCR 0.3 against 0.75; Zelmer 2003, "Linear public goods experiments: a
  meta-analysis", Experimental Economics 6(3)).

In the first round nobody has contributed yet; each believes the others give ``prior`` of
their endowments. They play the public-goods world only, where a round's payoff is
``e_i - c_i + (r / N) sum_j c_j`` before the mechanisms. A rule they cannot see (a mechanism
with ``observed = false``) is taken as configured.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from coopsim.agents.policy import ScriptedPolicy
from coopsim.schema import param
from mechanisms.base import Pipeline, RoundContext

#: Payoff differences below this share of the endowment count as ties.
TIE = 1e-5


def _prior_param() -> float:
    """The ``prior`` field every responder's parameters end with: what the others are believed
    to give before anyone has (one definition, so the form and the errors read alike)."""
    return param(
        0.5, help="Share of their endowments the others are believed to give in round 1", ge=0, le=1
    )


@dataclass
class BestResponderParams:
    prior: float = _prior_param()


@dataclass
class HurdleParams:
    low: float = param(
        0.8, help="Lowest hurdle (private return per coin needed to contribute)", ge=0, le=10
    )
    high: float = param(
        1.2,
        help="Highest hurdle; seats' hurdles are spread evenly between low and high",
        ge=0,
        le=10,
    )
    prior: float = _prior_param()

    def validate(self) -> None:
        if self.low > self.high:
            raise ValueError(f"low ({self.low:g}) is above high ({self.high:g})")


@dataclass
class QuantalParams:
    temperature: float = param(
        0.1,
        help="Logit noise, in shares of the endowment: a payoff gap of this much makes the "
        "better level e times as likely",
        gt=0,
        le=100,
    )
    prior: float = _prior_param()


class RuleResponder(ScriptedPolicy):
    """Base: the payoff of every contribution level of every seat under the rule it sees."""

    worlds = ("public_goods",)

    @classmethod
    def refusal(cls, world: str, mechanisms: list[str]) -> str | None:
        if "peer_punishment" in mechanisms:
            return f"{cls.name!r} does not punish: it cannot play beside peer_punishment"
        return super().refusal(world, mechanisms)

    def __init__(self, spec, params=None):
        super().__init__(spec, params)
        self.world_config = None  # set by bind: the public-goods world's config
        self.pipeline: Pipeline | None = None
        self.seats: list[int] = list(range(spec.num_agents))
        self._private: dict[int, Pipeline] = {}  # batch size -> its own pipeline

    def bind(self, world, seats: list[int]) -> None:
        """Learn the world's payoff rule (its config and mechanisms) and which seats it holds."""
        if world.kind != "public_goods":
            raise ValueError(f"{self.name} plays public_goods worlds only, not {world.kind!r}")
        if world.pipeline.needs_sanction_stage:
            raise ValueError(
                f"{self.name!r} does not punish: it cannot play beside peer_punishment"
            )
        self.world_config = world.config
        self.pipeline = world.pipeline
        self.seats = list(seats)
        self._private = {}

    def _pipeline(self, batch: int, device: torch.device) -> Pipeline:
        """A copy of the world's mechanisms sized for ``batch`` evaluation rounds."""
        if batch not in self._private:
            assert self.pipeline is not None
            if len(self._private) >= 8:  # a mixture's worlds per member vary by episode
                self._private.clear()
            mechs = [type(m)(m.params, m.num_agents, batch, device) for m in self.pipeline]
            self._private[batch] = Pipeline(mechs)
        return self._private[batch]

    def payoffs(self, obs: Tensor) -> tuple[Tensor, Tensor]:
        """obs [W, n, O] -> (payoff [W, n, K] of each level for each of its seats this round,
        the others' contributions held at last round's; each seat's endowment [n])."""
        if self.world_config is None:
            raise ValueError(
                f"{self.name} answers the rules of a world and was never shown one (bind)"
            )
        c, dev = self.world_config, obs.device
        w, n, _ = obs.shape
        big_n, k = c.num_agents, self.levels
        endow = torch.tensor(
            c.endowments or [c.endowment] * big_n, dtype=torch.float32, device=dev
        )  # [N]
        seats = torch.tensor(self.seats, device=dev)  # [n] absolute seat of each column
        # last contributions, egocentric (own first) -> absolute order, as currency
        ego = self.field(obs, "last_contributions")  # [W, n, N] shares of each one's e
        first = self.field(obs, "first_round")[:, 0] > 0  # [W]
        j = torch.arange(big_n, device=dev)
        back = (j[None, :] - seats[:, None]) % big_n  # [n, N]: absolute j sits at ego (j - i)
        shares = torch.gather(ego, 2, back[None].expand(w, -1, -1))  # [W, n, N]
        shares = torch.where(
            first[:, None, None], torch.full_like(shares, self.params.prior), shares
        )
        others = shares * endow  # [W, n, N] currency
        # candidate rounds: [W, n, K, N], seat i's own entry replaced by level k
        level = torch.arange(k, device=dev, dtype=torch.float32) / (k - 1)  # [K]
        own = level[None, :] * endow[seats][:, None]  # [n, K]
        contrib = others[:, :, None, :].expand(w, n, k, big_n).clone()
        onehot = torch.nn.functional.one_hot(seats, big_n).bool()  # [n, N]
        contrib = torch.where(
            onehot[None, :, None, :], own[None, :, :, None].expand(w, n, k, big_n), contrib
        )
        flat = contrib.reshape(-1, big_n)  # [W n K, N]
        gross = endow - flat + flat.sum(-1, keepdim=True) * (c.multiplier / big_n)
        pipeline = self._pipeline(flat.shape[0], dev)
        if len(pipeline):
            seen = obs[..., self.spec.obs_fields["mechanisms"]]  # [W, n, m] the rules seen
            start = 0
            for mech in pipeline:
                if mech.obs_dim:
                    part = seen[..., start : start + mech.obs_dim]  # [W, n, d]
                    mech.read_observation(
                        part[:, :, None, :].expand(w, n, k, -1).reshape(-1, part.shape[-1])
                    )
                    start += mech.obs_dim
            pipeline.reset()
            ctx = RoundContext(
                gross=gross,
                income=gross,
                round=0,
                rounds=c.rounds,
                contributions=flat,
                endowment=endow if c.endowments else float(c.endowment),
                multiplier=c.multiplier,
            )
            pipeline.apply(ctx)
            net = ctx.net
        else:
            net = gross
        mine = net.reshape(w, n, k, big_n)  # [W, n, K, N]
        index = seats[None, :, None, None].expand(w, n, k, 1)
        return torch.gather(mine, 3, index).squeeze(-1), endow[seats]

    def incentive(self, obs: Tensor) -> Tensor:
        """[W, n] what the rule seen adds to each seat's private return per coin: the private
        return ``1 + (payoff(give all) - payoff(give nothing)) / e_i`` less the game's own
        ``r / N``, so 0 where no mechanism moves a contributor's payoff."""
        pay, endow = self.payoffs(obs)  # [W, n, K]
        assert self.world_config is not None
        own = self.world_config.multiplier / self.world_config.num_agents
        return (pay[..., -1] - pay[..., 0]) / endow + 1.0 - own


class BestResponder(RuleResponder):
    name = "best_responder"
    Params = BestResponderParams
    summary = "Gives what pays it most this round under the rule it sees (myopic best response)."

    def share(self, obs, gen):
        pay, endow = self.payoffs(obs)  # [W, n, K]
        best = pay.max(-1, keepdim=True).values
        tie = TIE * endow[None, :, None]
        level = (pay >= best - tie).float().argmax(-1)  # the first, smallest, of the best
        return level.float() / (self.levels - 1)


class HurdleResponder(RuleResponder):
    name = "hurdle_responder"
    Params = HurdleParams
    summary = (
        "Gives everything when the rule's return per coin reaches its own hurdle, else nothing."
    )

    def hurdles(self, device: torch.device) -> Tensor:
        """[n] each held seat's hurdle: quantile (i + 0.5) / N of uniform(low, high)."""
        p, big_n = self.params, self.spec.num_agents
        q = (torch.tensor(self.seats, dtype=torch.float32, device=device) + 0.5) / big_n
        return p.low + (p.high - p.low) * q

    def share(self, obs, gen):
        pay, endow = self.payoffs(obs)  # [W, n, K]
        per_coin = 1.0 + (pay[..., -1] - pay[..., 0]) / endow  # [W, n]
        tie = TIE
        return (per_coin >= self.hurdles(obs.device) - tie).float()


class QuantalResponder(RuleResponder):
    name = "quantal_responder"
    Params = QuantalParams
    summary = "Picks a level with logit probabilities in its payoff under the rule it sees."

    def share(self, obs, gen):
        pay, endow = self.payoffs(obs)  # [W, n, K]
        logits = pay / (self.params.temperature * endow[None, :, None])
        probs = torch.softmax(logits, -1)
        w, n, k = probs.shape
        level = torch.multinomial(probs.reshape(-1, k), 1, generator=gen).reshape(w, n)
        return level.float() / (self.levels - 1)


@dataclass
class CrowdingParams:
    intrinsic: float = param(
        1.0,
        help="Share of its endowment it gives while the rule's incentive is tolerated",
        ge=0,
        le=1,
    )
    tolerance: float = param(
        0.5,
        help="Incentive per coin the rule may add (private return per coin under the rule, "
        "less the game's own r / N) before its motivation erodes",
        ge=0,
        le=10,
    )
    degree: float = param(
        1.0,
        help="Share of its endowment it gives less for each unit of incentive per coin beyond "
        "the tolerance (0: no crowding-out)",
        ge=0,
        le=100,
    )
    prior: float = _prior_param()


class CrowdingResponder(RuleResponder):
    """Intrinsically motivated contributor whose giving a strong incentive crowds out.

    Why a population of these: every other responder wants *more* of a rule (a higher fine
    never makes them give less), so a designer who met only them sets the largest fine at no
    cost. People do not all answer that way. Parents fined for collecting their children
    late came late more often (Gneezy and Rustichini 2000: the late arrivals about doubled and
    stayed up after the fine was removed); offering compensation halved the acceptance of a
    nuclear-waste site (Frey and Oberholzer-Gee 1997: 50.8% to 24.6%); trustees returned less
    to investors who imposed a fine (Fehr and Rockenbach 2003).

    Assumed (no study gives these numbers in coins per coin): the rule's incentive is
    ``a = 1 + (payoff(give all) - payoff(give nothing)) / e_i - r / N``, what the rule adds to
    the private return per coin (for a fine f on shortfalls below a threshold t with fines
    rebated equally to N seats, ``a = f t (1 - 1/N)``; for a match m, ``a = m r / N``); the
    share given is ``clip(intrinsic - degree * max(0, a - tolerance), 0, 1)``, linear in the
    excess incentive, the same for every seat."""

    name = "crowding_responder"
    Params = CrowdingParams
    summary = (
        "Gives its intrinsic share until the rule's incentive passes its tolerance, less beyond "
        "(motivation crowding-out)."
    )

    def share(self, obs, gen):
        p = self.params
        excess = (self.incentive(obs) - p.tolerance).clamp(min=0)
        return (p.intrinsic - p.degree * excess).clamp(0.0, 1.0)


@dataclass
class LinearParams:
    base: float = param(
        0.5,
        help="Share of its endowment it gives when the rule adds nothing to the game's own "
        "return per coin r / N",
        ge=0,
        le=1,
    )
    slope: float = param(
        0.5,
        help="Share of its endowment it gives more for each unit the rule adds to the private "
        "return per coin (negative: less)",
        ge=-100,
        le=100,
    )
    prior: float = _prior_param()


class LinearResponder(RuleResponder):
    """A contributor who gives part of its endowment at any return and more at a higher one.

    Why a population of these: every other rule responder gives nothing at the game's own
    return per coin r / N below 1 (a best responder, a hurdle above r / N) or gives the same
    whatever the rule until it is pushed (crowding-out). So in a world under a rule that adds
    nothing (Democratic AI's strict egalitarian baseline pays every coin back as r / N) they
    keep their endowments, and any rule that gets them to give beats that baseline for every
    seat. People do not keep everything at an MPCR below 1: they give part of it, less with
    repetition (Fischbacher and Gaechter 2010, AER 100(1)), and more when the return per coin
    is higher (Isaac, Walker and Thomas 1984; Ledyard 1995; Zelmer 2003's meta-analysis of 27 studies finds the MPCR's effect on
    contributions positive and significant). A one-shot study found no response to doubling
    the MPCR from 0.4 to 0.8 in a single decision (2,232 participants; PMC11474087, 2024), so
    the slope is the weaker part.

    Assumed (no study gives them in these units): the linear form, one base and one slope for
    every seat, whatever its endowment, and that ``R`` is the private return the rule seen
    gives this round against the others' last contributions, as for the other responders.
    It gives ``clip(base + slope * (R - r / N), 0, 1)`` of its endowment, rounded to the
    world's nearest level (:meth:`ScriptedPolicy.act`)."""

    name = "linear_responder"
    Params = LinearParams
    summary = (
        "Gives a base share at the game's own return per coin and a slope more for every unit "
        "the rule adds (giving that rises with the return)."
    )

    def share(self, obs, gen):
        p = self.params
        return (p.base + p.slope * self.incentive(obs)).clamp(0.0, 1.0)


RESPONDERS = (
    BestResponder,
    HurdleResponder,
    QuantalResponder,
    CrowdingResponder,
    LinearResponder,
)
