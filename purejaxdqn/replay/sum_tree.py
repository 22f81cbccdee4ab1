"""A sum tree over L leaves in one flat float32 array, as pure functions.

Layout: ``tree`` has 2P entries, P = 2^depth >= L; the root is ``tree[1]``,
node k has children 2k and 2k + 1, and leaf i (0-based) is ``tree[P + i]``.
Leaves L..P-1 are padding and stay 0. Every function reads P (and so the
depth) from the array's static shape, so the tree is a plain array a caller
can keep in any pytree.

The walks over the levels (``descend``, the ancestors' refresh) are ``fori_loop``s,
not Python loops: unrolled, each of the ~17-20 levels became its own kernels, and on
XLA:CPU the CartPole program compiled 4.7x slower and learned 1.5x slower (the same
operations in the same order either way: results are bit-identical).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

Array = jax.Array


def depth(num_leaves: int) -> int:
    """Levels below the root: the smallest d >= 1 with 2^d >= num_leaves."""
    return max(1, (num_leaves - 1).bit_length())


def init(num_leaves: int) -> Array:
    """An all-zero tree with room for ``num_leaves`` leaves."""
    return jnp.zeros((2 << depth(num_leaves),), jnp.float32)


def _layout(tree: Array) -> tuple[int, int]:
    """(P, depth) from the static shape."""
    half = tree.shape[0] // 2
    return half, half.bit_length() - 1


def total(tree: Array) -> Array:
    """() the sum of all leaves."""
    return tree[1]


def leaves(tree: Array, num_leaves: int) -> Array:
    """[num_leaves] the leaf level (a slice of the tree, not a copy of state)."""
    half, _ = _layout(tree)
    return tree[half : half + num_leaves]


def get(tree: Array, index: Array) -> Array:
    """Leaf values at 0-based ``index`` (any shape)."""
    half, _ = _layout(tree)
    return tree[half + index]


def _refresh_ancestors(tree: Array, nodes: Array, levels: int) -> Array:
    """Recompute every ancestor of ``nodes`` as left + right, bottom up.

    Recomputing from children (rather than adding deltas) keeps float sums
    consistent forever; duplicate parents just write the same value twice.
    """
    def level(_, carry):
        tree, nodes = carry
        nodes = nodes // 2
        return tree.at[nodes].set(tree[2 * nodes] + tree[2 * nodes + 1]), nodes

    return jax.lax.fori_loop(0, levels, level, (tree, nodes))[0]


def write_leaves(tree: Array, index: Array, values: Array) -> Array:
    """Set leaves ``index`` ([K], 0-based) to ``values`` ([K]) and leave their ancestors
    as they were: the sums go stale, so only for a caller that reads the leaves alone
    (``get``, ``leaves``), as uniform replay does. Duplicate indices must carry equal
    values (the scatter order is unspecified)."""
    half, _ = _layout(tree)
    return tree.at[half + index].set(values)


def set_leaves(tree: Array, index: Array, values: Array) -> Array:
    """``write_leaves``, then refresh the leaves' ancestors: every sum stays exact."""
    half, levels = _layout(tree)
    return _refresh_ancestors(write_leaves(tree, index, values), half + index, levels)


def descend(tree: Array, u: Array) -> Array:
    """Leaf (0-based) whose cumulative-mass interval contains u, for each u.

    Rounding can push u past a subtree's mass, so never enter a zero-mass
    child: go right iff right has mass and (u >= left or left has none).
    An all-zero tree therefore yields leaf 0.
    """
    _, levels = _layout(tree)
    def level(_, carry):
        node, u = carry
        left, right = tree[2 * node], tree[2 * node + 1]
        go_right = (right > 0) & ((u >= left) | (left <= 0))
        return 2 * node + go_right.astype(jnp.int32), jnp.where(go_right, u - left, u)

    node, _ = jax.lax.fori_loop(0, levels, level, (jnp.ones(u.shape, jnp.int32), u))
    return node - (1 << levels)


def stratified_sample(tree: Array, key: Array, batch_size: int) -> Array:
    """[batch_size] leaves, one per equal slice of the total mass (Schaul et al.
    2016, appendix B.2.1): u_b = (b + U[0, 1)) * total / B, then ``descend``.
    P(leaf i) = p_i / total overall."""
    u = (jnp.arange(batch_size) + jax.random.uniform(key, (batch_size,))) * (total(tree) / batch_size)
    return descend(tree, u)
