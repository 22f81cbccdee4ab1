import jax
import jax.numpy as jnp
import numpy as np
import optax

from purejaxdqn.components.optimizers import nature_rmsprop


def deepmind_rmsprop_steps(w, summed_grads, lr=2.5e-4, decay=0.95, min_sq=0.01):
    """DeepMind's Lua update, written out in numpy on the *summed* gradient."""
    g = np.zeros_like(w)
    g2 = np.zeros_like(w)
    for dw in summed_grads:
        g = decay * g + (1 - decay) * dw
        g2 = decay * g2 + (1 - decay) * dw**2
        w = w - lr * dw / np.sqrt(g2 - g**2 + min_sq)
    return w


def test_nature_rmsprop_equals_deepmind_formula_on_mean_loss():
    batch = 32
    rng = np.random.default_rng(0)
    w0 = rng.normal(size=5)
    # Per-sample gradients for three steps; DeepMind sums them, we average them.
    per_sample = [rng.normal(size=(batch, 5)) * 0.3 for _ in range(3)]
    expected = deepmind_rmsprop_steps(w0.copy(), [g.sum(0) for g in per_sample])

    opt = nature_rmsprop(batch_size=batch)
    params = jnp.asarray(w0, jnp.float64) if jax.config.jax_enable_x64 else jnp.asarray(w0)
    state = opt.init(params)
    for g in per_sample:
        updates, state = opt.update(jnp.asarray(g.mean(0), params.dtype), state, params)
        params = optax.apply_updates(params, updates)
    np.testing.assert_allclose(np.asarray(params), expected, atol=1e-6)


def test_single_step_matches_formula():
    w0 = np.array([0.5, -1.0, 2.0])
    dw = np.array([0.1, -3.0, 0.0])  # summed gradient
    expected = w0 - 2.5e-4 * dw / np.sqrt(0.05 * dw**2 - (0.05 * dw) ** 2 + 0.01)
    opt = nature_rmsprop(batch_size=32)
    params = jnp.asarray(w0, jnp.float32)
    updates, _ = opt.update(jnp.asarray(dw / 32, jnp.float32), opt.init(params), params)
    np.testing.assert_allclose(np.asarray(params + updates), expected, atol=1e-6)
