"""The replay buffer: ``init / add / sample / update_priorities`` as pure functions.

Every function takes the static ``ReplayParams`` first; the caller decides
where to jit, e.g. ``jax.jit(functools.partial(add, params), donate_argnums=0)``
or inside a larger jitted step.

Storage is the frame ring of ``frames.py`` (one slot per env iteration, C
slots per env); returns are ``nstep.py``'s. A sum tree (``sum_tree.py``)
holds one leaf per (slot, env): the priority if the transition is valid,
else 0. Prioritized replay: ``add`` keeps the sums exact incrementally, so
sampling is a fixed-depth descent with no rejection loop. Uniform replay has
priority 1 for every valid transition and keeps the leaves only (no sums): it
draws uniformly among the written transitions and redraws the few invalid
draws, as cheap on XLA:CPU as a gather where the ~17-level descent was ~40% of a
CartPole update.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, NamedTuple

import flax
import jax
import jax.numpy as jnp

from purejaxdqn.replay import frames, nstep, sum_tree
from purejaxdqn.settings import ConfigError

Array = jax.Array
# Prioritized replay's sum tree adds float32 masses, exact only up to 2^24 leaves, so a
# replay holds at most this many transitions (Config.validate refuses more). Uniform
# replay keeps the bound, which its leaves-only sampling no longer needs.
MAX_TRANSITIONS = 2**24


class StepFlags(NamedTuple):
    """What one env step says about its episode, [N] bool each. The one place
    the flags are named: ``Timestep`` and the ring's storage take their fields
    from here (``FLAGS``)."""

    terminated: Array  # arriving here ended the game: no bootstrap
    truncated: Array  # arriving here hit the time limit: bootstrap through it
    life_lost: Array  # arriving here lost a life (stack continues)
    first: Array  # the frame stack restarts here
    reset: Array  # auto-reset step: (previous slot -> this slot) is not a transition


FLAGS: tuple[str, ...] = StepFlags._fields

Timestep = NamedTuple("Timestep", [("obs", Array), ("action", Array), ("reward", Array),
                                   *((name, Array) for name in FLAGS)])
Timestep.__doc__ = """One env iteration, batched over N envs (what ``add`` consumes).

    obs     [N, *frame_shape] newest frame only (Atari: envpool obs[:, -1]); vector envs: [N, D]
    action  [N] int32, taken AT this obs
    reward  [N] float32, received on ARRIVING at this obs (0 at a reset)
    and one [N] bool per ``StepFlags`` field."""

# Per-slot scalars of the ring, [C, N] each, with their dtypes (frames aside).
_SLOT_DTYPES = {"action": jnp.int32, "reward": jnp.float32, **{name: jnp.bool_ for name in FLAGS}}


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


# The ring's slot arrays: frames [C, N, *frame_shape], then one [C, N] array per
# _SLOT_DTYPES entry. A base dataclass so that the flags come from FLAGS while the
# fields stay flat (a checkpoint saves one array per field name).
_Slots = dataclasses.make_dataclass(
    "_Slots", [("frames", Array), *((name, Array) for name in _SLOT_DTYPES)], frozen=True)


@flax.struct.dataclass
class ReplayState(_Slots):
    """The ring's slot arrays (frames, action, reward, one per flag; see ``_Slots``) and:"""

    # [2P] float32 sum tree; root at 1, leaf of (slot, env) at P + slot * N + env (uniform
    # replay keeps the leaves only: its sums are 0, or stale in an older checkpoint)
    tree: Array
    max_priority: Array  # () float32, given to newly valid transitions
    num_valid: Array  # () int32, number of leaves with nonzero mass
    write_index: Array  # () int32, next slot to write
    count: Array  # () int32, slots written per env, saturating at C

    @property
    def priority(self) -> Array:
        """[C*N] per-leaf priority (0 = not sampleable): the tree's leaf level, not a copy."""
        return sum_tree.leaves(self.tree, self.frames.shape[0] * self.frames.shape[1])


def check_ring_fits(capacity_per_env: int, frame_stack: int, n_step: int) -> None:
    """ConfigError unless each env's ring holds a frame stack plus an n-step window: below
    that, the slots one ``add`` touches (new, killed, newly valid) alias. The one copy of
    the rule: ``ReplayParams`` checks itself with it and ``Config.validate`` the run."""
    if capacity_per_env < frame_stack + n_step:
        raise ConfigError(f"replay_capacity per env ({capacity_per_env}) must be at least "
                          f"frame_stack + n_step ({frame_stack + n_step})")


