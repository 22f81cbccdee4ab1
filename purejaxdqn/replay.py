"""Accelerator-resident, frame-deduplicated ring replay as pure functions.

Storage. Each env iteration is one *slot* of a ring of ``C`` slots per env.
A slot stores only the newest frame plus the scalars of that timestep, so an
Atari transition costs one 84x84 frame instead of eight. Frame stacks are
rebuilt at sample time by walking back from a slot, stopping at ``first``:

    idx_0 = j,   idx_k = idx_{k-1} if first[idx_{k-1}] else idx_{k-1} - 1,

ordered oldest..newest with the newest last, exactly like envpool's stack.

Validity. The transition at slot ``j`` (stack at j, action_j) is valid iff
  1. slots j .. j+n are written (so it becomes valid when j+n is written),
  2. ``reset[j+1]`` is False (envpool's auto-reset pair is no transition),
  3. every frame of the stack at j is still in the ring.

n-step target. For m = 1..n: R += gamma^(m-1) r[j+m]; if terminated[j+m] (or
life_lost[j+m] when ``life_loss_terminal``) then discount = 0 and stop; elif
truncated[j+m] or m == n or reset[j+m+1] then discount = gamma^m, next_obs =
stack at j+m, stop. The ``reset`` stop matters where a stream restarts without
its game ending (fresh envs after a non-exact resume): the window never runs
into the next game; it bootstraps from the last state seen, like a truncation.

Sampling. A sum tree holds one leaf per (slot, env): the priority if the
transition is valid, else 0. ``add`` keeps it exact incrementally, so sampling
is a fixed-depth descent with no rejection loop. Uniform replay is the special
case priority = 1 (float32 sums of ones are exact below 2^24 leaves).
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import flax
import jax
import jax.numpy as jnp

Array = jax.Array


class Timestep(NamedTuple):
    """One env iteration, batched over N envs (what ``add`` consumes)."""

    obs: Array  # [N, *frame_shape] newest frame only (Atari: envpool obs[:, -1]); vector envs: [N, D]
    action: Array  # [N] int32, taken AT this obs
    reward: Array  # [N] float32, received on ARRIVING at this obs (0 at a reset)
    terminated: Array  # [N] bool, arriving here ended the game: no bootstrap
    truncated: Array  # [N] bool, arriving here hit the time limit: bootstrap through it
    life_lost: Array  # [N] bool, arriving here lost a life (stack continues)
    first: Array  # [N] bool, the frame stack restarts here
    reset: Array  # [N] bool, auto-reset step: (previous slot -> this slot) is not a transition


class Batch(NamedTuple):
    """B sampled transitions. ``obs``/``next_obs`` are [B, stack, *frame_shape]
    (oldest..newest) when frame_stack > 1 and [B, *frame_shape] (no stack
    axis) when frame_stack == 1."""

    obs: Array
    action: Array  # [B] int32
    reward: Array  # [B] float32, sum_{m<=m*} gamma^(m-1) r[j+m]
    discount: Array  # [B] float32, gamma^m* or 0 if a terminal was reached
    next_obs: Array
    weight: Array  # [B] float32 importance weights (ones for uniform; zeros if the buffer is empty)
    index: Array  # [B] int32 flat leaf index slot * N + env, for update_priorities


@flax.struct.dataclass
class ReplayState:
    frames: Array  # [C, N, *frame_shape]
    action: Array  # [C, N] int32
    reward: Array  # [C, N] float32
    terminated: Array  # [C, N] bool
    truncated: Array  # [C, N] bool
    life_lost: Array  # [C, N] bool
    first: Array  # [C, N] bool
    reset: Array  # [C, N] bool
    tree: Array  # [2P] float32 sum tree; root at 1, leaf of (slot, env) at P + slot * N + env
    max_priority: Array  # () float32, given to newly valid transitions
    num_valid: Array  # () int32, number of leaves with nonzero mass
    write_index: Array  # () int32, next slot to write
    count: Array  # () int32, slots written per env, saturating at C

    @property
    def priority(self) -> Array:
        """[C*N] per-leaf priority (0 = not sampleable): the tree's leaf level, not a copy."""
        num_leaves = self.frames.shape[0] * self.frames.shape[1]
        half = self.tree.shape[0] // 2
        return self.tree[half : half + num_leaves]


