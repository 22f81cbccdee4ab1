"""Tests for purejaxdqn.replay's buffer API against a naive reference that keeps
every env's whole history and rebuilds stacks with an envpool-style deque
(tests/replay_reference.py)."""

from __future__ import annotations

import functools
from typing import Callable, NamedTuple

import flax
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from replay_reference import Reference, Stream
from replay_reference import decode as _decode
from replay_reference import encode as _encode
from replay_reference import timestep as _timestep

from purejaxdqn import replay as replay_lib
from purejaxdqn.replay import ReplayParams, Timestep, state_bytes

# --- helpers ---------------------------------------------------------------------------


class _Jitted(NamedTuple):
    """The buffer functions bound to ``params``, jitted as a caller outside a larger
    jit would (state donated where it is replaced); ``sample_fn`` un-jitted."""

    params: ReplayParams
    init: Callable
    add: Callable
    sample: Callable
    update_priorities: Callable
    sample_fn: Callable


def _jitted(params: ReplayParams) -> _Jitted:
    bound = lambda fn: functools.partial(fn, params)  # noqa: E731
    return _Jitted(params, bound(replay_lib.init),
                   jax.jit(bound(replay_lib.add), donate_argnums=0),
                   jax.jit(bound(replay_lib.sample)),
                   jax.jit(bound(replay_lib.update_priorities), donate_argnums=0),
                   bound(replay_lib.sample))


@functools.lru_cache(maxsize=None)
def _replay(capacity, num_envs, batch_size, frame_stack, n_step, life_loss_terminal=True, prioritized=False):
    return _jitted(ReplayParams(
        capacity,
        num_envs,
        batch_size,
        frame_stack=frame_stack,
        n_step=n_step,
        gamma=0.9,
        life_loss_terminal=life_loss_terminal,
        prioritized=prioritized,
    ))


@functools.lru_cache(maxsize=None)
def _many_samples(replay):
    """Jitted: many independent batches at once (one per key)."""
    return jax.jit(jax.vmap(replay.sample_fn, in_axes=(None, 0, None)))


def _check_tree(state, ref_valid, uniform=True):
    tree = np.asarray(state.tree)
    half = tree.size // 2
    if uniform:  # the leaves only: no sums kept
        assert not tree[:half].any()
    else:
        np.testing.assert_allclose(tree[1:half], tree[2:half * 2:2] + tree[3:half * 2:2],
                                   rtol=1e-6)
    nonzero = set(np.flatnonzero(np.asarray(state.priority)).tolist())
    assert nonzero == set(ref_valid), (sorted(nonzero), sorted(ref_valid))
    assert int(state.num_valid) == len(ref_valid)


