import jax
import jax.numpy as jnp
import numpy as np

from purejaxdqn.components.networks import dueling_aggregate, param_count
from purejaxdqn.parts import build_network
from purejaxdqn.presets import CARTPOLE, MINATAR, NATURE


def test_nature_cnn_shape_and_parameter_count():
    net = build_network(NATURE, num_actions=4, obs_shape=(4, 84, 84), obs_dtype=jnp.uint8)
    obs = jnp.zeros((3, 4, 84, 84), jnp.uint8)
    params = net.init(jax.random.PRNGKey(0), obs)
    assert net.apply(params, obs, None).q_values.shape == (3, 4)
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
    q_bytes = net.apply(params, jnp.full((1, 4, 84, 84), 255, jnp.uint8), None).q_values
    q_ones = net.apply(params, jnp.full((1, 4, 84, 84), 255.0, jnp.float32), None).q_values
    np.testing.assert_allclose(q_bytes, q_ones, rtol=1e-6)


def test_mlp_and_dueling_on_both_torsos():
    for config, shape, dtype in ((CARTPOLE, (4,), jnp.float32), (NATURE, (4, 84, 84), jnp.uint8)):
        for dueling in (False, True):
            net = build_network(config.replace(dueling=dueling), 3, shape, dtype)
            obs = jnp.ones((5,) + shape, dtype)
            params = net.init(jax.random.PRNGKey(0), obs)
            assert net.apply(params, obs, None).q_values.shape == (5, 3)


def test_dueling_aggregation_by_hand():
    value = jnp.array([[2.0], [-1.0]])
    advantage = jnp.array([[1.0, 2.0, 3.0], [0.0, 0.0, 6.0]])
    # Q = V + A - mean(A): row0 mean 2 -> [1,2,3]; row1 mean 2 -> [-3,-3,3]
    expected = np.array([[1.0, 2.0, 3.0], [-3.0, -3.0, 3.0]])
    np.testing.assert_allclose(dueling_aggregate(value, advantage), expected)


def _both_ways(config, obs_shape, num_actions=4):
    """The network computed with XLA's convolution and with im2col, same init key."""
    obs = jax.random.randint(jax.random.PRNGKey(3), (5,) + obs_shape, 0, 256).astype(jnp.uint8)
    if obs_shape[-1] == 10:  # MinAtar: 0/1 channels
        obs = (obs > 200).astype(jnp.uint8)
    out = {}
    for impl in ("xla", "im2col"):
        net = build_network(config.replace(conv_impl=impl), num_actions, obs_shape, jnp.uint8)
        params = net.init(jax.random.PRNGKey(0), obs[:1])
        out[impl] = params, net.apply(params, obs, None).q_values, net
    return out


def test_im2col_and_xla_convolutions_share_parameters_and_agree():
    # Every CNN torso: the same parameter tree and initial values (so checkpoints load
    # either way), Q-values equal up to float32 summation order, and the same gradients.
    for config, shape in ((NATURE, (4, 84, 84)), (NATURE.replace(torso="two_conv"), (4, 84, 84)),
                          (MINATAR, (4, 10, 10))):
        out = _both_ways(config, shape)
        (p_xla, q_xla, net_xla), (p_col, q_col, net_col) = out["xla"], out["im2col"]
        assert jax.tree_util.tree_structure(p_xla) == jax.tree_util.tree_structure(p_col)
        for a, b in zip(jax.tree_util.tree_leaves(p_xla), jax.tree_util.tree_leaves(p_col)):
            np.testing.assert_array_equal(a, b)
        assert float(jnp.max(jnp.abs(q_xla))) > 1e-3  # a real comparison, not of zeros
        np.testing.assert_allclose(q_col, q_xla, rtol=1e-4, atol=1e-5)
        obs = jnp.ones((2,) + shape, jnp.uint8)
        g_xla = jax.grad(lambda p: net_xla.apply(p, obs, None).q_values.sum())(p_xla)
        g_col = jax.grad(lambda p: net_col.apply(p, obs, None).q_values.sum())(p_col)
        for a, b in zip(jax.tree_util.tree_leaves(g_xla), jax.tree_util.tree_leaves(g_col)):
            np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-5)