@dataclasses.dataclass(frozen=True)
class ReplayParams:
    """Static sizes and flags (hashable: jit with it static or close over it).
    Total capacity is ``capacity_per_env * num_envs`` transitions."""

    capacity_per_env: int
    num_envs: int
    batch_size: int
    frame_stack: int = 4
    n_step: int = 1
    gamma: float = 0.99
    life_loss_terminal: bool = True  # a lost life ends the n-step window with discount 0
    prioritized: bool = False  # else uniform (priority 1 for every valid transition)
    alpha: float = 0.6  # prioritized: p = (|td| + eps)^alpha
    eps: float = 1e-6

    def __post_init__(self):
        if min(self.num_envs, self.batch_size, self.frame_stack, self.n_step) < 1:
            raise ValueError("num_envs, batch_size, frame_stack and n_step must be >= 1")
        check_ring_fits(self.capacity_per_env, self.frame_stack, self.n_step)
        if self.prioritized and not self.eps > 0:
            raise ValueError("eps must be > 0 so every valid leaf keeps nonzero mass")
        if not self.prioritized and self.num_leaves > MAX_TRANSITIONS:
            raise ValueError("a replay holds at most 2^24 transitions (MAX_TRANSITIONS)")

    @property
    def num_leaves(self) -> int:
        return self.capacity_per_env * self.num_envs


def init(params: ReplayParams, example: Any) -> ReplayState:
    """Empty state; shapes/dtypes from ``example`` (Timestep or its obs).
    Allocation-free under ``jax.eval_shape``."""
    C, N = params.capacity_per_env, params.num_envs
    obs = example.obs if hasattr(example, "obs") else example
    if obs.shape[0] != N:
        raise ValueError(f"example obs must be [num_envs={N}, *frame_shape], got {obs.shape}")
    return ReplayState(
        frames=jnp.zeros((C, *obs.shape), obs.dtype),
        **{name: jnp.zeros((C, N), dtype) for name, dtype in _SLOT_DTYPES.items()},
        tree=sum_tree.init(params.num_leaves),
        max_priority=jnp.ones((), jnp.float32),
        num_valid=jnp.zeros((), jnp.int32),
        write_index=jnp.zeros((), jnp.int32),
        count=jnp.zeros((), jnp.int32),
    )


def add(params: ReplayParams, state: ReplayState, timestep: Timestep) -> ReplayState:
    """Write one env iteration at ``write_index`` and update the tree.

    Only 1 + (S-1) + 1 slots per env can change validity: the one just
    overwritten (its old transition dies, the new one is not ready), the
    S-1 after it (their stacks may have reached into the overwritten
    frame), and slot w - n (its n-step window just completed).
    """
    C, N, S, n = params.capacity_per_env, params.num_envs, params.frame_stack, params.n_step
    w = state.write_index
    state = state.replace(
        frames=frames.write(state.frames, w, timestep.obs),
        **{name: frames.write(getattr(state, name), w, getattr(timestep, name)) for name in _SLOT_DTYPES},
        write_index=(w + 1) % C,
        count=jnp.minimum(state.count + 1, C),
    )

    # Distinct because C >= S + n, so one scatter suffices.
    shifts = jnp.concatenate([jnp.arange(S, dtype=jnp.int32), jnp.array([-n], jnp.int32)])
    slot = jnp.broadcast_to(((w + shifts) % C)[:, None], (S + 1, N))  # new, S-1 maybe-killed, newly ready
    env = jnp.broadcast_to(jnp.arange(N, dtype=jnp.int32), (S + 1, N))
    index = (slot * N + env).ravel()  # [(S+1) * N]
    old = sum_tree.get(state.tree, index).reshape(S + 1, N)
    valid = frames.is_valid(state, slot, env, S, n)
    kept = jnp.where(valid, old, 0.0)  # the new slot is never valid yet (n >= 1)
    ready = jnp.where(valid[-1], state.max_priority, 0.0)
    new = kept.at[-1].set(ready)

    write = sum_tree.set_leaves if params.prioritized else sum_tree.write_leaves
    tree = write(state.tree, index, new.ravel())
    num_valid = state.num_valid + jnp.sum(new > 0) - jnp.sum(old > 0)
    return state.replace(tree=tree, num_valid=num_valid.astype(jnp.int32))


