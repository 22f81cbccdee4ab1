import jax
import jax.numpy as jnp
import numpy as np

from purejaxdqn.components.losses import huber, squared, td_loss


def test_huber_values_by_hand():
    delta = jnp.array([0.0, 0.5, -0.5, 1.0, 3.0, -2.5])
    expected = [0.0, 0.125, 0.125, 0.5, 2.5, 2.0]  # 0.5 d^2 inside, |d| - 0.5 outside
    np.testing.assert_allclose(huber(delta), expected, rtol=1e-6)


def test_huber_gradient_is_clipped_td_error():
    delta = jnp.array([-3.0, -1.0, -0.2, 0.0, 0.7, 1.0, 4.0])
    grad = jax.grad(lambda d: huber(d).sum())(delta)
    np.testing.assert_allclose(grad, np.clip(np.asarray(delta), -1.0, 1.0), rtol=1e-6)


def test_mse_and_weighted_mean_reduction():
    delta = jnp.array([2.0, -1.0, 4.0, 0.0])
    weight = jnp.array([1.0, 0.5, 0.25, 1.0])
    np.testing.assert_allclose(squared(delta), [2.0, 0.5, 8.0, 0.0])
    # mean_i w_i * 0.5 d_i^2 = (2 + 0.25 + 2 + 0) / 4
    np.testing.assert_allclose(td_loss(delta, weight, squared), 4.25 / 4, rtol=1e-6)
    # huber: [1.5, 0.5, 3.5, 0] weighted -> 1.5 + 0.25 + 0.875 = 2.625, / 4
    np.testing.assert_allclose(td_loss(delta, weight, huber), 2.625 / 4, rtol=1e-6)
