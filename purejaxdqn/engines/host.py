"""The host engine: one env iteration per device call, envs on the host.

Per iteration: `act` stores the step just observed and picks actions; the actions
go to envpool (`send`), whose threads step the games while the device runs the
updates owed (`learn`); `recv` collects the next step. With `overlap=False` the
iteration is serial (env, then learn, each waited for) and an optional `timer`
receives the seconds of each phase: that is how benchmarks/ measures where the
time goes, on this very code rather than a copy of it.
"""

from __future__ import annotations

import time
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from purejaxdqn.agent import Agent, AgentState, step_input
from purejaxdqn.engines.base import Advanced
from purejaxdqn.envs.jax_envs import per_seed


class HostCarry(NamedTuple):
    agent: AgentState
    env_steps: list  # one envs.EnvStep per seed: what `act` consumes next
    iteration: int  # env iterations so far


class HostEngine:
    name = "host"
    resumes_exactly = True  # the JAX env's saved state, or envpool fed the recorded actions

    def __init__(self, envs, agent: Agent, seeds, make_evaluate: Callable[[], Callable],
                 jax_env: bool = False, overlap: bool = True,
                 timer: Callable[[str, float], None] | None = None, budget_s: float = 0.25):
        """`envs`: every seed's envs (envs.envpool.EnvGroup, or JaxEnvGroup when `jax_env`);
        `agent` built for their spec; `make_evaluate()` gives the evaluation function (made
        at the first evaluation). engines.factory.make_engine builds all three from a Config."""
        self.envs, self.agent, self.seeds = envs, agent, tuple(seeds)
        self.jax_env = jax_env
        self.spec = self.envs.spec
        self._num_envs = agent.settings.num_envs
        self._make_evaluate, self._evaluate = make_evaluate, None
        self._iterate = self._overlapped if overlap and timer is None else self._serial
        self._timer = timer or (lambda phase, seconds: None)
        self._budget_s = budget_s  # return to the loop this often, for the progress line
        self.action_log: list[np.ndarray] = []  # actions since these envs began (exact resume)
        self._learned = False

    # --- state --------------------------------------------------------------------
    def start(self, keys: jax.Array) -> HostCarry:
        return HostCarry(self.agent.init(keys), self.envs.reset(), 0)

    def across_seeds(self, carry: HostCarry, select: Callable[[Any], Any]) -> Any:
        """`select(carry)` over every seed (one carry holds them all)."""
        return select(carry)

    def iteration(self, carry: HostCarry) -> int:
        return carry.iteration

    def checkpoint_extras(self, carry: HostCarry) -> tuple[Any, np.ndarray]:
        """(device pytree to save beside the learner, actions to replay). envpool cannot
        save its emulators; the JAX env's state is saved whole."""
        actions = np.stack(self.action_log) if self.action_log else \
            np.zeros((0, len(self.seeds), self._num_envs), np.uint8)
        if not self.jax_env:
            return None, actions
        last = step_input(carry.env_steps)
        return {"env": self.envs.state, "last": last}, actions

    def restore(self, carry: HostCarry, agent: AgentState, extras: Any, actions: np.ndarray,
                iteration: int, exact: bool) -> HostCarry:
        """The carry of a resumed run. exact: the same games continue (the JAX env's saved
        state, or envpool fed the recorded actions again from the same env seeds)."""
        env_steps = carry.env_steps
        if exact and self.jax_env:
            self.envs.state = extras["env"]
            env_steps = per_seed(extras["last"])
        if exact and not self.jax_env:
            # envpool cannot save emulator state; replaying the recorded actions from the
            # same env seeds rebuilds it exactly (cost: one env step per recorded step).
            self.action_log = list(actions)
            for a in self.action_log:
                env_steps = self.envs.step(a)
        return HostCarry(agent, env_steps, iteration)

    # --- the loop body ----------------------------------------------------------------
    def advance(self, carry: HostCarry, until_steps: int, learning_starts: int,
                stop: Callable[[], bool]) -> tuple[HostCarry, Advanced]:
        """Env iterations until `until_steps`, a stop request or the time budget."""
        n = self._num_envs
        state, env_steps, iteration = carry
        steps = carry_steps(carry)
        episodes, metrics, first_learn = [], None, None
        deadline = time.perf_counter() + self._budget_s
        while steps < until_steps and not stop():
            iteration += 1
            due = self.agent.learn_due(iteration, steps, learning_starts, env_steps)
            state, env_steps, actions, new_metrics = self._iterate(state, env_steps, due)
            if new_metrics is not None:
                metrics = new_metrics
                if not self._learned:
                    self._learned, first_learn = True, (time.perf_counter(), steps)
            self.action_log.append(actions.astype(np.uint8))
            steps += n
            for k, env_step in enumerate(env_steps):
                for i in np.flatnonzero(~np.isnan(env_step.episode_return)):
                    episodes.append((k, steps, float(env_step.episode_return[i]),
                                     int(env_step.episode_length[i])))
            if time.perf_counter() > deadline:
                break
        return HostCarry(state, env_steps, iteration), Advanced(steps, episodes, metrics,
                                                                first_learn)

    def _learn(self, state, due):
        if due.all():
            return self.agent.learn(state)
        return self.agent.learn_masked(state, jnp.asarray(due))

    def _overlapped(self, state, env_steps, due):
        state, actions = self.agent.act(state, step_input(env_steps))
        actions = np.asarray(actions)
        self.envs.send(actions)  # the envs step on their threads from here...
        metrics = None
        if due is not None:  # ...while the device learns
            state, metrics = self._learn(state, due)
        return state, self.envs.recv(), actions, metrics

    def _serial(self, state, env_steps, due):
        t0 = time.perf_counter()
        state, actions = self.agent.act(state, step_input(env_steps))
        actions = np.asarray(actions)
        t1 = time.perf_counter()
        env_steps = self.envs.step(actions)
        t2 = time.perf_counter()
        self._timer("act", t1 - t0)
        self._timer("env", t2 - t1)
        metrics = None
        if due is not None:
            state, metrics = self._learn(state, due)
            jax.block_until_ready(state)
            self._timer("learn", time.perf_counter() - t2)
        return state, env_steps, actions, metrics

    # --- evaluation ---------------------------------------------------------------
    def evaluate(self, params: Any, key: jax.Array, first_env_seed: int,
                 stop: Callable[[], bool] | None = None) -> dict | None:
        """The Nature protocol for one seed's params (evaluation.py), on the same backend."""
        if self._evaluate is None:
            self._evaluate = self._make_evaluate()
        return self._evaluate(params, key, first_env_seed, stop)

    def close(self) -> None:
        self.envs.close()


def carry_steps(carry) -> int:
    """Agent steps per seed (all seeds move together)."""
    return int(carry.agent.learner.steps[0])