def _check_batch(batch, ref_valid, frame_stack):
    batch = jax.device_get(batch)
    obs, nxt = _decode(batch.obs, frame_stack), _decode(batch.next_obs, frame_stack)
    for b, i in enumerate(batch.index.tolist()):
        assert i in ref_valid, f"sampled invalid leaf {i}"
        ids, action, R, disc, next_ids = ref_valid[i]
        assert tuple(np.atleast_1d(obs[b]).tolist()) == ids
        assert tuple(np.atleast_1d(nxt[b]).tolist()) == next_ids
        assert batch.action[b] == action
        np.testing.assert_allclose(batch.reward[b], R, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(batch.discount[b], disc, rtol=1e-6)
    if frame_stack == 1:
        assert batch.obs.ndim == 2  # [B, D]: no stack axis


def _fill(replay, state, stream, steps, ref=None):
    for _ in range(steps):
        step = stream.next()
        state = replay.add(state, _timestep(step))
        if ref is not None:
            ref.add(step)
    return state


# --- property test ---------------------------------------------------------------

CONFIGS = [  # (capacity_per_env, num_envs, frame_stack, n_step, life_loss_terminal)
    (9, 3, 4, 1, True),
    (11, 2, 4, 3, True),
    (7, 3, 1, 1, True),
    (13, 2, 1, 3, True),
    (10, 2, 4, 3, False),
]


@pytest.mark.parametrize("capacity,num_envs,frame_stack,n_step,llt", CONFIGS)
@settings(max_examples=5, derandomize=True, deadline=None, database=None)
@given(
    seed=st.integers(0, 2**31),
    p_term=st.sampled_from([0.0, 0.05, 0.2]),
    p_trunc=st.sampled_from([0.0, 0.05, 0.2]),
    p_life=st.sampled_from([0.0, 0.1, 0.3]),
    p_continue=st.sampled_from([0.0, 0.5]),
)
def test_matches_reference(capacity, num_envs, frame_stack, n_step, llt, seed, p_term, p_trunc, p_life, p_continue):
    batch_size = 16
    replay = _replay(capacity, num_envs, batch_size, frame_stack, n_step, llt)
    ref = Reference(capacity, num_envs, frame_stack, n_step, 0.9, llt)
    stream = Stream(num_envs, frame_stack, seed, p_term, p_trunc, p_life, p_continue)
    state = replay.init(_timestep(stream.next()))  # shapes only; a fresh stream below
    stream = Stream(num_envs, frame_stack, seed, p_term, p_trunc, p_life, p_continue)
    key = jax.random.key(seed)
    for t in range(6 * capacity):  # several wraparounds
        state = _fill(replay, state, stream, 1, ref)
        valid = ref.valid()
        _check_tree(state, valid)  # (b): tree mass exactly on the reference's valid set
        if valid and t % 2 == 0:
            key, sub = jax.random.split(key)
            _check_batch(replay.sample(state, sub), valid, frame_stack)  # (a)

    if valid:  # (c): every valid transition is eventually drawn
        batches = _many_samples(replay)(state, jax.random.split(key, 64), 1.0)
        drawn = set(np.asarray(batches.index).ravel().tolist())
        assert drawn == set(valid)


@pytest.mark.parametrize("capacity,num_envs,frame_stack,n_step", [(11, 2, 4, 3), (13, 2, 1, 3)])
@pytest.mark.parametrize("seed", [0, 1])
def test_n_step_windows_stop_at_a_restart(capacity, num_envs, frame_stack, n_step, seed):
    """Streams that restart mid-game (reset with no game end before it, as after a
    non-exact resume): every sampled window must stop before the reset."""
    replay = _replay(capacity, num_envs, 16, frame_stack, n_step, True)
    ref = Reference(capacity, num_envs, frame_stack, n_step, 0.9, True)
    stream = Stream(num_envs, frame_stack, seed, 0.0, 0.0, 0.0, 0.0, p_restart=0.25)
    state = replay.init(_timestep(Stream(num_envs, frame_stack, seed, 0, 0, 0, 0).next()))
    key = jax.random.key(seed)
    for _ in range(4 * capacity):
        state = _fill(replay, state, stream, 1, ref)
        valid = ref.valid()
        _check_tree(state, valid)
        if valid:
            key, sub = jax.random.split(key)
            _check_batch(replay.sample(state, sub), valid, frame_stack)


def test_n_step_window_before_a_restart_by_hand():
    """One env, n = 3, gamma 0.9, vector obs; slots 0..6 with a restart at slot 3
    (reset, no terminal before it). The window from slot 1 must be the 1-step
    transition to slot 2: R = r2 = 2, discount 0.9, next obs id 3 (slot 2's)."""
    replay = _jitted(ReplayParams(8, 1, 64, frame_stack=1, n_step=3, gamma=0.9))
    f = np.zeros(1, bool)
    state = None
    for t, (r, reset) in enumerate([(0, True), (1, False), (2, False), (0, True),
                                    (4, False), (5, False), (6, False)]):
        ts = Timestep(obs=_encode(np.array([t + 1]), 1), action=np.array([t], np.int32),
                      reward=np.array([r], np.float32), terminated=f, truncated=f,
                      life_lost=f, first=np.array([reset]), reset=np.array([reset]))
        state = replay.init(ts) if state is None else state
        state = replay.add(state, ts)
    batch = jax.device_get(replay.sample(state, jax.random.key(0)))
    seen = {}
    for b, slot in enumerate(batch.index.tolist()):
        seen[slot] = (float(batch.reward[b]), float(batch.discount[b]),
                      int(_decode(batch.next_obs, 1)[b]))
    # slot 0's 3-step window would reach slot 3, a reset: it stops at slot 2,
    # R = 1 + 0.9 * 2, discount 0.9^2, next obs id 3.
    assert seen[0] == pytest.approx((1 + 0.9 * 2, 0.81, 3))
    assert seen[1] == pytest.approx((2.0, 0.9, 3))
    assert 2 not in seen  # (slot 2 -> slot 3) crosses the restart: no transition
    assert seen[3] == pytest.approx((4 + 0.9 * 5 + 0.81 * 6, 0.9**3, 7))
    assert set(seen) == {0, 1, 3}


# --- memory ----------------------------------------------------------------------------


def test_atari_million_fits_in_7_2_gb():
    params = ReplayParams(125_000, 8, 32)
    example = jax.ShapeDtypeStruct((8, 84, 84), jnp.uint8)
    shapes = jax.eval_shape(functools.partial(replay_lib.init, params), example)
    frames = shapes.frames.size * shapes.frames.dtype.itemsize
    total = state_bytes(params, example)
    assert frames >= 7.056e9
    assert frames <= total <= 7.2e9


# --- determinism, donation, composition ------------------------------------------------


def _filled(frame_stack=4, n_step=1, prioritized=False, steps=40, capacity=16, num_envs=2, batch_size=32, seed=0):
    replay = _replay(capacity, num_envs, batch_size, frame_stack, n_step, True, prioritized)
    stream = Stream(num_envs, frame_stack, seed, 0.05, 0.02, 0.05, 0.5)
    state = replay.init(_timestep(Stream(num_envs, frame_stack, seed, 0, 0, 0, 0).next()))
    ref = Reference(capacity, num_envs, frame_stack, n_step, 0.9, True)
    state = _fill(replay, state, stream, steps, ref)
    return replay, state, stream, ref


def test_sample_is_deterministic_in_the_key():
    replay, state, _, _ = _filled()
    a = jax.device_get(replay.sample(state, jax.random.key(1)))
    b = jax.device_get(replay.sample(state, jax.random.key(1)))
    c = jax.device_get(replay.sample(state, jax.random.key(2)))
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a.index, c.index)


