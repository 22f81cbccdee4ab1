"""Environments behind one step record (`step.EnvStep`). The env table (`table`) has one
entry per env: its kind (`kinds`), its JAX adapter (`jax_envs`: gymnax's CartPole,
Acrobot and MinAtar), its envpool id (`envpool` on host threads, `envpool_xla` inside
jit), its player (`players`) and its base preset; `observations` crops and resizes frames."""
