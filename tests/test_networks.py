import jax
import jax.numpy as jnp
import numpy as np

from purejaxdqn.components.networks import dueling_aggregate, param_count
from purejaxdqn.config import CARTPOLE, NATURE
from purejaxdqn.parts import build_network


def test_nature_cnn_shape_and_parameter_count():
    net = build_network(NATURE, num_actions=4, obs_shape=(4, 84, 84), obs_dtype=jnp.uint8)
    obs = jnp.zeros((3, 4, 84, 84), jnp.uint8)
    params = net.init(jax.random.PRNGKey(0), obs)
    assert net.apply(params, obs).shape == (3, 4)
    # 8*8*4*32+32 + 4*4*32*64+64 + 3*3*64*64+64 + 3136*512+512 + 512*4+4, by hand:
    assert param_count(params) == 1_686_180


def test_nature_cnn_uses_valid_padding():
    net = build_network(NATURE, num_actions=6, obs_shape=(4, 84, 84), obs_dtype=jnp.uint8)
    params = net.init(jax.random.PRNGKey(0), jnp.zeros((1, 4, 84, 84), jnp.uint8))
    kernels = [v["kernel"].shape for v in jax.tree_util.tree_leaves(
        params, is_leaf=lambda x: isinstance(x, dict) and "kernel" in x)]
    assert (3136, 512) in kernels  # 7*7*64 features only with VALID padding


def test_cnn_scales_uint8_inside():
    # 255 (uint8) must behave like 1.0 after scaling: compare to a float input of ones.
    net = build_network(NATURE, num_actions=4, obs_shape=(4, 84, 84), obs_dtype=jnp.uint8)
    params = net.init(jax.random.PRNGKey(1), jnp.zeros((1, 4, 84, 84), jnp.uint8))
    q_bytes = net.apply(params, jnp.full((1, 4, 84, 84), 255, jnp.uint8))
    q_ones = net.apply(params, jnp.full((1, 4, 84, 84), 255.0, jnp.float32))
    np.testing.assert_allclose(q_bytes, q_ones, rtol=1e-6)


def test_mlp_and_dueling_on_both_torsos():
    for config, shape, dtype in ((CARTPOLE, (4,), jnp.float32), (NATURE, (4, 84, 84), jnp.uint8)):
        for dueling in (False, True):
            net = build_network(config.replace(dueling=dueling), 3, shape, dtype)
            obs = jnp.ones((5,) + shape, dtype)
            params = net.init(jax.random.PRNGKey(0), obs)
            assert net.apply(params, obs).shape == (5, 3)


def test_dueling_aggregation_by_hand():
    value = jnp.array([[2.0], [-1.0]])
    advantage = jnp.array([[1.0, 2.0, 3.0], [0.0, 0.0, 6.0]])
    # Q = V + A - mean(A): row0 mean 2 -> [1,2,3]; row1 mean 2 -> [-3,-3,3]
    expected = np.array([[1.0, 2.0, 3.0], [-3.0, -3.0, 3.0]])
    np.testing.assert_allclose(dueling_aggregate(value, advantage), expected)
