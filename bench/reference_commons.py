"""The batched commons side by side with SocialJax's ``harvest_common_open``, on this machine.

SocialJax (Guo et al. 2025, github.com/cooperativex/SocialJax) writes Melting Pot's commons
harvest in JAX. Both sides here run the *same substrate*: SocialJax's default map (16 x 22,
its apple patches and spawn rows, translated tile for tile into coopsim's map legend), 7
agents, 11 x 11 egocentric windows, Melting Pot's regrowth probabilities (0, 0.0025, 0.005,
0.025 with 0, 1, 2, 3+ apples within radius 2), episodes of 1000 steps, and actions drawn
uniformly at random on the device inside the timed loop. What differs is each side's own
rules for the rest: SocialJax's beam hits 4 tiles (2 ahead, 1 to each side) and coopsim's a
3 x 3 block ahead; SocialJax observes a one-hot map of every agent, coopsim 3 channels.

* **coopsim**: B worlds stepped as torch tensors (median over timed repeats after a warm-up,
  :func:`coopsim.bench.throughput.median_rate`), and the same world as B=1 worlds looped.
* **Per CPU-second**: both sides again, as agent-steps per CPU-second of their process
  (``time.process_time``; coopsim over as many steps as SocialJax's scan, best of
  ``--repeats``). The two sides run one after the other, and on a busy machine a process waits
  for a core at random moments, which wall time counts and CPU time does not, so this ratio is
  the steadier one there.
* **SocialJax**: its own speed test: ``jax.vmap`` of ``env.step`` over B worlds inside a
  ``jax.lax.scan`` of T steps, compiled ahead of time with ``jax.jit(...).lower(key).compile()``
  so **compile time is excluded** (and printed); the timed call ends in
  ``jax.block_until_ready``. The figure is the best of ``--repeats`` calls.

Figures are agent-steps per second (world-steps x B x 7). JAX and SocialJax are not
dependencies of coopsim: they live in a separate environment, and this script runs its
SocialJax half in that environment's interpreter (``--reference-python``)::

    python3 -m venv /tmp/socialjax-venv
    /tmp/socialjax-venv/bin/pip install "jax[cpu]" flax chex
    git clone https://github.com/cooperativex/SocialJax /tmp/SocialJax
    python bench/reference_commons.py --reference-python /tmp/socialjax-venv/bin/python \\
        --socialjax /tmp/SocialJax [--batch 1 64 1024 8192] [--threads 1]

Without them it measures coopsim alone and prints these instructions.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

NUM_AGENTS = 7
OBS_SIZE = 11  # SocialJax's obs_size: coopsim's view_radius 5
EPISODE = 1000
# SocialJax's default map (harvest_open.py, ``map_ASCII``): A apple, P and Q spawn points.
SOCIALJAX_MAP = [
    "AAA    A      A    AAA",
    "AA    AAA    AAA    AA",
    "A    AAAAA  AAAAA    A",
    "      AAA    AAA      ",
    "       A      A       ",
    "  A                A  ",
    " AAA  Q        Q  AAA ",
    "AAAAA            AAAAA",
    " AAA              AAA ",
    "  A                A  ",
    "                      ",
    "                      ",
    "                      ",
    "  PPPPPPPPPPPPPPPPPP  ",
    " PPPPPPPPPPPPPPPPPPPP ",
    "PPPPPPPPPPPPPPPPPPPPPP",
]
INSTALL = """SocialJax is not importable by {python}: {error}
To measure it, install JAX, Flax and chex in a separate environment and fetch SocialJax:
    python3 -m venv /tmp/socialjax-venv
    /tmp/socialjax-venv/bin/pip install "jax[cpu]" flax chex
    git clone https://github.com/cooperativex/SocialJax /tmp/SocialJax
