"""Bootstrap targets (TD rules), one unbatched function per rule, rlax style.

A rule maps ONE transition to its target y; the learner batches it with
`jax.vmap`. Every rule takes the same four arguments (a rule that ignores one costs
nothing: XLA removes the unused network evaluation from the compiled update):

    reward         r,            shape ()
    discount       gamma^m or 0, shape ()
    q_next_target  Q_target(s', .), shape (|A|,)
    q_next_online  Q_online(s', .), shape (|A|,)

Termination and truncation enter only through `discount`: the replay gives
gamma^m for a transition that bootstraps (truncation included) and 0 for one
that reached a terminal (or a lost life, when that is terminal for learning).
n-step returns need no rule of their own: the replay passes the n-step reward
sum and gamma^n.

`TARGETS` maps a name (Config.target) to a rule; `NEXT_ACTIONS` the same names to the
action the rule bootstraps from, for distributional objectives.
"""

from typing import Callable

import chex
import jax
import jax.numpy as jnp

from purejaxdqn.registry import Registry

TARGETS: Registry[Callable[..., jax.Array]] = Registry("target")


@TARGETS.register("q_learning")
def q_learning_target(reward: jax.Array, discount: jax.Array, q_next_target: jax.Array,
                      q_next_online: jax.Array | None = None) -> jax.Array:
    """y = r + discount * max_a' Q_target(s', a'). (`q_next_online` unused: every rule
    takes the same arguments, and XLA drops the computation of an unused input.)"""
    chex.assert_rank([reward, discount, q_next_target], [0, 0, 1])
    return reward + discount * jnp.max(q_next_target)


@TARGETS.register("double")
def double_q_target(reward: jax.Array, discount: jax.Array, q_next_target: jax.Array,
                    q_next_online: jax.Array) -> jax.Array:
    """van Hasselt et al. (2016): y = r + discount * Q_target(s', argmax_a' Q_online(s', a'))."""
    chex.assert_rank([reward, discount, q_next_target, q_next_online], [0, 0, 1, 1])
    return reward + discount * q_next_target[jnp.argmax(q_next_online)]


# The action each rule bootstraps from at s', for objectives whose target is not a scalar
# Q (C51's distribution, QR-DQN's quantiles): the greedy action of the target net for
# Q-learning; of the online net for Double DQN, as Rainbow's double C51 does (Hessel et
# al. 2018, Sec. 3; rlax's q_t_selector).
NEXT_ACTIONS: dict[str, Callable[[jax.Array, jax.Array], jax.Array]] = {
    "q_learning": lambda q_next_target, q_next_online: jnp.argmax(q_next_target),
    "double": lambda q_next_target, q_next_online: jnp.argmax(q_next_online),
}


def soft_q_target(reward: jax.Array, discount: jax.Array, q_next_target: jax.Array,
                  q_next_online: jax.Array | None = None, tau: float = 0.03) -> jax.Array:
    """y = r + discount * sum_a' pi(a'|s') (Q_target(s', a') - tau log pi(a'|s')), pi =
    softmax(Q_target(s', .) / tau): the soft (entropy-regularised) Bellman target, which
    Munchausen DQN bootstraps from (Vieillard et al. 2020, eq. 2). It equals discount *
    tau logsumexp(Q / tau), the form Stoix computes. Not in TARGETS: it has a setting,
    and objectives.Munchausen is what chooses it."""
    chex.assert_rank([reward, discount, q_next_target], [0, 0, 1])
    tau_log_pi = tau * jax.nn.log_softmax(q_next_target / tau)
    pi = jax.nn.softmax(q_next_target / tau)
    return reward + discount * jnp.sum(pi * (q_next_target - tau_log_pi))


def munchausen_bonus(q_target: jax.Array, action: jax.Array, tau: float, alpha: float,
                     l0: float) -> jax.Array:
    """alpha * clip(tau log pi(a|s), l0, 0), pi = softmax(Q_target(s, .) / tau): the
    Munchausen term added to the reward (Vieillard, Pietquin & Geist 2020, "Munchausen
    Reinforcement Learning", eq. 2 and Sec. 3: the log-policy clipped at l0 for stability,
    and at 0 so that the bonus is never positive)."""
    chex.assert_rank([q_target, action], [1, 0])
    return alpha * jnp.clip(tau * jax.nn.log_softmax(q_target / tau)[action], l0, 0.0)
