"""One frozen dataclass holds every knob; its defaults are Nature DQN.

All schedule lengths are in **agent steps summed over all environments**
(one agent step = 4 emulator frames on Atari), as in DeepMind's released code,
not in frames as the paper's table says. Presets are named `Config` instances.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any


class ConfigError(ValueError):
    """An impossible configuration; its message is one line meant for the user."""


@dataclasses.dataclass(frozen=True)
class Config:
    # --- environment -------------------------------------------------------
    env_id: str = "Breakout"  # Atari game name, "Pong-v5", "CartPole-v1", "Breakout-ram", ...
    num_envs: int = 8  # envs stepped together; every schedule below counts all of them
    seed: int = 0
    seeds: tuple[int, ...] = ()  # train these seeds side by side (vmapped); empty: just `seed`
    noop_max: int = 30
    sticky_action_prob: float = 0.0  # 0.25 for the Machado et al. protocol
    full_action_space: bool = False
    fire_reset: bool = False  # envpool presses FIRE on reset by default; Nature did not
    max_episode_steps: int = 27_000  # truncation (time limit), agent steps per game
    life_loss_terminal: bool = True  # cut the bootstrap at a lost life (learning only)
    reward_clip: bool = True  # sign-clip rewards for learning only; scores stay raw

    # --- schedule (agent steps, all envs) -----------------------------------
    total_steps: int = 12_500_000  # 50M frames
    warmup_steps: int = 50_000  # uniform-random play before the first update
    replay_capacity: int = 1_000_000
    batch_size: int = 32
    steps_per_update: int = 4  # one gradient update per this many agent steps
    target_update: str = "hard"  # "hard" copy every period, or "soft" (Polyak) every update
    target_update_period: int = 10_000  # agent steps between hard copies
    soft_tau: float = 0.005

    # --- learning -----------------------------------------------------------
    gamma: float = 0.99
    n_step: int = 1
    target: str = "q_learning"  # or "double"
    loss: str = "huber"  # or "mse"
    optimizer: str = "nature_rmsprop"  # or "adam"
    learning_rate: float = 2.5e-4
    rmsprop_decay: float = 0.95
    rmsprop_min_sq_grad: float = 0.01  # DeepMind's constant, for a loss *summed* over the batch
    adam_eps: float = 1e-8
    augmentation: str = "none"  # DrQ "shift" of obs/next_obs in the update, or "shift_intensity"
    augment_pad: int = 4  # random shift: edge-pad this many pixels, crop back (DrQ: 4)

    # --- network ------------------------------------------------------------
    torso: str = "auto"  # "nature_cnn" for pixels, "mlp" for vectors; auto picks by observation
    mlp_hidden: tuple[int, ...] = (256,)
    head_hidden: int = 512
    dueling: bool = False

    # --- exploration ----------------------------------------------------------
    epsilon_schedule: str = "linear"  # or "exponential"
    epsilon_start: float = 1.0
    epsilon_end: float = 0.1
    epsilon_decay_steps: int = 1_000_000  # counted from the end of warm-up

    # --- replay -----------------------------------------------------------
    replay: str = "uniform"  # or "prioritized"
    per_alpha: float = 0.6
    per_beta_start: float = 0.4
    per_beta_end: float = 1.0  # reached at total_steps
    per_eps: float = 1e-6

    # --- evaluation ---------------------------------------------------------
    eval_every: int = 250_000  # agent steps; 0 disables periodic evaluation
    eval_episodes: int = 30
    eval_epsilon: float = 0.05
    eval_max_episode_steps: int = 4_500  # 18,000 frames = 5 minutes of play
    eval_num_envs: int = 0  # 0: one env per evaluation episode, capped at 32

    # --- bookkeeping ----------------------------------------------------------
    log_every: int = 10_000  # agent steps between training-metric log rows
    checkpoint_every: int = 500_000  # agent steps; 0: only at the end and on signals
    checkpoint_replay: bool = False  # the replay is large (7 GB for Atari at 1M)

    # ------------------------------------------------------------------------
    def replace(self, **changes: Any) -> "Config":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "Config":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ConfigError(f"unknown config field(s): {', '.join(unknown)}")
        values = dict(values)
        for name in ("mlp_hidden", "seeds"):
            if name in values:
                values[name] = tuple(values[name])
        return cls(**values)

    # Derived quantities ---------------------------------------------------
    @property
    def all_seeds(self) -> tuple[int, ...]:
        return self.seeds or (self.seed,)

    @property
    def capacity_per_env(self) -> int:
        return self.replay_capacity // self.num_envs

    @property
    def target_update_period_updates(self) -> int:
        """Hard-copy period in gradient updates (Nature: 10,000 / 4 = 2,500)."""
        return self.target_update_period // self.steps_per_update

    def validate(self) -> "Config":
        """Raise ConfigError naming the first impossible value; return self if fine."""
        _check_choice("target", self.target, ("q_learning", "double"))
        _check_choice("loss", self.loss, ("huber", "mse"))
        _check_choice("optimizer", self.optimizer, ("nature_rmsprop", "adam"))
        _check_choice("torso", self.torso, ("auto", "nature_cnn", "mlp"))
        _check_choice("target_update", self.target_update, ("hard", "soft"))
        _check_choice("epsilon_schedule", self.epsilon_schedule, ("linear", "exponential"))
        _check_choice("replay", self.replay, ("uniform", "prioritized"))
        _check_choice("augmentation", self.augmentation, ("none", "shift", "shift_intensity"))
        if self.augment_pad < 0:
            raise ConfigError(f"augment_pad must be >= 0, got {self.augment_pad}")
        positive = (
            "num_envs", "total_steps", "replay_capacity", "batch_size", "steps_per_update",
            "target_update_period", "n_step", "head_hidden", "eval_episodes",
            "eval_max_episode_steps", "max_episode_steps", "log_every",
        )
        for name in positive:
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be positive, got {getattr(self, name)}")
        non_negative = ("warmup_steps", "noop_max", "eval_every", "checkpoint_every",
                        "epsilon_decay_steps", "eval_num_envs", "seed")
        for name in non_negative:
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must be >= 0, got {getattr(self, name)}")
        if not self.learning_rate > 0:
            raise ConfigError(f"learning_rate must be positive, got {self.learning_rate}")
        if not 0.0 <= self.gamma <= 1.0:
            raise ConfigError(f"gamma must be in [0, 1], got {self.gamma}")
        if self.n_step > 10:
            raise ConfigError(f"n_step must be in 1..10, got {self.n_step}")
        for name in ("epsilon_start", "epsilon_end", "eval_epsilon", "sticky_action_prob",
                     "per_beta_start", "per_beta_end"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ConfigError(f"{name} must be in [0, 1], got {getattr(self, name)}")
        if not 0.0 < self.soft_tau <= 1.0:
            raise ConfigError(f"soft_tau must be in (0, 1], got {self.soft_tau}")
        if self.per_alpha < 0:
            raise ConfigError(f"per_alpha must be >= 0, got {self.per_alpha}")
        if not self.per_eps > 0:
            raise ConfigError(f"per_eps must be positive, got {self.per_eps}")
        for name in ("rmsprop_min_sq_grad", "adam_eps"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"{name} must be positive, got {getattr(self, name)}")
        if not 0.0 <= self.rmsprop_decay < 1.0:
            raise ConfigError(f"rmsprop_decay must be in [0, 1), got {self.rmsprop_decay}")
        if any(s < 0 for s in self.seeds) or len(set(self.seeds)) != len(self.seeds):
            raise ConfigError(f"seeds must be distinct and >= 0, got {self.seeds}")
        if any(h <= 0 for h in self.mlp_hidden):
            raise ConfigError(f"mlp_hidden sizes must be positive, got {self.mlp_hidden}")
        if self.replay_capacity % self.num_envs:
            raise ConfigError(
                f"replay_capacity ({self.replay_capacity}) must be a multiple of "
                f"num_envs ({self.num_envs}): each env owns an equal ring")
        if self.capacity_per_env < self.n_step + 4:
            raise ConfigError(
                f"replay_capacity per env ({self.capacity_per_env}) must exceed n_step + "
                f"frame stack ({self.n_step + 4})")
        if self.batch_size > self.replay_capacity:
            raise ConfigError(
                f"batch_size ({self.batch_size}) is larger than replay_capacity "
                f"({self.replay_capacity})")
        if self.warmup_steps < self.batch_size:
            raise ConfigError(
                f"warmup_steps ({self.warmup_steps}) must be at least batch_size "
                f"({self.batch_size}): the first update needs a full batch of transitions")
        if self.warmup_steps > self.replay_capacity:
            raise ConfigError(
                f"warmup_steps ({self.warmup_steps}) exceeds replay_capacity "
                f"({self.replay_capacity}): warm-up data would be overwritten before use")
        if self.warmup_steps >= self.total_steps:
            raise ConfigError(
                f"warmup_steps ({self.warmup_steps}) must be below total_steps "
                f"({self.total_steps}), or nothing is learned")
        per_iter = self.num_envs / self.steps_per_update
        if not (per_iter.is_integer() or (1 / per_iter).is_integer()):
            raise ConfigError(
                f"num_envs ({self.num_envs}) and steps_per_update ({self.steps_per_update}) "
                "must divide one another so updates fall on whole env iterations")
        if self.target_update == "hard" and self.target_update_period % self.steps_per_update:
            raise ConfigError(
                f"target_update_period ({self.target_update_period}) must be a multiple of "
                f"steps_per_update ({self.steps_per_update})")
        if self.eval_num_envs > self.eval_episodes:
            raise ConfigError(
                f"eval_num_envs ({self.eval_num_envs}) exceeds eval_episodes "
                f"({self.eval_episodes})")
        return self


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}; got {value!r}")


# --- presets ------------------------------------------------------------------
NATURE = Config()

# CartPole-v1 with Nature's components (RMSProp, Huber, hard target copies,
# Q-learning) at a scale a 2-core CPU trains in a couple of minutes. Tuned by a
# small sweep over lr, batch and target period (seeds 0 and 1, see README).
CARTPOLE = Config(
    env_id="CartPole-v1",
    num_envs=4,
    total_steps=100_000,
    warmup_steps=1_000,
    replay_capacity=100_000,
    batch_size=64,
    steps_per_update=1,
    target_update_period=250,
    learning_rate=5e-4,
    torso="mlp",
    mlp_hidden=(128,),
    head_hidden=128,
    epsilon_end=0.02,
    epsilon_decay_steps=10_000,
    reward_clip=False,
    life_loss_terminal=False,
    noop_max=0,
    max_episode_steps=500,
    eval_every=5_000,
    eval_episodes=20,
    eval_epsilon=0.0,  # CartPole is solved by the greedy policy; Atari keeps 0.05
    eval_max_episode_steps=500,
    log_every=4_000,
    checkpoint_every=0,
)

# What each named variant changes relative to Nature DQN: component fields only,
# so the same variant applies at any scale (`ablate` puts them on a CartPole base).
VARIANTS: dict[str, dict[str, Any]] = {
    "nature": {},
    "double": {"target": "double"},
    "dueling": {"dueling": True},
    "prioritized": {"replay": "prioritized"},
    "rainbow-lite": {"target": "double", "dueling": True, "n_step": 3, "replay": "prioritized"},
    "cleanrl": {"optimizer": "adam", "learning_rate": 1e-4, "loss": "mse", "epsilon_end": 0.01},
    # single-component ablations
    "n-step-3": {"n_step": 3},
    "soft-target": {"target_update": "soft", "soft_tau": 0.005},
    "mse": {"loss": "mse"},
    "adam": {"optimizer": "adam", "learning_rate": 6.25e-5, "adam_eps": 1.5e-4},
    "exp-epsilon": {"epsilon_schedule": "exponential"},
    "no-reward-clip": {"reward_clip": False},
    "no-life-loss": {"life_loss_terminal": False},
}

# DrQ(epsilon) on Atari 100k (Agarwal et al. 2021, "Deep RL at the Edge of the
# Statistical Precipice", sec. and app. on DrQ(eps)), as Dopamine configures it
# in google/dopamine dopamine/labs/atari_100k/configs/DrQ_eps.gin (read at commit
# 5873f54, 2026-03-24; the values are unchanged since the file's 2021 version):
#   gamma 0.99, update_horizon 10, min_replay_history 1600, update_period 1,
#   target_update_period 1 (the target is the online net of the previous update),
#   epsilon_train 0.01, epsilon_eval 0.001, epsilon_decay_period 5000 (linear,
#   after the warm-up), Adam lr 1e-4 eps 1.5e-4 (from DER), dueling + double,
#   no noisy nets, non-distributional (Huber loss), uniform replay, batch 32,
#   capacity 1M ("a proxy for unbounded memory": 100k never overwrites either),
#   data_augmentation True, sticky_actions False, terminal_on_life_loss True,
#   10 iterations x 10,000 agent steps, 100 evaluation episodes,
#   max_steps_per_episode 27,000.
# Augmentation: dopamine/labs/atari_100k/atari_100k_rainbow_agent.py, pad 4 by edge
# replication, random crop, then intensity noise (scale 0.05), independent keys
# for s and s'. Dopamine's AtariPreprocessing does no no-op starts (noop_max 0),
# presses no FIRE on reset, clips rewards in the runner. Differences: README.
DATA_EFFICIENT = Config(
    num_envs=1,  # one stream, one update per agent step, as in Dopamine
    noop_max=0,
    total_steps=100_000,  # 400k frames
    warmup_steps=1_600,
    replay_capacity=100_000,
    batch_size=32,
    steps_per_update=1,
    target_update_period=1,
    n_step=10,
    target="double",
    optimizer="adam",
    learning_rate=1e-4,
    adam_eps=1.5e-4,
    dueling=True,
    augmentation="shift_intensity",
    epsilon_end=0.01,
    epsilon_decay_steps=5_000,
    eval_every=0,  # Dopamine's protocol scores the final agent only
    eval_episodes=100,
    eval_epsilon=0.001,
    eval_max_episode_steps=27_000,
    log_every=1_000,
    checkpoint_every=5_000,  # 3-30 min here: a killed run loses little
    checkpoint_replay=True,  # 0.7 GB at 100k frames: resume without a new warm-up
)

PRESETS: dict[str, Config] = {
    "nature": NATURE,
    "cartpole": CARTPOLE,
    "double": NATURE.replace(**VARIANTS["double"]),
    "dueling": NATURE.replace(**VARIANTS["dueling"]),
    "prioritized": NATURE.replace(**VARIANTS["prioritized"]),
    "rainbow-lite": NATURE.replace(**VARIANTS["rainbow-lite"]),
    # CleanRL's dqn_atari: Adam 1e-4, MSE, target copy every 1,000 steps,
    # epsilon -> 0.01 over 10% of training, 80,000 steps of warm-up.
    "cleanrl": NATURE.replace(**VARIANTS["cleanrl"], target_update_period=1_000,
                              epsilon_decay_steps=NATURE.total_steps // 10,
                              warmup_steps=80_000),
    "data-efficient": DATA_EFFICIENT,
}


def get_preset(name: str) -> Config:
    if name not in PRESETS:
        raise ConfigError(f"unknown preset {name!r}; choose from {', '.join(PRESETS)}")
    return PRESETS[name]


def apply_variant(base: Config, name: str) -> Config:
    """`base` with the component changes of variant `name` (see VARIANTS)."""
    if name not in VARIANTS:
        raise ConfigError(f"unknown variant {name!r}; choose from {', '.join(VARIANTS)}")
    return base.replace(**VARIANTS[name])
