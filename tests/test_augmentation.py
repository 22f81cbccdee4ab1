import jax
import jax.numpy as jnp
import numpy as np
import pytest

from purejaxdqn.components.augmentation import intensity, random_shift, shift_with_offsets
from purejaxdqn.config import ConfigError
from purejaxdqn.parts import build_augmentation
from purejaxdqn.presets import PRESETS

IMG = np.array([[1, 2, 3],
                [4, 5, 6],
                [7, 8, 9]], np.uint8)


@pytest.mark.parametrize("dy, dx, expected", [
    # edge-padded by 1:  1 1 2 3 3 / 1 1 2 3 3 / 4 4 5 6 6 / 7 7 8 9 9 / 7 7 8 9 9
    (0, 0, [[1, 1, 2], [1, 1, 2], [4, 4, 5]]),
    (1, 1, [[1, 2, 3], [4, 5, 6], [7, 8, 9]]),
    (2, 2, [[5, 6, 6], [8, 9, 9], [8, 9, 9]]),
    (0, 2, [[2, 3, 3], [2, 3, 3], [5, 6, 6]]),
    (2, 0, [[4, 4, 5], [7, 7, 8], [7, 7, 8]]),
])
def test_shift_matches_hand_computed_crop(dy, dx, expected):
    # two samples, two stacked frames each: the frames of one sample share the shift
    obs = jnp.asarray(np.stack([np.stack([IMG, IMG + 10])] * 2))
    out = shift_with_offsets(obs, jnp.array([dy, 1]), jnp.array([dx, 1]), pad=1)
    assert out.dtype == jnp.uint8 and out.shape == obs.shape
    np.testing.assert_array_equal(out[0, 0], np.array(expected))
    np.testing.assert_array_equal(out[0, 1], np.array(expected) + 10)
    np.testing.assert_array_equal(out[1], obs[1])  # offset (pad, pad) is the identity


def test_random_shift_draws_all_offsets_per_sample_against_numpy_crops():
    pad, batch = 2, 400
    rng = np.random.default_rng(0)
    obs = rng.integers(0, 256, (batch, 2, 6, 5), dtype=np.uint8)
    out = np.asarray(jax.jit(random_shift, static_argnums=2)(jax.random.PRNGKey(3), obs, pad))
    padded = np.pad(obs, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="edge")
    seen = set()
    for b in range(batch):
        matches = [(y, x) for y in range(2 * pad + 1) for x in range(2 * pad + 1)
                   if np.array_equal(out[b], padded[b, :, y:y + 6, x:x + 5])]
        assert matches, f"sample {b} is no edge-padded crop of its input"
        seen.add(matches[0])
    assert seen == {(y, x) for y in range(2 * pad + 1) for x in range(2 * pad + 1)}


def test_intensity_scales_each_sample_by_one_factor_within_ten_percent():
    obs = jnp.full((64, 4, 8, 8), 100, jnp.uint8)
    out = np.asarray(intensity(jax.random.PRNGKey(0), obs))
    factors = out[:, 0, 0, 0] / 100.0
    np.testing.assert_allclose(out, np.broadcast_to(factors[:, None, None, None] * 100.0, out.shape),
                               rtol=1e-6)
    assert (factors >= 0.9 - 1e-6).all() and (factors <= 1.1 + 1e-6).all()
    assert len(np.unique(factors)) > 32  # drawn per sample


def test_augmentation_is_off_by_default_and_checked():
    assert build_augmentation(PRESETS["nature"]) is None
    with pytest.raises(ConfigError, match="augmentation must be one of"):
        PRESETS["nature"].replace(augmentation="flip").validate()


def test_update_augments_obs_and_next_obs_with_independent_keys():
    import optax

    from purejaxdqn.components.losses import huber
    from purejaxdqn.components.networks import Network, NetworkOutput
    from purejaxdqn.components.objectives import make_td_objective
    from purejaxdqn.components.targets import q_learning_target
    from purejaxdqn.learner import Transitions, init_train_state, make_update
    from purejaxdqn.parts import build_target_update

    keys = []

    def spy(key, obs):  # records the keys it is handed; shifts obs by +1
        keys.append(key)
        return obs + 1.0

    # Q(s, .) = (sum of s) * w for both actions
    net = Network(init=lambda key, obs: {"w": jnp.ones(())},
                  apply=lambda p, obs, key: NetworkOutput(
                      jnp.stack([obs.reshape(obs.shape[0], -1).sum(-1) * p["w"]] * 2, -1)))
    config = PRESETS["data-efficient"]
    opt = optax.sgd(0.0)
    state = init_train_state(jax.random.PRNGKey(0), net, opt, jnp.zeros((1, 1)))
    update = make_update(net, opt, make_td_objective(net.apply, q_learning_target, huber),
                         build_target_update(config),
                         type("Aug", (), {"apply": staticmethod(spy)})())
    batch = Transitions(obs=jnp.zeros((2, 1)), action=jnp.zeros(2, jnp.int32),
                        reward=jnp.zeros(2), discount=jnp.zeros(2), next_obs=jnp.zeros((2, 1)),
                        weight=jnp.ones(2))
    new_state, metrics = update(state, batch)
    assert len(keys) == 2 and not np.array_equal(keys[0], keys[1])
    assert not np.array_equal(new_state.key, state.key)
    np.testing.assert_allclose(metrics["q_mean"], 1.0)  # Q on the augmented obs (0 + 1)
