"""The seed axis: independent agents side by side, and how their work shares devices.

* `seed_sharding`: the leading seed axis split over local devices (no communication:
  the seeds are independent).
* `over_seed_groups` / `auto_seed_group`: the seeds' updates vmapped in groups, the
  groups one after another, where vmapping all of them is slower (XLA:CPU convolutions).

The agent (agent.py) vmaps its functions over this axis and uses these to place and
group it; the engines and the loop see only the stacked state.
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from purejaxdqn.components.networks import Network
from purejaxdqn.envs.envpool import EnvSpec


def seed_sharding(num_seeds: int, devices=None):
    """A NamedSharding that splits the leading seed axis over `devices` (default: all
    local devices), or None when there is one device. Seeds run independently, so
    the sharded program has no cross-device communication. When the device count
    does not divide the number of seeds, the largest count that does is used
    (3 seeds on 4 devices: 3 devices; 5 seeds: 1, i.e. no sharding)."""
    devices = list(jax.local_devices() if devices is None else devices)
    used = max(d for d in range(1, len(devices) + 1) if num_seeds % d == 0)
    if used == 1:
        return None
    mesh = jax.sharding.Mesh(np.array(devices[:used]), ("seed",))
    return jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("seed"))



# Seed groups of more than this many run in a fori_loop, fewer are unrolled: XLA:CPU runs
# convolution gradients inside a loop about 8x slower (see the module docstring), and a few
# unrolled copies of the update compile in acceptable time.
MAX_UNROLLED_GROUPS = 8


def over_seed_groups(fn: Callable, group: int) -> Callable:
    """`fn` (a function of pytrees with a leading seed axis, e.g. a vmapped update) run on
    `group` seeds at a time, the groups one after another, then the seeds left over; the
    outputs are put back in seed order. `group` 0 (or >= the seed count): one call.

    Why: vmapping the updates of many seeds in one call is not always fastest. On XLA:CPU
    vmapped convolutions run slower than the same convolutions one seed after another
    (Nature DQN, 2 seeds: 0.56x one seed's total steps/s vmapped, 1.16x one at a time;
    benchmarks/results/seeds_cpu.json); `auto_seed_group` picks the group. Each seed's
    result is the same whichever way the seeds are grouped (tested)."""

    def run(*args):
        size = jax.tree_util.tree_leaves(args)[0].shape[0]
        if group <= 0 or group >= size:
            return fn(*args)

        def part(start, count):
            return fn(*jax.tree_util.tree_map(
                lambda x: jax.lax.dynamic_slice_in_dim(x, start, count), args))

        full, tail = divmod(size, group)
        if full + bool(tail) <= MAX_UNROLLED_GROUPS:
            parts = [part(g * group, group) for g in range(full)]
            parts += [part(full * group, tail)] if tail else []
            return jax.tree_util.tree_map(lambda *p: jnp.concatenate(p), *parts)

        shapes = jax.eval_shape(lambda: part(0, group))
        out = jax.tree_util.tree_map(lambda s: jnp.zeros((size,) + s.shape[1:], s.dtype),
                                     shapes)

        def put(out, start, result):
            return jax.tree_util.tree_map(
                lambda o, r: jax.lax.dynamic_update_slice_in_dim(o, r, start, 0), out, result)

        out = jax.lax.fori_loop(0, full, lambda g, o: put(o, g * group, part(g * group, group)),
                                out)
        return put(out, full * group, part(full * group, tail)) if tail else out

    return run


def auto_seed_group(network: Network, spec: EnvSpec, sharding=None) -> int:
    """How many seeds' updates to vmap together when the config leaves it to us, as
    measured (benchmarks/results/seeds_cpu.json): on XLA:CPU a network with convolutions
    updates one seed at a time (Nature DQN on Atari, 2 seeds: 0.56x one seed's total
    vmapped, 1.16x one after another), anything else all seeds at once (MinAtar's im2col
    CNN, 16 seeds: 1.67x vmapped, 1.26x in groups of 4; MLPs: matmuls batch well).
    Seeds sharded over devices are never grouped (a group would gather across them)."""
    if jax.default_backend() != "cpu" or sharding is not None:
        return 0
    obs = jax.ShapeDtypeStruct((1,) + tuple(spec.obs_shape), spec.obs_dtype)
    params = jax.eval_shape(network.init, jax.random.PRNGKey(0), obs)
    key = jax.random.PRNGKey(0) if network.stochastic else None  # IQN samples: needs one
    jaxpr = jax.make_jaxpr(lambda p, o: network.apply(p, o, key))(params, obs).jaxpr
    return 1 if _has_primitive(jaxpr, "conv_general_dilated") else 0


def _has_primitive(jaxpr, name: str) -> bool:
    """Whether `jaxpr` (or a jaxpr nested in it: pjit, custom_vjp, loops) calls `name`."""
    for eqn in jaxpr.eqns:
        if eqn.primitive.name == name:
            return True
        for value in eqn.params.values():
            for sub in value if isinstance(value, (tuple, list)) else (value,):
                inner = getattr(sub, "jaxpr", sub)
                if hasattr(inner, "eqns") and _has_primitive(inner, name):
                    return True
    return False
