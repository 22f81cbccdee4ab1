"""Where the wall time of the peer workload goes, for PureJaxRL's DQN and for ours.

    python -m benchmarks.peer_breakdown --purejaxrl PATH [--reps 3]
                                        [--out benchmarks/results/peer_breakdown_<platform>.json]

`benchmarks.peer` times both programs whole; this splits each into the parts a fresh
process pays, each in its own process (no compilation cache):

* imports: the modules a run needs (theirs: jax, gymnax, flax, optax, flashbax and the
  script; ours: the CLI, the training loop, the fused engine and gymnax);
* compilation: theirs, the one jitted program of `make_train`; ours, the fused loop's
  program (`jit(chunk)`) as its first call;
* steady state, microseconds per env iteration (10 envs, one update of batch 128): theirs,
  the difference between a 500k-step and a 100k-step run of the compiled program over the
  difference in iterations; ours, the fused engine's `advance` over a fixed count of
  iterations (the device call, the transfer of its outputs and the host's episode loop),
  with learning on and with it off (act, env step and replay add alone);
* the update alone (ours and a minimal flax/optax update with the same MLP, Adam, batch
  and squared TD loss written out by hand), microseconds per update in a loop whose
  batch changes every iteration, so nothing is loop-invariant.

The parts are medians over repetitions; whole-run wall times are `benchmarks.peer`'s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

from benchmarks.common import log, machine_info, result_path, stats, write_json
from benchmarks.peer import THEIR_IMPORT, peer_config

ITERATIONS = 4000  # env iterations per timed call of our fused loop
UPDATES = 4000  # updates per timed loop of the update-alone comparison

# Imports PureJaxRL's dqn.py (through benchmarks.peer's compatibility shim), then times
# make_train's compilation and two run lengths. The config is the one its main() builds
# inline (dqn.py's defaults, not exposed otherwise): main() runs until it calls
# make_train, which here hands the config back instead of building anything.
THEIR_PARTS = THEIR_IMPORT + """
imported = time.perf_counter() - start
class TheirConfig(Exception):
    pass
def hand_back(config):
    raise TheirConfig(config)
make_train, module.make_train = module.make_train, hand_back
try:
    module.main()
    raise SystemExit("dqn.py's main() never called make_train")
except TheirConfig as their:
    config = their.args[0]
module.make_train = make_train
out = {"imports_s": imported}
for steps in (100_000, 500_000):
    t = time.perf_counter()
    train = jax.jit(module.make_train(dict(config, TOTAL_TIMESTEPS=steps)))
    compiled = train.lower(jax.random.PRNGKey(0)).compile()
    out[f"compile_s_{steps}"] = time.perf_counter() - t
    t = time.perf_counter()
    jax.block_until_ready(compiled(jax.random.PRNGKey(0)))
    out[f"run_s_{steps}"] = time.perf_counter() - t
out["steady_us_per_iteration"] = (out["run_s_500000"] - out["run_s_100000"]) / 40_000 * 1e6
print(json.dumps(out))
"""

OUR_PARTS = """
import json, sys, time
start = time.perf_counter()
import gymnax
import purejaxdqn.engines.fused, purejaxdqn.run.train, purejaxdqn.tools.cli
import jax, jax.numpy as jnp
from benchmarks.peer import peer_config
from benchmarks.peer_breakdown import our_update_pair
from purejaxdqn.engines import make_engine
out = {"imports_s": time.perf_counter() - start}
K = %d
config = peer_config().replace(chunk_iterations=K)  # every device call runs K iterations
engine = make_engine(config, (0,))
carry = engine.start(jnp.stack([jax.random.PRNGKey(0)]))
def run(carry, iterations, learning_starts):
    steps = int(engine.across_seeds(carry, lambda c: c.agent.learner.steps)[0])
    t = time.perf_counter()
    carry, _ = engine.advance(carry, steps + iterations * config.num_envs, learning_starts,
                              lambda: False)
    jax.block_until_ready(carry)
    return carry, time.perf_counter() - t
carry, out["compile_s"] = run(carry, 1, 10**9)  # the first call compiles the fused loop
carry, _ = run(carry, 1_200, 10**9)  # past the 10k warm-up: the replay is full
for name, starts in (("learning_off", 10**9), ("learning_on", 0)):
    carry, _ = run(carry, K, starts)
    carry, seconds = run(carry, K, starts)
    out[f"steady_us_per_iteration_{name}"] = seconds / K * 1e6
