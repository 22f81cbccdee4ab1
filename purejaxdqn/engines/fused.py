"""The fused engine: act -> env -> store -> learn, K env iterations per device call.

One jitted, donated function runs up to `K` env iterations in a `lax.fori_loop`:
the same `act`, `learn` and learn-when rule (agent.py) the host engine calls once
per iteration, with a JAX env's `step` in place of envpool's send/recv: a gymnax
env (jax_envs.py, vmapped over the seed axis) or Atari through envpool's XLA
interface (envpool_xla.py). The host only sees chunk boundaries: logs,
evaluations, checkpoints and Ctrl-C happen between chunks.

How many iterations a call runs is an argument (the loop's trip count is dynamic),
so the loop's log/eval/checkpoint step counts land exactly where the host engine
puts them, a chunk takes about `chunk_seconds` (measured, adapted), and nothing
recompiles. Results do not depend on where the chunks are cut: every iteration
runs the same compiled body (tested bit for bit).

A gymnax env's state (RNG included) is a pytree in the carry: a checkpoint saves it
and a resume continues bit-exactly, with no actions replayed. envpool's emulators
cannot be saved: a fused Atari run resumes with fresh games.

Seed blocks: on a gymnax env the seeds may be split into blocks of `seed_block`, each
with its own carry (its own buffers: nothing is sliced out of a larger state) and its
own call of the same compiled chunk, the blocks one after another. Why: on XLA:CPU a
seed's update costs more once all seeds' parameter-shaped state outgrows the cache
(benchmarks/results/seed_limit_cpu.json), so many seeds run faster as several small
programs than as one large one. A seed's results do not depend on the blocks (tested).
The carry is a tuple of block carries; the loop reads it through `across_seeds`.
"""

from __future__ import annotations

import time
from typing import Any, Callable, NamedTuple

import flax
import jax
import jax.numpy as jnp
import numpy as np

from purejaxdqn.agent import Agent, AgentState, make_due_mask
from purejaxdqn.engines.base import Advanced
from purejaxdqn.envs.step import EnvSpec, EnvStep

MAX_CHUNK = 4096  # env iterations per device call, at most (sizes the per-iteration outputs)


@flax.struct.dataclass
class FusedCarry:
    agent: AgentState  # [S, ...]
    env: Any  # [S, ...] jax_envs.JaxEnvState, or envpool_xla.XlaEnvState (Atari)
    last: EnvStep  # [S, N, ...]: the step `act` consumes next
    iteration: jax.Array  # () int32, env iterations so far


class FusedEnv(NamedTuple):
    """A JAX env over the seed axis, as the fused loop steps it."""

    spec: EnvSpec
    reset: Callable[[], tuple[Any, EnvStep]]  # () -> (env state [S, ...], first step)
    step: Callable  # (env state, actions [S, N]) -> (env state, EnvStep), traceable
    host: Any = None  # the host object behind it to close (envpool_xla.XlaAtari), or None


class _Chunk(NamedTuple):
    episode_return: jax.Array  # [K, S, N], NaN where no game ended
    episode_length: jax.Array  # [K, S, N]
    learned: jax.Array  # [K] bool, whether any seed learned in that iteration


