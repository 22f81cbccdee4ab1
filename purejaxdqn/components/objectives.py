"""Objectives: what one gradient update minimises, per transition of the batch.

An objective is a pure function

    objective(params, target_params, batch, key) -> (loss [B], ObjectiveAux)

of the online and the frozen target params, a batch of transitions (obs, action, reward,
discount, next_obs) and a key for the network's own noise (None for a deterministic
network). It returns each transition's loss, unreduced: the learner takes the mean
weighted by the replay's importance weights, so every objective gets prioritized replay
for free. Its aux carries the online Q-values at s (for metrics), each transition's
`priority` (what prioritized replay stores; |delta| for TD objectives) and scalar metrics
(plus per-sample diagnostics, which the agent does not log).

`OBJECTIVES` maps a name (Config.objective) to the objective's settings, whose
`build(network, td_rule, loss, target_is_online, next_action)` binds it to the parts it
uses: "td" is the Q-learning family, a TD rule (`targets.TARGETS`) and an elementwise
loss (`losses.LOSSES`) of delta = y - Q(s, a); "categorical" (C51), "quantile"
(QR-DQN) and "implicit_quantile" (IQN) bootstrap from the action `next_action`
(`targets.NEXT_ACTIONS`, by the same target name) picks; "munchausen" (M-DQN) is the
TD objective on its own soft target with a log-policy bonus. Each objective learns one
kind of head output (`learns`), checked against the config's head.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp

from purejaxdqn.components.distributional import categorical_td_loss, quantile_td_loss
from purejaxdqn.components.networks import HEADS, Network
from purejaxdqn.components.targets import NEXT_ACTIONS, munchausen_bonus, soft_q_target
from purejaxdqn.registry import Registry
from purejaxdqn.settings import Check, ConfigError, Settings, non_negative, positive, setting

OBJECTIVES: Registry = Registry("objective")


class ObjectiveAux(NamedTuple):
    q_values: jax.Array  # online Q(s, .), (B, |A|)
    priority: jax.Array  # per transition, (B,): what prioritized replay stores
    metrics: dict  # scalars to log (and per-sample diagnostics, not logged)


Objective = Callable[[Any, Any, Any, Any], tuple[jax.Array, ObjectiveAux]]


def forward_passes(apply: Callable, params, target_params, batch, key: jax.Array | None,
                   target_is_online: bool = False) -> tuple[Any, Any, Any]:
    """The update's three network outputs: online at s, target at s', online at s'.

    Each pass gets its own key (NoisyNet: independent noise per forward pass, Fortunato et
    al. 2018, Alg. 1), or None for a deterministic network. A rule that does not read the
    online net at s' leaves that pass dead code, which XLA removes from the compiled update.
    `target_is_online`: the caller guarantees target_params == params (a hard copy after
    every update, as DrQ's target_update_period = 1); a deterministic network then computes
    s' once instead of twice, with the same result.
    """
    keys = (None, None, None) if key is None else tuple(jax.random.split(key, 3))
    online = apply(params, batch.obs, keys[0])
    next_target = apply(params if target_is_online else target_params, batch.next_obs, keys[1])
    shared = target_is_online and key is None
    next_online = next_target if shared else apply(params, batch.next_obs, keys[2])
    return online, next_target, next_online


def taken(values: jax.Array, action: jax.Array) -> jax.Array:
    """values[i, action[i]] for each row i: (B, |A|, ...) -> (B, ...)."""
    index = action.astype(jnp.int32).reshape((-1,) + (1,) * (values.ndim - 1))
    return jnp.take_along_axis(values, index, axis=1)[:, 0]


def td_errors(params, target_params, batch, apply: Callable, td_rule: Callable,
              target_is_online: bool = False, key: jax.Array | None = None) -> tuple:
    """delta = y - Q(s, a), with y from the frozen target params (no gradient through y),
    and the online output at s.

    y is `td_rule` (a targets.TARGETS entry) vmapped over the batch, on the Q-values of the
    target and the online net at s'.
    """
    online, next_target, next_online = forward_passes(apply, params, target_params, batch,
                                                      key, target_is_online)
    y = jax.vmap(td_rule)(batch.reward, batch.discount, next_target.q_values,
                          next_online.q_values)
    return jax.lax.stop_gradient(y) - taken(online.q_values, batch.action), online


def make_td_objective(apply: Callable, td_rule: Callable, loss: Callable,
                      target_is_online: bool = False) -> Objective:
    """loss_i = loss(delta_i) (an elementwise LOSSES entry, e.g. Huber: Mnih et al. 2015);
    priority_i = |delta_i| (Schaul et al. 2016's proportional variant)."""

    def objective(params, target_params, batch, key):
        delta, online = td_errors(params, target_params, batch, apply, td_rule,
                                  target_is_online, key)
        td_abs = jnp.abs(delta)
        metrics = {"td_abs_mean": td_abs.mean(), "td_abs_max": td_abs.max(), "td_abs": td_abs}
        return loss(delta), ObjectiveAux(online.q_values, td_abs, metrics)

    return objective


def make_munchausen_objective(apply: Callable, loss: Callable, tau: float, alpha: float,
                              l0: float, target_is_online: bool = False) -> Objective:
    """Munchausen DQN (Vieillard, Pietquin & Geist 2020): the TD objective (`loss` of
    delta) on the soft target (targets.soft_q_target) with the Munchausen bonus added to
    the reward, y = r + alpha clip(tau log pi(a|s), l0, 0) + discount * sum_a' pi(a'|s')
    (q(s', a') - tau log pi(a'|s')), pi = softmax(q_target / tau). The bonus reads the
    target net at s, a fourth forward pass (with its own noise). priority_i = |delta_i|,
    as the TD objective's."""
    td = make_td_objective(apply, functools.partial(soft_q_target, tau=tau), loss,
                           target_is_online)
    bonus = jax.vmap(functools.partial(munchausen_bonus, tau=tau, alpha=alpha, l0=l0))

    def objective(params, target_params, batch, key):
        td_key, here_key = (None, None) if key is None else jax.random.split(key)
        here = params if target_is_online else target_params
        q_target = jax.lax.stop_gradient(apply(here, batch.obs, here_key).q_values)
        return td(params, target_params, batch._replace(
            reward=batch.reward + bonus(q_target, batch.action)), td_key)

    return objective


def make_distributional_objective(apply: Callable, next_action: Callable, rule: Callable,
                                  target_is_online: bool = False) -> Objective:
    """loss_i from `rule(online at s, target at s', batch, next actions)` over a batch of
    distributional head outputs, bootstrapping from the action `next_action` (a
    targets.NEXT_ACTIONS entry) picks from the target and online Q-values at s': Double
    DQN's pick gives Rainbow's double C51 (Hessel et al. 2018). priority_i = loss_i, as
    Dopamine's Rainbow and quantile agents prioritize (sqrt(loss) there, and our replay
    raises the priority to per_alpha itself: the same at alpha 0.5; google/dopamine
    dopamine/jax/agents/rainbow/rainbow_agent.py, quantile/quantile_agent.py at 5873f54)."""

    def objective(params, target_params, batch, key):
        online, next_target, next_online = forward_passes(apply, params, target_params, batch,
                                                          key, target_is_online)
        next_actions = jax.vmap(next_action)(next_target.q_values, next_online.q_values)
        loss = rule(online, next_target, batch, next_actions)
        return loss, ObjectiveAux(online.q_values, loss, {})  # the learner logs the loss

    return objective


def categorical_batch_loss(online, next_target, batch, next_actions) -> jax.Array:
    """C51 (Bellemare et al. 2017, Alg. 1) on categorical outputs: the cross-entropy to
    the projected target distribution, per transition."""
    return jax.vmap(categorical_td_loss, in_axes=(0, 0, 0, 0, None))(
        taken(online.logits, batch.action), batch.reward, batch.discount,
        taken(next_target.probabilities, next_actions), online.atoms)


def quantile_batch_loss(online, next_target, batch, next_actions) -> jax.Array:
    """QR-DQN (Dabney et al. 2018) on quantile outputs: the quantile Huber loss (kappa 1),
    per transition."""
    return jax.vmap(quantile_td_loss)(
        taken(online.quantiles, batch.action), batch.reward, batch.discount,
        taken(next_target.quantiles, next_actions))


def implicit_quantile_batch_loss(online, next_target, batch, next_actions) -> jax.Array:
    """IQN (Dabney et al. 2018b, eq. 3) on implicit-quantile outputs: the quantile Huber
    loss (kappa 1) between the taken action's quantiles at the N fractions the online
    pass sampled and the bootstrap action's at the target pass's own N' fractions, per
    transition (the bootstrap action: argmax of the mean of K more, Q's)."""
    return jax.vmap(functools.partial(quantile_td_loss, kappa=1.0))(
        taken(online.quantiles, batch.action), batch.reward, batch.discount,
        taken(next_target.quantiles, next_actions), taus=online.taus)


@dataclasses.dataclass(frozen=True)
class ObjectiveSettings(Settings):
    """What every objective shares: the head output it learns (networks.HeadSettings.output),
    checked against the config's head."""

    learns = "q_values"

    def check_against(self, run) -> None:
        if run.component(HEADS).output != self.learns:
            fit = [name for name in HEADS.names() if HEADS.get(name).output == self.learns]
            raise ConfigError(f"objective {run.objective!r} needs head {' or '.join(fit)} (it "
                              f"learns {self.learns}), got {run.head!r}")


@OBJECTIVES.register("td")
@dataclasses.dataclass(frozen=True)
class TD(ObjectiveSettings):
    """The Q-learning family: Config.target's rule, Config.loss's loss."""

    def build(self, network: Network, td_rule: Callable, loss: Callable,
              target_is_online: bool = False, next_action: Callable | None = None) -> Objective:
        return make_td_objective(network.apply, td_rule, loss, target_is_online)


@dataclasses.dataclass(frozen=True)
class Distributional(ObjectiveSettings):
    """What the distributional objectives share: Config.target picks the bootstrap action
    (double: Rainbow's), Config.loss is unused; a subclass names its `batch_loss`."""

    def check_against(self, run) -> None:
        super().check_against(run)
        check_next_action(run)

    def build(self, network: Network, td_rule: Callable, loss: Callable,
              target_is_online: bool = False, next_action: Callable | None = None) -> Objective:
        return make_distributional_objective(network.apply, next_action, self.batch_loss,
                                             target_is_online)


@OBJECTIVES.register("categorical")
@dataclasses.dataclass(frozen=True)
class Categorical(Distributional):
    """C51 (Bellemare et al. 2017)."""

    learns = "categorical"
    batch_loss = staticmethod(categorical_batch_loss)


@OBJECTIVES.register("quantile")
@dataclasses.dataclass(frozen=True)
class Quantile(Distributional):
    """QR-DQN (Dabney et al. 2018)."""

    learns = "quantiles"
    batch_loss = staticmethod(quantile_batch_loss)


@OBJECTIVES.register("implicit_quantile")
@dataclasses.dataclass(frozen=True)
class ImplicitQuantile(Distributional):
    """IQN (Dabney, Ostrovski, Silver & Munos 2018)."""

    learns = "implicit_quantiles"
    batch_loss = staticmethod(implicit_quantile_batch_loss)


@OBJECTIVES.register("munchausen")
@dataclasses.dataclass(frozen=True)
class Munchausen(ObjectiveSettings):
    """M-DQN; the defaults are Vieillard et al. (2020)'s Atari values (alpha 0.9, tau 0.03,
    l0 -1). Config.loss is its loss; its target replaces Config.target's."""

    munchausen_tau: float = setting(0.03, "Munchausen DQN: entropy temperature tau of the "
                                          "softmax policy", positive)
    munchausen_alpha: float = setting(0.9, "Munchausen DQN: scale alpha of the log-policy "
                                           "bonus", non_negative)
    munchausen_l0: float = setting(-1.0, "Munchausen DQN: lower clip l0 of tau log pi",
                                   Check(lambda v: v <= 0, "must be <= 0"))

    def check_against(self, run) -> None:
        super().check_against(run)
        if run.target != "q_learning":
            raise ConfigError(f"objective 'munchausen' has its own (soft) target: leave "
                              f"target at q_learning, got {run.target!r}")

    def build(self, network: Network, td_rule: Callable, loss: Callable,
              target_is_online: bool = False, next_action: Callable | None = None) -> Objective:
        return make_munchausen_objective(network.apply, loss, self.munchausen_tau,
                                         self.munchausen_alpha, self.munchausen_l0,
                                         target_is_online)


def check_next_action(run) -> None:
    if run.target not in NEXT_ACTIONS:
        raise ConfigError(f"objective {run.objective!r} bootstraps from the action a target "
                          f"picks: target must be {' or '.join(NEXT_ACTIONS)}, got "
                          f"{run.target!r}")