class Replay(NamedTuple):
    init: Callable[[Any], ReplayState]  # example Timestep or obs [N, *frame_shape] -> empty state
    add: Callable[[ReplayState, Timestep], ReplayState]  # jitted, state donated
    sample: Callable[..., Batch]  # jitted: (state, key, beta=1.0) -> Batch
    update_priorities: Callable[[ReplayState, Array, Array], ReplayState]  # jitted, state donated
    add_fn: Callable[[ReplayState, Timestep], ReplayState]  # the same, un-jitted, to compose in a larger jit
    sample_fn: Callable[..., Batch]
    update_priorities_fn: Callable[[ReplayState, Array, Array], ReplayState]


# --- sum tree ---------------------------------------------------------------


def _refresh_ancestors(tree: Array, nodes: Array, depth: int) -> Array:
    """Recompute every ancestor of ``nodes`` as left + right, bottom up.

    Recomputing from children (rather than adding deltas) keeps float sums
    consistent forever; duplicate parents just write the same value twice.
    """
    for _ in range(depth):
        nodes = nodes // 2
        tree = tree.at[nodes].set(tree[2 * nodes] + tree[2 * nodes + 1])
    return tree


def _descend(tree: Array, u: Array, depth: int) -> Array:
    """Leaf (0-based) whose cumulative-mass interval contains u, for each u.

    Rounding can push u past a subtree's mass, so never enter a zero-mass
    child: go right iff right has mass and (u >= left or left has none).
    An all-zero tree therefore yields leaf 0.
    """
    node = jnp.ones(u.shape, jnp.int32)
    for _ in range(depth):
        left, right = tree[2 * node], tree[2 * node + 1]
        go_right = (right > 0) & ((u >= left) | (left <= 0))
        u = jnp.where(go_right, u - left, u)
        node = 2 * node + go_right.astype(jnp.int32)
    return node - (1 << depth)


# --- factory ------------------------------------------------------------------