class FusedEngine:
    name = "fused"

    def __init__(self, env: "FusedEnv", agent: Agent, seeds,
                 make_evaluate: Callable[[], Callable], chunk_iterations: int = 0,
                 chunk_seconds: float = 1.0, max_chunk: int = MAX_CHUNK, seed_block: int = 0):
        """`env`: the JAX env functions over the seed axis (`FusedEnv`); `agent` built for
        its spec; `make_evaluate()` gives the evaluation function (made at the first
        evaluation); `chunk_iterations` > 0 fixes the env iterations per device call;
        `seed_block` > 0 runs the seeds in blocks of that many (a gymnax env only: one
        envpool steps all of Atari's seeds). engines.make_engine builds these from a Config."""
        self.agent, self.seeds = agent, tuple(seeds)
        self._env = env
        self.jax_env = env.host is None
        size = seed_block if seed_block > 0 and self.jax_env else len(self.seeds)
        self.blocks = tuple((a, min(a + size, len(self.seeds)))
                            for a in range(0, len(self.seeds), size))
        self.spec = env.spec
        self.resumes_exactly = self.jax_env  # envpool's emulators cannot be saved
        self._num_envs = agent.settings.num_envs
        self._chunk_seconds = chunk_seconds
        # a fixed chunk if one is given, else adapted under MAX_CHUNK
        self._fixed = chunk_iterations > 0
        self._max_chunk = max_chunk = chunk_iterations or max_chunk
        self._iterations_per_s = None  # measured, to size the next chunk
        self._learned = False
        self._make_evaluate, self._evaluate = make_evaluate, None
        self._run = jax.jit(self._make_chunk(max_chunk), donate_argnums=0)

    def _make_chunk(self, max_iterations: int) -> Callable:
        fns = self.agent.fns
        due_mask = make_due_mask(self.agent.settings)
        act = jax.vmap(fns.act)
        env_step = self._env.step
        learn, learn_masked = fns.learn_seeds, fns.learn_seeds_masked
        by_episodes = self.agent.settings.by_episodes

        def iteration(carry: FusedCarry, metrics: dict, learning_starts):
            it = carry.iteration + 1
            steps = carry.agent.learner.steps[0]  # before this iteration, all seeds equal
            due = due_mask(jnp, it, steps, learning_starts,
                           carry.last.terminated | carry.last.truncated)
            agent, actions = act(carry.agent, carry.last)
            env, last = env_step(carry.env, actions)
            # The step rule is all seeds or none: plain `learn`. Only the episode rule
            # needs the masked one (a select over the whole state, replay included).
            learn_due = (lambda a: learn_masked(a, due)) if by_episodes else learn
            agent, metrics = jax.lax.cond(jnp.any(due), learn_due, lambda a: (a, metrics), agent)
            new = FusedCarry(agent=agent, env=env, last=last, iteration=it)
            return new, metrics, jnp.any(due)

        def chunk(carry: FusedCarry, metrics: dict, count, learning_starts):
            # A loop with a dynamic trip count, not a fixed-length scan whose surplus
            # iterations a lax.cond skips: no branch over the whole carry (replay
            # included) that XLA:CPU might copy on every iteration.
            shape = (max_iterations,) + carry.last.episode_return.shape
            outputs = _Chunk(jnp.full(shape, jnp.nan, jnp.float32),
                             jnp.zeros(shape, jnp.int32), jnp.zeros(max_iterations, bool))

            def body(index, inner):
                carry, metrics, outputs = inner
                carry, metrics, learned = iteration(carry, metrics, learning_starts)
                put = lambda buf, x: jax.lax.dynamic_update_index_in_dim(  # noqa: E731
                    buf, x.astype(buf.dtype), index, 0)
                outputs = _Chunk(put(outputs.episode_return, carry.last.episode_return),
                                 put(outputs.episode_length, carry.last.episode_length),
                                 put(outputs.learned, learned))
                return carry, metrics, outputs

            return jax.lax.fori_loop(0, count, body, (carry, metrics, outputs))

        return chunk

    # --- state --------------------------------------------------------------------
    def start(self, keys: jax.Array) -> tuple[FusedCarry, ...]:
        env, last = self._env.reset()
        last = last._replace(episode_length=last.episode_length.astype(jnp.int32))
        # each block's agents initialised from its own keys: no all-seed state is built;
        # nothing is shared between blocks (each block's buffers are donated to its call)
        carry = tuple(FusedCarry(agent=self.agent.init(keys[a:b]), env=self._take(env, a, b),
                                 last=self._take(last, a, b),
                                 iteration=jnp.zeros((), jnp.int32))
                      for a, b in self.blocks)
        self._metrics = [self._zero_metrics(block.agent) for block in carry]
        return carry

    def _take(self, tree: Any, a: int, b: int) -> Any:
        """Seeds [a, b) of a pytree over all seeds (itself for one block: its placement
        on devices stays as it is)."""
        if len(self.blocks) == 1:
            return tree
        return jax.tree_util.tree_map(lambda x: x[a:b], tree)

    def _zero_metrics(self, agent: AgentState) -> dict:
        shapes = jax.eval_shape(self.agent.fns.learn_seeds, agent)[1]
        return jax.tree_util.tree_map(lambda s: jnp.zeros(s.shape, s.dtype), shapes)

    def across_seeds(self, carry: tuple[FusedCarry, ...], select: Callable[[Any], Any]) -> Any:
        """`select(carry)` over every seed, the blocks' joined on the seed axis."""
        return _join([select(block) for block in carry])

    def iteration(self, carry: tuple[FusedCarry, ...]) -> int:
        return int(carry[0].iteration)  # the blocks move together

    def checkpoint_extras(self, carry: tuple[FusedCarry, ...]) -> tuple[Any, np.ndarray]:
        """The JAX env's state and pending step; nothing for envpool (its emulators
        cannot be saved: a resume plays fresh games, see envs.env_seed). Saved over all
        seeds, so a checkpoint does not depend on the blocks."""
        extras = self.across_seeds(carry, lambda c: {"env": c.env, "last": c.last}) \
            if self.jax_env else None
        return extras, np.zeros((0, len(self.seeds), self._num_envs), np.uint8)

    def restore(self, carry: tuple[FusedCarry, ...], agent: AgentState, extras: Any,
                actions: np.ndarray, iteration: int, exact: bool) -> tuple[FusedCarry, ...]:
        """exact: the saved env state and pending step (bit-exact); else the fresh envs of
        `start` (new env seeds, see envs.env_seed), whose first step is a reset. `agent`
        and `extras` are over all seeds; each block takes its own."""
        return tuple(
            FusedCarry(agent=self._take(agent, a, b),
                       env=self._take(extras["env"], a, b) if exact else block.env,
                       last=self._take(extras["last"], a, b) if exact else block.last,
                       iteration=jnp.asarray(iteration, jnp.int32))
            for (a, b), block in zip(self.blocks, carry))

    # --- the loop body --------------------------------------------------------------
    def advance(self, carry: tuple[FusedCarry, ...], until_steps: int, learning_starts: int,
                stop: Callable[[], bool]) -> tuple[tuple[FusedCarry, ...], Advanced]:
        """One device call per block: up to `until_steps`, at most about `chunk_seconds`
        of work in all."""
        n = self._num_envs
        steps = int(carry[0].agent.learner.steps[0])
        wanted = -(-(until_steps - steps) // n)  # iterations to reach until_steps
        count = min(wanted, self._max_chunk)
        if self._iterations_per_s is not None and not self._fixed:
            count = min(count, max(1, int(self._iterations_per_s * self._chunk_seconds)))
        if count <= 0 or stop():
            return carry, Advanced(steps, [], None, None)
        t0 = time.perf_counter()
        new, chunks = [], []
        for k, block in enumerate(carry):  # dispatched one after another, not waited on
            block, self._metrics[k], chunk = self._run(block, self._metrics[k], jnp.int32(count),
                                                       jnp.int32(learning_starts))
            new.append(block)
            chunks.append((chunk.episode_return, chunk.episode_length, chunk.learned))
        # Sliced on the host: a device-side [:count] compiles a program per distinct count.
        fetched = jax.device_get(chunks)
        returns = np.concatenate([r[:count] for r, _, _ in fetched], axis=1)
        lengths = np.concatenate([x[:count] for _, x, _ in fetched], axis=1)
        learned = np.any([x[:count] for _, _, x in fetched], axis=0)  # any block learned
        elapsed = time.perf_counter() - t0
        if count >= 16:  # small calls are dominated by dispatch: not a speed sample
            self._iterations_per_s = count / max(elapsed, 1e-6)
        episodes = [(k, steps + (i + 1) * n, float(returns[i, k, j]), int(lengths[i, k, j]))
                    for i, k, j in zip(*np.nonzero(~np.isnan(returns)))]
        first_learn = None
        if learned.any() and not self._learned:
            self._learned = True
            first = int(np.argmax(learned))
            first_learn = (t0 + elapsed * first / count, steps + first * n)
        metrics = _join(self._metrics) if learned.any() or self._learned else None
        return tuple(new), Advanced(steps + count * n, episodes, metrics, first_learn)

    # --- evaluation ---------------------------------------------------------------
    def evaluate(self, params: Any, key: jax.Array, first_env_seed: int,
                 stop: Callable[[], bool] | None = None) -> dict | None:
        """The Nature protocol for one seed's params (evaluation.py): on the JAX env, or
        for Atari on envpool's host games."""
        if self._evaluate is None:
            self._evaluate = self._make_evaluate()
        return self._evaluate(params, key, first_env_seed, stop)

    def close(self) -> None:
        if self._env.host is not None:
            self._env.host.close()


def _join(parts: list) -> Any:
    """Pytrees of the blocks joined on the seed axis (one block's as it is)."""
    if len(parts) == 1:
        return parts[0]
    return jax.tree_util.tree_map(lambda *x: jnp.concatenate(x), *parts)