def test_add_donates_state():
    replay, state, stream, _ = _filled()
    new = replay.add(state, _timestep(stream.next()))
    if not state.frames.is_deleted():
        pytest.skip("this backend does not honour buffer donation")
    assert state.tree.is_deleted() and state.action.is_deleted()
    assert not new.frames.is_deleted()


def test_composes_inside_jit_and_scan():
    replay, state, stream, ref = _filled(steps=5)
    steps = [stream.next() for _ in range(30)]
    for s in steps:
        ref.add(s)
    stacked = jax.tree.map(lambda *x: np.stack(x), *[_timestep(s) for s in steps])

    @jax.jit
    def run(state, timesteps, key):
        state, _ = jax.lax.scan(lambda s, ts: (replay.add(s, ts), None), state, timesteps)
        return state, replay.sample(state, key)

    state, batch = run(state, stacked, jax.random.key(0))
    valid = ref.valid()
    _check_tree(state, valid)
    _check_batch(batch, valid, 4)


def test_rejects_capacity_too_small_for_stack_and_n_step():
    with pytest.raises(ValueError):
        ReplayParams(4, 2, 8, frame_stack=4, n_step=1)


# --- empty buffer ---------------------------------------------------------------------


@pytest.mark.parametrize("prioritized", [False, True])
def test_sampling_an_empty_buffer_returns_zero_weights(prioritized):
    replay = _replay(8, 2, 4, 4, 3, True, prioritized)
    stream = Stream(2, 4, 0, 0, 0, 0, 0)
    state = replay.init(_timestep(stream.next()))
    for _ in range(3):  # 0..2 slots written, n_step=3: nothing valid yet
        batch = jax.block_until_ready(replay.sample(state, jax.random.key(0), 0.5))
        assert int(state.num_valid) == 0
        np.testing.assert_array_equal(batch.weight, 0.0)
        assert np.all((batch.index >= 0) & (batch.index < 16))
        state = _fill(replay, state, stream, 1)


# --- sampling distributions --------------------------------------------------------------


def _chi_square(counts: np.ndarray, expected: np.ndarray) -> float:
    return float(np.sum((counts - expected) ** 2 / expected))


def _chi_square_bound(dof: int) -> float:
    """Loose upper bound (≈ p < 1e-6) on chi-square with ``dof`` degrees of freedom."""
    return dof + 7 * np.sqrt(2 * dof)


def test_uniform_frequencies():
    replay, state, _, ref = _filled(steps=50)
    valid = sorted(ref.valid())
    batches = _many_samples(replay)(state, jax.random.split(jax.random.key(3), 400), 1.0)
    idx = np.asarray(batches.index).ravel()
    counts = np.bincount(idx, minlength=32)
    assert set(np.flatnonzero(counts)) == set(valid)
    expected = np.full(len(valid), idx.size / len(valid))
    assert _chi_square(counts[valid], expected) < _chi_square_bound(len(valid) - 1)
    np.testing.assert_array_equal(np.asarray(batches.weight), 1.0)