def test_conv_impl_auto_is_im2col_only_for_the_minatar_cnn_on_cpu(monkeypatch):
    from purejaxdqn.components import networks

    assert networks.NatureCNN().conv_impl == "auto"
    monkeypatch.setattr(jax, "default_backend", lambda: "cpu")
    assert networks.MinAtarCNN().im2col()
    assert not networks.NatureCNN().im2col() and not networks.TwoConv().im2col()
    monkeypatch.setattr(jax, "default_backend", lambda: "gpu")
    assert not networks.MinAtarCNN().im2col()
    for settings in (networks.NatureCNN, networks.TwoConv, networks.MinAtarCNN):
        assert settings(conv_impl="im2col").im2col()
        assert not settings(conv_impl="xla").im2col()


def test_bad_conv_impl_is_one_line_config_error():
    import pytest

    from purejaxdqn.config import ConfigError

    with pytest.raises(ConfigError, match="conv_impl must be one of auto, im2col, xla; got 'fft'"):
        NATURE.replace(conv_impl="fft").validate()
    with pytest.raises(ConfigError, match="did you mean 'xla'"):
        NATURE.replace(conv_impl="xl").validate()


def test_noisy_dense_init_and_its_factorised_noise():
    """Fortunato et al. (2018) Sec. 3.2 init, and y - mean = x (sigma_w * f_in f_out^T) +
    sigma_b * f_out: read back f_out at x = 0 and the rank-one kernel noise at unit x."""
    from purejaxdqn.components.networks import NoisyDense

    layer, p, q = NoisyDense(3, sigma0=0.4), 5, 3
    params = layer.init(jax.random.PRNGKey(0), jnp.zeros((1, p)))["params"]
    assert np.abs(params["kernel_mu"]).max() <= 1 / np.sqrt(p)
    np.testing.assert_allclose(params["kernel_sigma"], np.full((p, q), 0.4 / np.sqrt(p)))
    np.testing.assert_allclose(params["bias_sigma"], np.full(q, 0.4 / np.sqrt(p)))
    x = jnp.concatenate([jnp.zeros((1, p)), jnp.eye(p)])
    mean = layer.apply({"params": params}, x)
    np.testing.assert_allclose(mean, x @ params["kernel_mu"] + params["bias_mu"], rtol=1e-6)
    noisy = layer.apply({"params": params}, x, rngs={"noise": jax.random.PRNGKey(1)})
    f_out = (noisy - mean)[0] / params["bias_sigma"]
    kernel_noise = ((noisy - mean)[1:] - (noisy - mean)[0]) / params["kernel_sigma"]
    f_in = kernel_noise[:, 0] / f_out[0]
    np.testing.assert_allclose(kernel_noise, np.outer(f_in, f_out), rtol=1e-4, atol=1e-6)
    again = layer.apply({"params": params}, x, rngs={"noise": jax.random.PRNGKey(1)})
    other = layer.apply({"params": params}, x, rngs={"noise": jax.random.PRNGKey(2)})
    np.testing.assert_array_equal(noisy, again)
    assert not np.allclose(noisy, other)


def test_a_noisy_head_makes_a_stochastic_network_whose_key_none_is_the_mean():
    config = CARTPOLE.replace(noisy=True, noisy_sigma0=0.1)
    for dueling in (False, True):
        net = build_network(config.replace(dueling=dueling), 3, (4,), jnp.float32)
        obs = jnp.ones((2, 4))
        params = net.init(jax.random.PRNGKey(0), obs)
        names = {k for layer in params["params"]["head"].values() for k in layer}
        assert net.stochastic and names == {"kernel_mu", "kernel_sigma", "bias_mu", "bias_sigma"}
        q0, q1 = (net.apply(params, obs, jax.random.PRNGKey(k)).q_values for k in (0, 1))
        assert q0.shape == (2, 3) and not np.allclose(q0, q1)
        # sigma -> 0 turns the noise off: the key-None output is the mean network's
        still = jax.tree_util.tree_map_with_path(
            lambda path, x: x * 0 if "sigma" in str(path[-1]) else x, params)
        np.testing.assert_allclose(net.apply(still, obs, jax.random.PRNGKey(0)).q_values,
                                   net.apply(params, obs, None).q_values, rtol=1e-6)
    assert not build_network(CARTPOLE, 3, (4,), jnp.float32).stochastic


