"""Environments behind one step record (`step.EnvStep`): envpool on host threads
(`envpool`), envpool's XLA interface (`envpool_xla`), JAX envs (`jax_envs`: gymnax
CartPole and Acrobot, MinAtar); `kinds` says what each env kind is, `observations`
crops and resizes frames."""