def test_prioritized_frequencies_weights_and_updates():
    alpha, eps, beta = 0.6, 1e-6, 0.4
    replay, state, stream, ref = _filled(prioritized=True, steps=50)
    valid = sorted(ref.valid())
    rng = np.random.default_rng(0)

    # Fresh transitions enter with max_priority = 1.
    np.testing.assert_array_equal(np.asarray(state.priority)[valid], 1.0)

    # Update every leaf, valid or not; invalid ones must stay 0.
    index = np.arange(32, dtype=np.int32)
    td = rng.uniform(0.0, 3.0, 32).astype(np.float32)
    state = replay.update_priorities(state, index, td)
    p = np.where(np.isin(index, valid), (np.abs(td) + eps) ** alpha, 0.0)
    np.testing.assert_allclose(np.asarray(state.priority), p, rtol=1e-5)
    np.testing.assert_allclose(float(state.tree[1]), p.sum(), rtol=1e-5)
    np.testing.assert_allclose(float(state.max_priority), max(1.0, p.max()), rtol=1e-6)
    assert int(state.num_valid) == len(valid)
    _check_tree(state, ref.valid(), uniform=False)

    # Empirical frequencies match p_i / sum p.
    batches = _many_samples(replay)(state, jax.random.split(jax.random.key(5), 1000), beta)
    idx = np.asarray(batches.index).ravel()
    counts = np.bincount(idx, minlength=32)
    assert set(np.flatnonzero(counts)) <= set(valid)
    expected = idx.size * p[valid] / p.sum()
    assert _chi_square(counts[valid], expected) < _chi_square_bound(len(valid) - 1)

    # Importance weights: (N_valid * P(i))^-beta, normalised by the batch max.
    batch = jax.device_get(replay.sample(state, jax.random.key(9), beta))
    w = (len(valid) * p[batch.index] / p.sum()) ** (-beta)
    np.testing.assert_allclose(batch.weight, w / w.max(), rtol=1e-5)
    _check_batch(batch, ref.valid(), 4)

    # Duplicate indices in one update: the largest priority wins, deterministically.
    i, max_p = valid[0], max(1.0, p.max())
    state = replay.update_priorities(state, np.array([i, i], np.int32), np.array([2.0, 0.5], np.float32))
    p[i] = (2.0 + eps) ** alpha
    max_p = max(max_p, p[i])  # max_priority only ever grows
    np.testing.assert_allclose(float(state.max_priority), max_p, rtol=1e-6)
    np.testing.assert_allclose(float(state.priority[i]), p[i], rtol=1e-6)
    np.testing.assert_allclose(float(state.tree[1]), p.sum(), rtol=1e-5)

    # A transition that becomes valid later enters at the current max priority.
    before = set(ref.valid())
    state = _fill(replay, state, stream, 1, ref)
    fresh = set(ref.valid()) - before
    for i in fresh:
        np.testing.assert_allclose(float(state.priority[i]), max_p, rtol=1e-6)
    _check_tree(state, ref.valid(), uniform=False)


def test_prioritized_matches_reference_across_wraparounds():
    replay, state, stream, ref = _filled(prioritized=True, n_step=3, steps=10, capacity=12, num_envs=2)
    rng = np.random.default_rng(1)
    key = jax.random.key(0)
    for _ in range(60):
        state = _fill(replay, state, stream, 1, ref)
        key, sub = jax.random.split(key)
        batch = replay.sample(state, sub, 0.5)
        _check_batch(batch, ref.valid(), 4)
        state = replay.update_priorities(state, batch.index, jnp.asarray(rng.uniform(0, 2, 32), jnp.float32))
        _check_tree(state, ref.valid(), uniform=False)


# --- records ---------------------------------------------------------------------------


def test_flags_are_named_once_and_the_checkpoint_fields_stay():
    """Timestep and the ring's storage take the step flags from StepFlags; a
    checkpoint saves ReplayState field by field, so its names must not move."""
    flags = ("terminated", "truncated", "life_lost", "first", "reset")
    assert replay_lib.FLAGS == replay_lib.StepFlags._fields == flags
    assert Timestep._fields == ("obs", "action", "reward", *flags)
    state = replay_lib.init(ReplayParams(8, 2, 4), jax.ShapeDtypeStruct((2, 3), jnp.float32))
    assert tuple(flax.serialization.to_state_dict(state)) == (
        "frames", "action", "reward", *flags, "tree", "max_priority", "num_valid", "write_index", "count")
    assert all(getattr(state, f).dtype == jnp.bool_ and getattr(state, f).shape == (8, 2) for f in flags)