then run this script with
    --reference-python /tmp/socialjax-venv/bin/python --socialjax /tmp/SocialJax"""


def coopsim_map() -> str:
    """SocialJax's map in coopsim's legend (spawn points P and Q become P, spaces open)."""
    table = str.maketrans({"Q": "P", " ": "."})
    return "\n".join(row.translate(table) for row in SOCIALJAX_MAP)


# -- the SocialJax half (runs in the reference interpreter; imports JAX only) ----------------
def socialjax_rates(batch_sizes: list[int], steps: int, repeats: int) -> list[dict]:
    """Agent-steps/s of SocialJax's harvest at each B, compiled ahead, compile time excluded."""
    import jax
    import socialjax

    env = socialjax.make("harvest_common_open", num_agents=NUM_AGENTS, num_inner_steps=EPISODE)
    rows = []
    for b in batch_sizes:
        t = max(10, steps * 64 // max(b, 64))  # fewer steps for big batches, as coopsim's side

        def bench(key, b=b, t=t):
            key, reset_key = jax.random.split(key)
            _, state = jax.vmap(env.reset)(jax.random.split(reset_key, b))

            def one_step(carry, _unused):
                state, key = carry
                key, act_key, step_key = jax.random.split(key, 3)
                keys = jax.random.split(act_key, NUM_AGENTS * b).reshape(NUM_AGENTS, b, -1)
                actions = [
                    jax.vmap(env.action_space(a).sample)(keys[i]) for i, a in enumerate(env.agents)
                ]
                _, state, _, _, _ = jax.vmap(env.step)(
                    jax.random.split(step_key, b), state, actions
                )
                return (state, key), None

            return jax.lax.scan(one_step, (state, key), None, t)

        key = jax.random.PRNGKey(0)
        start = time.perf_counter()
        compiled = jax.jit(bench).lower(key).compile()
        compile_s = time.perf_counter() - start
        jax.block_until_ready(compiled(key))  # first call: allocations
        best, best_cpu = float("inf"), float("inf")
        for r in range(repeats):
            start, start_cpu = time.perf_counter(), time.process_time()
            jax.block_until_ready(compiled(jax.random.PRNGKey(r + 1)))
            best = min(best, time.perf_counter() - start)
            best_cpu = min(best_cpu, time.process_time() - start_cpu)
        work = t * b * NUM_AGENTS
        rows.append(
            {
                "batch": b,
                "steps": t,
                "compile_s": compile_s,
                "rate": work / best,
                "cpu_rate": work / max(best_cpu, 1e-9),
            }
        )
        print(f"socialjax B={b}: {rows[-1]['rate']:,.0f} agent-steps/s", file=sys.stderr)
    return rows


def reference_main(args: argparse.Namespace) -> None:
    """Print one JSON line: the JAX version, its devices and the rows (or the import error)."""
    try:
        import jax
        import socialjax  # noqa: F401
    except ImportError as error:
        print(json.dumps({"error": f"{type(error).__name__}: {error}"}))
        return
    rows = socialjax_rates(args.batch, args.steps, args.repeats)
    devices = [str(d) for d in jax.devices()]
    print(json.dumps({"jax": jax.__version__, "devices": devices, "rows": rows}))


def run_reference(args: argparse.Namespace) -> dict:
    """The SocialJax half in the reference interpreter, on the same number of threads."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [args.socialjax, env.get("PYTHONPATH")]))
    env["JAX_PLATFORMS"] = "cpu"
    if args.threads:  # XLA's CPU backend: one intra-op thread, as torch's side
        env["XLA_FLAGS"] = (
            f"--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads={args.threads}"
        )
    cmd = [args.reference_python, __file__, "--reference-side", "--steps", str(args.steps)]
    cmd += ["--repeats", str(args.repeats), "--batch", *map(str, args.batch)]
    try:
        # Its progress and any traceback go straight to this process's stderr.
        done = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, text=True, check=False)
    except OSError as error:
        return {"error": f"{args.reference_python}: {error}"}
    lines = done.stdout.strip().splitlines()
    if done.returncode or not lines:
        return {"error": f"the reference side exited with {done.returncode} (messages above)"}
    return json.loads(lines[-1])


# -- the coopsim half (runs in the project's environment) ------------------------------------
def coopsim_scenario():
    """The ``commons`` scenario on SocialJax's substrate (map, agents, view, episode)."""
    from coopsim import scenario as sc

    scenario = sc.load("commons")
    w = scenario.world
    w.map_text, w.num_agents, w.view_radius = coopsim_map(), NUM_AGENTS, OBS_SIZE // 2
    w.episode_length = EPISODE
    return scenario


def cpu_rate(scenario, batch: int, steps: int, repeats: int) -> float:
    """Agent-steps per CPU-second of B batched worlds: the best of ``repeats`` runs of as many
    steps as SocialJax's scan at this B, random actions drawn inside the timed loop.

    Why CPU time: the two sides run one after the other, and on a busy machine a process
    waits for a core at random moments, which wall time counts and CPU time does not."""
    import torch

    from coopsim import scenario as sc

    world = sc.make_world(scenario, batch, "cpu")
    world.reset(seed=0)
    gen = torch.Generator().manual_seed(0)
    shape, acts = (batch, NUM_AGENTS, 1), world.spec.action_nvec[0]
    t = max(10, steps * 64 // max(batch, 64))
    best = float("inf")
    with torch.inference_mode():
        for r in range(repeats + 1):  # the first run warms up
            start = time.process_time()
            for _ in range(t):
                world.step(torch.randint(0, acts, shape, generator=gen))
                if world.t >= EPISODE:
                    world.reset()
            if r:
                best = min(best, time.process_time() - start)
    return t * batch * NUM_AGENTS / max(best, 1e-9)


def coopsim_rates(batch_sizes: list[int], quick: bool, steps: int, repeats: int) -> list[dict]:
    """Agent-steps/s of coopsim's commons on SocialJax's map, batched and one at a time, and
    batched per CPU-second."""
    from coopsim import scenario as sc
    from coopsim.bench.commons import LOOP_MAX, looped_rate
    from coopsim.bench.throughput import FULL, QUICK, batched_rate

    timing = QUICK if quick else FULL
    scenario = coopsim_scenario()
    looped = {k: looped_rate(scenario, k, timing) for k in {min(b, LOOP_MAX) for b in batch_sizes}}
    return [
        {
            "batch": b,
            "rate": batched_rate(scenario, b, sc.resolve_device("cpu"), timing),
            "cpu_rate": cpu_rate(scenario, b, steps, repeats),
            "looped": looped[min(b, LOOP_MAX)],
            "looped_worlds": min(b, LOOP_MAX),
        }
        for b in batch_sizes
    ]


def print_table(ours: list[dict], reference: dict) -> None:
    ref = {r["batch"]: r for r in reference.get("rows", [])}
    head = (
        f"{'B':>5}  {'coopsim batched':>16}  {'coopsim one at a time':>22}  "
        f"{'SocialJax (jit)':>16}  {'compile s':>9}  {'coopsim / SocialJax':>20}  "
        f"{'per CPU-s: coopsim':>18}  {'SocialJax':>10}  {'ratio':>6}"
    )
    print(head)
    print("-" * len(head))
    for row in ours:
        b, r = row["batch"], ref.get(row["batch"])
        theirs = f"{r['rate']:>16,.0f}  {r['compile_s']:>9.1f}" if r else f"{'-':>16}  {'-':>9}"
        ratio = f"{row['rate'] / r['rate']:>19,.2f}x" if r else f"{'-':>20}"
        cpu = (
            f"{r['cpu_rate']:>10,.0f}  {row['cpu_rate'] / r['cpu_rate']:>5,.2f}x"
            if r
            else f"{'-':>10}  {'-':>6}"
        )
        looped = f"{row['looped']:,.0f} ({row['looped_worlds']})"
        print(
            f"{b:>5}  {row['rate']:>16,.0f}  {looped:>22}  {theirs}  {ratio}  "
            f"{row['cpu_rate']:>18,.0f}  {cpu}"
        )


def main(args: argparse.Namespace) -> None:
    import torch

    from coopsim.bench.throughput import cpu_name

    if args.threads:
        torch.set_num_threads(args.threads)
    reference = {"error": "no --reference-python given"}
    if args.reference_python:
        reference = run_reference(args)
    print(
        f"substrate  SocialJax harvest_common_open map (16 x 22), N={NUM_AGENTS}, "
        f"{OBS_SIZE} x {OBS_SIZE} views, episodes of {EPISODE}, random actions"
    )
    print(f"cpu        {cpu_name() or 'unknown'} ({os.cpu_count()} CPUs)")
    print(f"torch      {torch.__version__}, {torch.get_num_threads()} threads")
    if "error" in reference:
        print(INSTALL.format(python=args.reference_python or "(none)", error=reference["error"]))
    else:
        print(f"jax        {reference['jax']} on {', '.join(reference['devices'])}")
    print(f"load       {os.getloadavg()[0]:.1f} (1-minute average)")
    print(
        "figures    agent-steps/s; loop column: B=1 worlds looped (how many); per CPU-s: "
        "agent-steps per CPU-second of each side's process (best run), steadier on a busy "
        "machine\n"
    )
    print_table(coopsim_rates(args.batch, args.quick, args.steps, args.repeats), reference)
    print(f"\nload       {os.getloadavg()[0]:.1f} (1-minute average) at the end")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 64, 1024, 8192])
    parser.add_argument("--reference-python", default=None, help="interpreter with JAX")
    parser.add_argument("--socialjax", default=None, help="a SocialJax checkout (on its path)")
    parser.add_argument("--steps", type=int, default=200, help="scanned steps at B <= 64")
    parser.add_argument("--repeats", type=int, default=3, help="timed SocialJax calls")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads each side (0: all)")
    parser.add_argument("--quick", action="store_true", help="shorter coopsim repeats")
    parser.add_argument("--reference-side", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = parse_args()
    if arguments.reference_side:
        reference_main(arguments)
    else:
        main(arguments)