def make_replay(
    capacity_per_env: int,
    num_envs: int,
    batch_size: int,
    frame_stack: int = 4,
    n_step: int = 1,
    gamma: float = 0.99,
    life_loss_terminal: bool = True,
    prioritized: bool = False,
    alpha: float = 0.6,
    eps: float = 1e-6,
) -> Replay:
    """Build the replay's pure functions; all sizes are static (baked in here).

    Total capacity is ``capacity_per_env * num_envs`` transitions.
    """
    C, N, B, S, n = capacity_per_env, num_envs, batch_size, frame_stack, n_step
    if min(N, B, S, n) < 1:
        raise ValueError("num_envs, batch_size, frame_stack and n_step must be >= 1")
    # Below this the slots touched by one add (new, killed, newly valid) alias.
    if C < S + n:
        raise ValueError(f"capacity_per_env={C} must be >= frame_stack + n_step = {S + n}")
    if prioritized and not eps > 0:
        raise ValueError("eps must be > 0 so every valid leaf keeps nonzero mass")
    if not prioritized and C * N > 2**24:
        raise ValueError("uniform replay counts in float32: at most 2^24 transitions")
    depth = max(1, (C * N - 1).bit_length())  # P = 2^depth >= C*N
    P = 1 << depth
    env_ids = jnp.arange(N, dtype=jnp.int32)

    def init(example) -> ReplayState:
        """Empty state; shapes/dtypes from ``example`` (Timestep or its obs).
        Allocation-free under ``jax.eval_shape``."""
        obs = example.obs if hasattr(example, "obs") else example
        if obs.shape[0] != N:
            raise ValueError(f"example obs must be [num_envs={N}, *frame_shape], got {obs.shape}")
        per_slot = lambda dtype: jnp.zeros((C, N), dtype)  # noqa: E731
        return ReplayState(
            frames=jnp.zeros((C, *obs.shape), obs.dtype),
            action=per_slot(jnp.int32),
            reward=per_slot(jnp.float32),
            terminated=per_slot(jnp.bool_),
            truncated=per_slot(jnp.bool_),
            life_lost=per_slot(jnp.bool_),
            first=per_slot(jnp.bool_),
            reset=per_slot(jnp.bool_),
            tree=jnp.zeros((2 * P,), jnp.float32),
            max_priority=jnp.ones((), jnp.float32),
            num_valid=jnp.zeros((), jnp.int32),
            write_index=jnp.zeros((), jnp.int32),
            count=jnp.zeros((), jnp.int32),
        )

    def stack_slots(first: Array, slot: Array, env: Array) -> tuple[Array, Array]:
        """Slots of the frame stack ending at ``slot`` ([..., S], oldest..newest)
        and how many steps back it reaches (to test it is still in the ring)."""
        slots, back = [slot], jnp.zeros_like(slot)
        for _ in range(S - 1):
            cur = slots[-1]
            stay = first[cur, env]  # stack restarts here: repeat this frame
            slots.append(jnp.where(stay, cur, (cur - 1) % C))
            back = back + (~stay).astype(back.dtype)
        return jnp.stack(slots[::-1], axis=-1), back

    def is_valid(state: ReplayState, slot: Array, env: Array) -> Array:
        """Rules 1-3 from scratch for the transition at (slot, env).

        Ages count back from the newest slot (age 0); a slot is in the ring
        iff age < count. Walking the stack only moves to older slots, so the
        stack is intact iff its oldest frame's age < count.
        """
        age = (state.write_index - 1 - slot) % C
        _, back = stack_slots(state.first, slot, env)
        return (age >= n) & (age + back < state.count) & ~state.reset[(slot + 1) % C, env]

    def add_fn(state: ReplayState, ts: Timestep) -> ReplayState:
        """Write one env iteration at ``write_index`` and update the tree.

        Only 1 + (S-1) + 1 slots per env can change validity: the one just
        overwritten (its old transition dies, the new one is not ready), the
        S-1 after it (their stacks may have reached into the overwritten
        frame), and slot w - n (its n-step window just completed).
        """
        w = state.write_index
        put = lambda buf, x: jax.lax.dynamic_update_index_in_dim(buf, jnp.asarray(x, buf.dtype), w, 0)  # noqa: E731
        state = state.replace(
            frames=put(state.frames, ts.obs),
            action=put(state.action, ts.action),
            reward=put(state.reward, ts.reward),
            terminated=put(state.terminated, ts.terminated),
            truncated=put(state.truncated, ts.truncated),
            life_lost=put(state.life_lost, ts.life_lost),
            first=put(state.first, ts.first),
            reset=put(state.reset, ts.reset),
            write_index=(w + 1) % C,
            count=jnp.minimum(state.count + 1, C),
        )

        # Distinct because C >= S + n, so one scatter suffices.
        shifts = jnp.concatenate([jnp.arange(S, dtype=jnp.int32), jnp.array([-n], jnp.int32)])
        slot = jnp.broadcast_to(((w + shifts) % C)[:, None], (S + 1, N))  # new, S-1 maybe-killed, newly ready
        env = jnp.broadcast_to(env_ids, (S + 1, N))
        leaf = P + slot * N + env  # [S+1, N]
        old = state.tree[leaf]
        valid = is_valid(state, slot, env)
        kept = jnp.where(valid, old, 0.0)  # the new slot is never valid yet (n >= 1)
        ready = jnp.where(valid[-1], state.max_priority, 0.0)
        new = kept.at[-1].set(ready)

        tree = state.tree.at[leaf.ravel()].set(new.ravel())
        tree = _refresh_ancestors(tree, leaf.ravel(), depth)
        num_valid = state.num_valid + jnp.sum(new > 0) - jnp.sum(old > 0)
        return state.replace(tree=tree, num_valid=num_valid.astype(jnp.int32))

    def sample_fn(state: ReplayState, key: Array, beta: float | Array = 1.0) -> Batch:
        """Draw B transitions with P(i) = p_i / sum p (stratified over B equal
        slices of the total mass). If nothing is valid yet (tree total 0) it
        returns at once a well-shaped batch of leaf 0's meaningless contents
        with weight 0 everywhere: the caller samples only after warm-up."""
        total = state.tree[1]
        u = (jnp.arange(B) + jax.random.uniform(key, (B,))) * (total / B)
        index = jnp.minimum(_descend(state.tree, u, depth), C * N - 1)  # clamp: padding leaves only reachable when empty
        slot, env = index // N, index % N

        # n-step return, vectorised over m = 1..n.
        m = jnp.arange(1, n + 1)
        ahead = (slot[:, None] + m) % C
        envs = env[:, None]
        rewards = state.reward[ahead, envs]
        ended = state.terminated[ahead, envs]
        if life_loss_terminal:
            ended = ended | state.life_lost[ahead, envs]
        cut = state.reset[(ahead + 1) % C, envs] & (m < n)  # next slot starts another stream
        stop = ended | state.truncated[ahead, envs] | (m == n) | cut
        running = (jnp.cumsum(stop, axis=1) - stop) == 0  # no stop strictly before m
        powers = jnp.float32(gamma) ** jnp.arange(n, dtype=jnp.float32)
        reward = jnp.sum(jnp.where(running, powers * rewards, 0.0), axis=1)
        stop_at = jnp.argmax(stop, axis=1)  # first stop; m == n guarantees one
        m_star = stop_at + 1
        terminal = jnp.take_along_axis(ended, stop_at[:, None], axis=1)[:, 0]
        discount = jnp.where(terminal, 0.0, jnp.float32(gamma) ** m_star.astype(jnp.float32))

        def stack(at: Array) -> Array:
            frames = state.frames[stack_slots(state.first, at, env)[0], envs]  # [B, S, *frame]
            return frames[:, 0] if S == 1 else frames

        p = state.tree[P + index]
        if prioritized:
            # w_i = (N_valid * P(i))^-beta / max_j w_j; the guards only matter when empty (no NaNs).
            prob = jnp.where(p > 0, p / total, 1.0)
            weight = (jnp.maximum(state.num_valid, 1) * prob) ** (-jnp.asarray(beta, jnp.float32))
            weight = weight / jnp.max(weight)
        else:
            weight = jnp.ones((B,), jnp.float32)
        weight = jnp.where(total > 0, weight, 0.0)

        return Batch(
            obs=stack(slot),
            action=state.action[slot, env],
            reward=reward.astype(jnp.float32),
            discount=discount.astype(jnp.float32),
            next_obs=stack((slot + m_star) % C),
            weight=weight.astype(jnp.float32),
            index=index.astype(jnp.int32),
        )

    def update_priorities_fn(state: ReplayState, index: Array, td_abs: Array) -> ReplayState:
        """Set p = (|td| + eps)^alpha on leaves that are still valid; invalid
        leaves stay 0. A no-op for uniform replay. Duplicate indices take the
        largest p. An index whose slot was overwritten and became valid again
        since it was sampled receives the stale priority (harmless: the
        trainer updates right after sampling)."""
        if not prioritized:
            return state
        leaf = P + jnp.ravel(jnp.asarray(index, jnp.int32))
        p = (jnp.abs(jnp.ravel(td_abs)).astype(jnp.float32) + eps) ** alpha
        p = jnp.maximum(p, jnp.finfo(jnp.float32).tiny)  # valid must stay > 0 for num_valid
        p = jnp.where(state.tree[leaf] > 0, p, 0.0)
        # Duplicates all write their max, so the scatter is deterministic (B^2 is tiny).
        p = jnp.max(jnp.where(leaf[:, None] == leaf[None, :], p[None, :], 0.0), axis=1)
        tree = state.tree.at[leaf].set(p)
        tree = _refresh_ancestors(tree, leaf, depth)
        return state.replace(tree=tree, max_priority=jnp.maximum(state.max_priority, jnp.max(p)))

    return Replay(
        init=init,
        add=jax.jit(add_fn, donate_argnums=0),
        sample=jax.jit(sample_fn),
        update_priorities=jax.jit(update_priorities_fn, donate_argnums=0),
        add_fn=add_fn,
        sample_fn=sample_fn,
        update_priorities_fn=update_priorities_fn,
    )


def state_bytes(replay: Replay, example) -> int:
    """Bytes of the replay state for ``example``, measured with jax.eval_shape
    (nothing is allocated)."""
    shapes = jax.eval_shape(replay.init, example)
    return sum(leaf.size * leaf.dtype.itemsize for leaf in jax.tree_util.tree_leaves(shapes))
