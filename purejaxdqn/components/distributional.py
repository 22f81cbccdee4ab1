"""Distributional TD rules, one unbatched function per rule (rlax style; objectives vmap them).

C51 (Bellemare, Dabney & Munos 2017, "A Distributional Perspective on Reinforcement
Learning", Alg. 1) learns a categorical return distribution on fixed, evenly spaced atoms;
QR-DQN (Dabney, Rowland, Bellemare & Munos 2018, "Distributional Reinforcement Learning
with Quantile Regression") learns N quantiles of it at fixed fractions, IQN (Dabney,
Ostrovski, Silver & Munos 2018) at fractions sampled anew for each transition.
As in `targets.py`, termination enters through `discount` only (0 at a terminal) and
n-step returns through the replay's reward sum and gamma^n. Which action the target
bootstraps from is the objective's choice (targets.NEXT_ACTIONS).
"""

import jax
import jax.numpy as jnp

from purejaxdqn.components.losses import huber


def categorical_projection(supports: jax.Array, probabilities: jax.Array,
                           atoms: jax.Array) -> jax.Array:
    """The distribution with `probabilities` on `supports` (N,), moved onto the evenly
    spaced `atoms` z (M,): each support, clipped to [z_1, z_M], splits its mass between
    its two nearest atoms in proportion to closeness,
        m_j = sum_i p_i clip(1 - |clip(Tz_i, z_1, z_M) - z_j| / dz, 0, 1)
    (Bellemare et al. 2017, Alg. 1; rlax's categorical_l2_project on an even grid)."""
    delta = atoms[1] - atoms[0]
    clipped = jnp.clip(supports, atoms[0], atoms[-1])
    share = jnp.clip(1.0 - jnp.abs(clipped[:, None] - atoms[None, :]) / delta, 0.0, 1.0)
    return probabilities @ share


def categorical_td_loss(logits: jax.Array, reward: jax.Array, discount: jax.Array,
                        next_probabilities: jax.Array, atoms: jax.Array) -> jax.Array:
    """-sum_j m_j log p_j(s, a): the cross-entropy from the target distribution m, that of
    r + discount * z under the next state's probabilities (of the bootstrap action, (N,))
    projected onto the atoms, to the predicted one (`logits` of the taken action, (N,))
    (Bellemare et al. 2017, Alg. 1). No gradient flows into the target."""
    target = categorical_projection(reward + discount * atoms, next_probabilities, atoms)
    return -jnp.sum(jax.lax.stop_gradient(target) * jax.nn.log_softmax(logits))


def quantile_midpoints(num_quantiles: int) -> jax.Array:
    """tau_i = (2i - 1) / 2N, i = 1..N: the fractions whose quantiles minimise the
    1-Wasserstein distance (Dabney et al. 2018, Lemma 2)."""
    return (jnp.arange(num_quantiles, dtype=jnp.float32) + 0.5) / num_quantiles


def quantile_td_loss(quantiles: jax.Array, reward: jax.Array, discount: jax.Array,
                     next_quantiles: jax.Array, kappa: float = 1.0,
                     taus: jax.Array | None = None) -> jax.Array:
    """sum_i mean_j |tau_i - 1{u_ij < 0}| L_kappa(u_ij) / kappa, u_ij = T theta_j - theta_i,
    T theta_j = r + discount * theta_j(s', a*): the quantile Huber loss of QR-DQN (Dabney et
    al. 2018, eqs. 9-10, kappa = 1; `quantiles` (N,) of the taken action at the fractions
    `taus` (N,), the midpoints when None; `next_quantiles` (N',) of the bootstrap action).
    With sampled fractions it is IQN's loss (Dabney et al. 2018b, eq. 3). No gradient
    flows into the target, nor through the indicator."""
    target = jax.lax.stop_gradient(reward + discount * next_quantiles)
    u = target[None, :] - quantiles[:, None]
    tau = (quantile_midpoints(quantiles.shape[0]) if taus is None else taus)[:, None]
    weight = jnp.abs(tau - jax.lax.stop_gradient((u < 0).astype(u.dtype)))
    return jnp.sum(jnp.mean(weight * huber(u, kappa) / kappa, axis=-1))