out.update(our_update_pair(%d))
print(json.dumps(out))
"""


def our_update_pair(updates: int) -> dict:
    """Microseconds per update: ours (learner.make_update with the peer workload's parts)
    and a minimal hand-written flax/optax update of the same network, optimizer, batch
    and loss, each in a jitted loop whose batch depends on the iteration."""
    import time

    import flax.linen as nn
    import jax
    import jax.numpy as jnp
    import optax

    from purejaxdqn.learner import Transitions, init_train_state, make_update
    from purejaxdqn.parts import build

    config = peer_config()
    parts = build(config, 2, (4,), jnp.float32)
    update = make_update(parts.network, parts.optimizer, parts.objective, parts.target_update)
    state = init_train_state(jax.random.PRNGKey(0), parts.network, parts.optimizer,
                             jnp.zeros((1, 4)))
    keys = jax.random.split(jax.random.PRNGKey(1), 4)
    size = config.batch_size
    base = Transitions(obs=jax.random.normal(keys[0], (size, 4)),
                       action=jax.random.randint(keys[1], (size,), 0, 2),
                       reward=jnp.ones(size), discount=jnp.full(size, config.gamma),
                       next_obs=jax.random.normal(keys[2], (size, 4)), weight=jnp.ones(size))

    def batch_at(i):  # a new batch every iteration: nothing for XLA to hoist
        shift = i.astype(jnp.float32) * 1e-4
        return base._replace(obs=base.obs + shift, next_obs=base.next_obs + shift)

    class Minimal(nn.Module):
        @nn.compact
        def __call__(self, x):
            x = nn.relu(nn.Dense(config.mlp_hidden[0])(x))
            return nn.Dense(2)(nn.relu(nn.Dense(config.head_hidden)(x)))

    net, adam = Minimal(), optax.adam(config.learning_rate)
    params = net.init(keys[3], jnp.zeros((1, 4)))

    def minimal(carry, i):
        params, target, opt = carry
        batch = batch_at(i)
        y = batch.reward + batch.discount * net.apply(target, batch.next_obs).max(-1)

        def loss(p):
            q = jnp.take_along_axis(net.apply(p, batch.obs), batch.action[:, None], -1)[:, 0]
            return 0.5 * jnp.mean((y - q) ** 2)

        grads = jax.grad(loss)(params)
        step, opt = adam.update(grads, opt)
        params = optax.apply_updates(params, step)
        target = optax.periodic_update(params, target, i + 1, 50)
        return (params, target, opt), None

    loops = {
        "update_us_ours": (jax.jit(lambda s: jax.lax.fori_loop(
            0, updates, lambda i, s: update(s, batch_at(i))[0], s)), state),
        "update_us_minimal": (jax.jit(lambda c: jax.lax.scan(
            minimal, c, jnp.arange(updates))[0]), (params, params, adam.init(params))),
    }
    out = {}
    for name, (loop, start) in loops.items():
        jax.block_until_ready(loop(start))
        times = []
        for _ in range(3):
            t = time.perf_counter()
            jax.block_until_ready(loop(start))
            times.append((time.perf_counter() - t) / updates * 1e6)
        out[name] = sorted(times)[1]
    return out


def _run_json(code: list[str], what: str) -> dict:
    env = dict(os.environ, JAX_COMPILATION_CACHE_DIR="")  # every part compiles
    done = subprocess.run([sys.executable, *code], capture_output=True, text=True,
                          check=False, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed: {done.stderr.strip()[-500:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(purejaxrl: str, reps: int) -> dict:
    script = os.path.join(purejaxrl, "purejaxrl", "dqn.py")
    machine = machine_info()
    rows = []
    for rep in range(reps):
        log(f"peer_breakdown: rep {rep + 1}/{reps}")
        rows.append({
            "theirs": _run_json(["-c", THEIR_PARTS, script], "PureJaxRL's parts"),
            "ours": _run_json(["-c", OUR_PARTS % (ITERATIONS, UPDATES)], "our parts")})
    machine["load_average_end"] = list(os.getloadavg())
    parts = {who: {name: stats([r[who][name] for r in rows]) for name in rows[0][who]}
             for who in ("theirs", "ours")}
    return {"benchmark": "peer_breakdown", "machine": machine, "purejaxrl": purejaxrl,
            "workload": peer_config().to_dict(), "reps": rows, "parts": parts}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.peer_breakdown",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--purejaxrl", required=True, metavar="PATH",
                        help="a PureJaxRL checkout (holding purejaxrl/dqn.py); no default")
    parser.add_argument("--reps", type=int, default=3, help="repetitions (default: %(default)s)")
    parser.add_argument("--out", default=None, metavar="FILE",
                        help="default: benchmarks/results/peer_breakdown_<platform>.json")
    args = parser.parse_args(argv)
    script = os.path.join(args.purejaxrl, "purejaxrl", "dqn.py")
    if not os.path.isfile(script):
        print(f"peer_breakdown: error: {script} does not exist (--purejaxrl names a PureJaxRL "
              "checkout)", file=sys.stderr)
        return 2
    if args.reps < 1:
        print(f"peer_breakdown: error: --reps must be at least 1, got {args.reps}",
              file=sys.stderr)
        return 2
    out = args.out or result_path("peer_breakdown")
    write_json(out, run(args.purejaxrl, args.reps))
    log(f"peer_breakdown: wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
