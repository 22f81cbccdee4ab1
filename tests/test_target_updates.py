import jax.numpy as jnp
import numpy as np

from purejaxdqn.components.target_updates import hard_update, soft_update

ONLINE = {"w": jnp.array([1.0, 2.0]), "b": {"c": jnp.array(3.0)}}
TARGET = {"w": jnp.array([0.0, 0.0]), "b": {"c": jnp.array(-1.0)}}


def test_hard_update_copies_on_period_only():
    copied = hard_update(ONLINE, TARGET, jnp.asarray(2500), period=2500)
    kept = hard_update(ONLINE, TARGET, jnp.asarray(2501), period=2500)
    np.testing.assert_array_equal(copied["w"], [1.0, 2.0])
    np.testing.assert_array_equal(copied["b"]["c"], 3.0)
    np.testing.assert_array_equal(kept["w"], [0.0, 0.0])
    np.testing.assert_array_equal(kept["b"]["c"], -1.0)


def test_soft_update_is_polyak_average():
    new = soft_update(ONLINE, TARGET, jnp.asarray(7), tau=0.25)
    np.testing.assert_allclose(new["w"], [0.25, 0.5])
    np.testing.assert_allclose(new["b"]["c"], 0.25 * 3.0 + 0.75 * -1.0)
