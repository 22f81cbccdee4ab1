"""Accelerator-resident, frame-deduplicated ring replay as pure functions.

    sum_tree.py  the sum tree: init, set leaves, stratified descent (prioritized replay)
    frames.py    the frame ring: one frame per slot, stack rebuild, validity
    nstep.py     n-step returns and discounts
    buffer.py    the API: init / add / sample / update_priorities(params, ...)

    params = ReplayParams(capacity_per_env, num_envs, batch_size, ...)
    state = init(params, example_timestep)
    state = jax.jit(functools.partial(add, params), donate_argnums=0)(state, timestep)
    batch = sample(params, state, key, beta)        # inside the caller's jit

It knows nothing of the Config (a layer below it): `config.Config.validate` checks a
run's replay sizes with the replay's own `check_ring_fits` and `MAX_TRANSITIONS`.
"""

from purejaxdqn.replay.buffer import (FLAGS, MAX_TRANSITIONS, Batch, ReplayParams, ReplayState,
                                      StepFlags, Timestep, add, check_ring_fits, init, sample,
                                      state_bytes, update_priorities)

__all__ = ["FLAGS", "MAX_TRANSITIONS", "Batch", "ReplayParams", "ReplayState", "StepFlags",
           "Timestep", "add", "check_ring_fits", "init", "sample", "state_bytes",
           "update_priorities"]
