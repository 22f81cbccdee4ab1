"""Tests for purejaxdqn.replay.sum_tree on its own (a flat float32 array)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from purejaxdqn.replay import sum_tree


def _check_sums(tree: np.ndarray) -> None:
    half = tree.size // 2
    np.testing.assert_allclose(tree[1:half], tree[2::2] + tree[3::2], rtol=1e-6)


def test_init_sizes_the_tree_to_the_next_power_of_two():
    for num_leaves, size in [(1, 4), (2, 4), (3, 8), (8, 16), (9, 32)]:
        tree = sum_tree.init(num_leaves)
        assert tree.shape == (size,) and tree.dtype == jnp.float32 and not np.any(tree)


def test_set_leaves_keeps_every_node_the_sum_of_its_children():
    rng = np.random.default_rng(0)
    num_leaves = 11
    tree, leaves = sum_tree.init(num_leaves), np.zeros(num_leaves, np.float32)
    set_leaves = jax.jit(sum_tree.set_leaves)
    for _ in range(20):
        index = rng.integers(0, num_leaves, 6)
        values = rng.uniform(0, 3, 6).astype(np.float32) * (rng.random(6) < 0.8)
        values = values[np.unique(index, return_inverse=True)[1]]  # duplicates carry equal values
        tree = set_leaves(tree, jnp.asarray(index, jnp.int32), jnp.asarray(values))
        leaves[index] = values
        np.testing.assert_array_equal(np.asarray(sum_tree.leaves(tree, num_leaves)), leaves)
        np.testing.assert_array_equal(np.asarray(sum_tree.get(tree, jnp.arange(num_leaves))), leaves)
        assert not np.any(np.asarray(tree)[16 + num_leaves:])  # padding leaves stay 0
        _check_sums(np.asarray(tree))
        np.testing.assert_allclose(float(sum_tree.total(tree)), leaves.sum(), rtol=1e-6)


def test_write_leaves_sets_the_leaves_and_no_sum():
    tree = sum_tree.write_leaves(sum_tree.init(5), jnp.array([0, 3, 4]), jnp.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(np.asarray(sum_tree.leaves(tree, 5)), [1, 0, 0, 2, 3])
    assert not np.asarray(tree)[:8].any()  # root and inner nodes untouched (uniform replay)


def test_descent_never_enters_zero_mass():
    """Float rounding can put u at or past a subtree's mass; the descent must
    still end on a leaf with mass."""
    leaves = np.array([0, 1e-3, 0, 2.5, 0, 0, 3.7, 0], np.float32)
    tree = np.zeros(16, np.float32)
    tree[8:] = leaves
    for i in range(7, 0, -1):
        tree[i] = tree[2 * i] + tree[2 * i + 1]
    total = tree[1]
    u = np.array([0.0, 1e-3, 2.501e-3, total, np.nextafter(total, np.float32(np.inf)), total * 1.01], np.float32)
    leaf = np.asarray(sum_tree.descend(jnp.asarray(tree), jnp.asarray(u)))
    assert np.all(leaves[leaf] > 0), leaf
    np.testing.assert_array_equal(leaf[:3], [1, 3, 3])


def test_an_empty_tree_yields_leaf_0():
    leaf = sum_tree.stratified_sample(sum_tree.init(5), jax.random.key(0), 4)
    np.testing.assert_array_equal(np.asarray(leaf), 0)


def test_stratified_sample_follows_the_leaf_masses():
    p = np.array([0.5, 0, 2.0, 1.0, 0, 0.25, 3.0], np.float32)
    tree = sum_tree.set_leaves(sum_tree.init(p.size), jnp.arange(p.size), jnp.asarray(p))
    draw = jax.jit(jax.vmap(sum_tree.stratified_sample, in_axes=(None, 0, None)), static_argnums=2)
    leaf = np.asarray(draw(tree, jax.random.split(jax.random.key(1), 2000), 8))  # [2000, 8]
    # one draw per equal slice of the mass: leaves come out in order within a batch
    assert np.all(np.diff(leaf, axis=1) >= 0)
    counts = np.bincount(leaf.ravel(), minlength=p.size)
    assert not np.any(counts[p == 0])
    expected = leaf.size * p / p.sum()
    chi2 = np.sum((counts[p > 0] - expected[p > 0]) ** 2 / expected[p > 0])
    assert chi2 < 4 + 7 * np.sqrt(2 * 4)  # 4 dof; ≈ p < 1e-6 (stratification only lowers it)