def sample(params: ReplayParams, state: ReplayState, key: Array, beta: float | Array = 1.0) -> Batch:
    """Draw B transitions: prioritized, with P(i) = p_i / sum p (stratified over B
    equal slices of the total mass); uniform, each independently and uniformly among
    the valid ones (Mnih et al. 2015). If nothing is valid yet it returns at once a
    well-shaped batch of meaningless contents with weight 0 everywhere: the caller
    samples only after warm-up."""
    C, N, B, S = params.capacity_per_env, params.num_envs, params.batch_size, params.frame_stack
    if params.prioritized:
        total = sum_tree.total(state.tree)
        # clamp: padding leaves are only reachable when the tree is empty
        index = jnp.minimum(sum_tree.stratified_sample(state.tree, key, B), C * N - 1)
    else:
        total = state.num_valid
        index = _uniform_valid(state, key, B, N)
    slot, env = index // N, index % N
    reward, discount, m_star = nstep.returns(state, slot, env, params.n_step, params.gamma,
                                             params.life_loss_terminal)

    p = sum_tree.get(state.tree, index)
    if params.prioritized:
        # w_i = (N_valid * P(i))^-beta / max_j w_j; the guards only matter when empty (no NaNs).
        prob = jnp.where(p > 0, p / total, 1.0)
        weight = (jnp.maximum(state.num_valid, 1) * prob) ** (-jnp.asarray(beta, jnp.float32))
        weight = weight / jnp.max(weight)
    else:
        weight = jnp.ones((B,), jnp.float32)
    weight = jnp.where(total > 0, weight, 0.0)

    return Batch(
        obs=frames.stacks(state.frames, state.first, slot, env, S),
        action=state.action[slot, env],
        reward=reward.astype(jnp.float32),
        discount=discount.astype(jnp.float32),
        next_obs=frames.stacks(state.frames, state.first, (slot + m_star) % C, env, S),
        weight=weight.astype(jnp.float32),
        index=index.astype(jnp.int32),
    )


def _uniform_valid(state: ReplayState, key: Array, batch_size: int, num_envs: int) -> Array:
    """[B] leaves, each drawn independently and uniformly among the valid ones: draw
    among the written slots' leaves, redraw the invalid draws until none is left
    (rejection sampling: exact; the invalid leaves are the few slots around the write
    index and at episode starts, so one or two redraws). With nothing valid, the
    first draws unchecked."""
    written = jnp.maximum(state.count, 1) * num_envs  # slots 0..count-1 hold data

    def draw(key: Array) -> Array:
        return jax.random.randint(key, (batch_size,), 0, written, jnp.int32)

    def invalid(index: Array) -> Array:
        return sum_tree.get(state.tree, index) <= 0

    def redraw(carry):
        key, index = carry
        key, sub = jax.random.split(key)
        return key, jnp.where(invalid(index), draw(sub), index)

    def unfinished(carry) -> Array:
        return jnp.any(invalid(carry[1])) & (state.num_valid > 0)

    key, sub = jax.random.split(key)
    return jax.lax.while_loop(unfinished, redraw, (key, draw(sub)))[1]


def update_priorities(params: ReplayParams, state: ReplayState, index: Array, td_abs: Array) -> ReplayState:
    """Set p = (|td| + eps)^alpha on leaves that are still valid; invalid
    leaves stay 0. A no-op for uniform replay. Duplicate indices take the
    largest p. An index whose slot was overwritten and became valid again
    since it was sampled receives the stale priority (harmless: the
    trainer updates right after sampling)."""
    if not params.prioritized:
        return state
    index = jnp.ravel(jnp.asarray(index, jnp.int32))
    p = (jnp.abs(jnp.ravel(td_abs)).astype(jnp.float32) + params.eps) ** params.alpha
    p = jnp.maximum(p, jnp.finfo(jnp.float32).tiny)  # valid must stay > 0 for num_valid
    p = jnp.where(sum_tree.get(state.tree, index) > 0, p, 0.0)
    # Duplicates all write their max, so the scatter is deterministic (B^2 is tiny).
    p = jnp.max(jnp.where(index[:, None] == index[None, :], p[None, :], 0.0), axis=1)
    tree = sum_tree.set_leaves(state.tree, index, p)
    return state.replace(tree=tree, max_priority=jnp.maximum(state.max_priority, jnp.max(p)))


def state_bytes(params: ReplayParams, example: Any) -> int:
    """Bytes of the replay state for ``example``, measured with jax.eval_shape
    (nothing is allocated)."""
    shapes = jax.eval_shape(functools.partial(init, params), example)
    return sum(leaf.size * leaf.dtype.itemsize for leaf in jax.tree_util.tree_leaves(shapes))