def test_a_dueling_categorical_head_aggregates_per_atom_before_the_softmax():
    config = CARTPOLE.replace(head="categorical", objective="categorical", dueling=True,
                              num_atoms=7, v_min=-3.0, v_max=3.0, head_hidden=8)
    net = build_network(config, 4, (4,), jnp.float32)
    params = net.init(jax.random.PRNGKey(0), jnp.zeros((1, 4)))
    head = params["params"]["head"]
    # output layers: the value stream one number per atom, the advantages |A| x atoms
    assert head["Dense_0"]["kernel"].shape == (8, 7) and head["Dense_2"]["kernel"].shape == (8, 28)
    out = net.apply(params, jnp.ones((2, 4)), None)
    np.testing.assert_allclose(out.atoms, np.linspace(-3, 3, 7), rtol=1e-6)
    np.testing.assert_allclose(out.probabilities.sum(-1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(out.q_values, (out.probabilities * out.atoms).sum(-1), rtol=1e-6)


def test_a_quantile_head_gives_the_mean_of_its_quantiles():
    config = CARTPOLE.replace(head="quantile", objective="quantile", num_quantiles=5,
                              dueling=True, noisy=True, head_hidden=8)
    net = build_network(config.validate(), 3, (4,), jnp.float32)
    params = net.init(jax.random.PRNGKey(0), jnp.zeros((1, 4)))
    out = net.apply(params, jnp.ones((2, 4)), jax.random.PRNGKey(1))
    assert out.quantiles.shape == (2, 3, 5) and net.stochastic
    np.testing.assert_allclose(out.q_values, out.quantiles.mean(-1), rtol=1e-6)


def test_an_iqn_head_samples_its_fractions_from_the_key_even_without_noise():
    config = CARTPOLE.replace(head="implicit_quantile", objective="implicit_quantile",
                              num_tau_samples=6, num_quantile_samples=5, iqn_embedding_dim=8,
                              head_hidden=8)
    for dueling, noisy in [(False, False), (True, True)]:
        net = build_network(config.replace(dueling=dueling, noisy=noisy).validate(), 3, (4,),
                            jnp.float32)
        assert net.stochastic and net.samples
        params = net.init(jax.random.PRNGKey(0), jnp.zeros((1, 4)))
        obs = jnp.ones((2, 4))
        out = net.apply(params, obs, jax.random.PRNGKey(1))
        assert out.quantiles.shape == (2, 3, 6) and out.q_values.shape == (2, 3)
        assert out.taus.shape == (2, 6) and ((out.taus >= 0) & (out.taus < 1)).all()
        assert not np.allclose(out.taus[0], out.taus[1])  # per state
        again = net.apply(params, obs, jax.random.PRNGKey(1))
        np.testing.assert_array_equal(again.quantiles, out.quantiles)  # the key decides
        other = net.apply(params, obs, jax.random.PRNGKey(2))
        assert not np.allclose(other.q_values, out.q_values)
        # noise off (evaluation): still sampled fractions, the same ones; only a noisy
        # head's weights change (to their mean)
        quiet = net.apply(params, obs, jax.random.PRNGKey(1), noise=False)
        np.testing.assert_array_equal(quiet.taus, out.taus)
        assert np.allclose(quiet.quantiles, out.quantiles) != noisy
    head = params["params"]["head"]
    assert set(head) == {"QuantileFunction_0"}  # one set of weights for N and K fractions
