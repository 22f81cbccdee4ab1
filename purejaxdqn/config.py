"""One frozen dataclass holds every knob; its defaults are Nature DQN.

All schedule lengths are in **agent steps summed over all environments**
(one agent step = 4 emulator frames on Atari), as in DeepMind's released code,
not in frames as the paper's table says. Presets are named `Config` instances.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import json
from collections.abc import Mapping
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
    frame_size: tuple[int, ...] = (84, 84)  # envpool's (img_height, img_width), Atari pixels
    frame_stack: int = 4  # envpool's stack_num; 1 feeds a single frame (note 004)
    obs_crop_rows: tuple[int, ...] = ()  # (top, bottom): keep rows top:bottom of the frame (note 002)
    obs_resize: tuple[int, ...] = ()  # (h, w) nearest-neighbour resize after the crop (note 002)
    obs_transform_on: str = "device"  # crop/resize "device" (in act) or "host" (numpy, env wrapper)

    # --- schedule (agent steps, all envs) -----------------------------------
    total_steps: int = 12_500_000  # 50M frames
    warmup_steps: int = 50_000  # uniform-random play before the first update
    replay_capacity: int = 1_000_000
    batch_size: int = 32
    steps_per_update: int = 4  # one gradient update per this many agent steps
    target_update: str = "hard"  # "hard" copy every period, or "soft" (Polyak) every update
    target_update_period: int = 10_000  # agent steps between hard copies
    soft_tau: float = 0.005
    update_trigger: str = "steps"  # "episodes": updates_per_episode updates after each finished episode
    updates_per_episode: int = 10  # with update_trigger="episodes" (note 003)
    target_update_episodes: int = 20  # finished episodes between copies, target_update="hard_episodes"

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
    reward_scale: float = 1.0  # learning reward = (clipped) reward * reward_scale; note 003 uses 0.01
    augmentation: str = "none"  # DrQ "shift" of obs/next_obs in the update, or "shift_intensity"
    augment_pad: int = 4  # random shift: edge-pad this many pixels, crop back (DrQ: 4)

    # --- network ------------------------------------------------------------
    torso: str = "auto"  # "nature_cnn" for pixels, "mlp" for vectors; auto picks by observation; "two_conv": note 004
    mlp_hidden: tuple[int, ...] = (256,)
    head_hidden: int = 512
    dueling: bool = False

    # --- exploration ----------------------------------------------------------
    epsilon_schedule: str = "linear"  # or "exponential"
    epsilon_start: float = 1.0
    epsilon_end: float = 0.1
    epsilon_decay_steps: int = 1_000_000  # counted from the end of warm-up
    epsilon_decay_episodes: int = 1_400  # episode_linear: finished episodes from start to end
    epsilon_episode_decay: float = 0.995  # episode_exponential: eps = max(end, start * decay**episodes)
    epsilon_step_decay: float = 0.99995  # multiplicative: eps = max(end, start * decay**steps after warm-up)

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
    record_video_every: int = 0  # agent steps between videos of one evaluation game in RUN_DIR/videos/; 0: off

    # --- bookkeeping ----------------------------------------------------------
    log_every: int = 10_000  # agent steps between training-metric log rows
    checkpoint_every: int = 500_000  # agent steps; 0: only at the end and on signals
    checkpoint_replay: bool = True  # save the replay while learning goes on (7 GB for Atari at 1M)
    checkpoint_minutes: float = 10.0  # wall-clock minutes between checkpoints; 0 disables
    wandb_project: str = ""  # W&B project the TensorBoard scalars also go to; "": off

    # --- engine --------------------------------------------------------------------
    engine: str = "auto"  # "host" (envpool, a device call per env iteration), "fused" (JAX envs, one jitted scan), auto
    chunk_iterations: int = 0  # fused: env iterations per device call; 0: sized to take about a second

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
        for name in ("mlp_hidden", "seeds", "frame_size", "obs_crop_rows", "obs_resize"):
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
        for field in dataclasses.fields(self):
            values = getattr(self, field.name)
            for value in values if isinstance(values, tuple) else (values,):
                if type(value) is int and abs(value) > MAX_INT:
                    raise ConfigError(
                        f"{field.name} ({value:,}) is out of range: at most {MAX_INT:,} "
                        "(steps, sizes and seeds are int32 on the device)")
        for name, choices in FIELD_CHOICES.items():
            check_choice(name, getattr(self, name), choices)
        if len(self.frame_size) != 2 or min(self.frame_size) <= 0:
            raise ConfigError(f"frame_size must be two positive sizes, got {self.frame_size}")
        if self.obs_crop_rows and not (len(self.obs_crop_rows) == 2 and
                                       0 <= self.obs_crop_rows[0] < self.obs_crop_rows[1]
                                       <= self.frame_size[0]):
            raise ConfigError(f"obs_crop_rows must be (top, bottom) with 0 <= top < bottom <= "
                              f"frame_size[0] ({self.frame_size[0]}), got {self.obs_crop_rows}")
        if self.obs_resize and (len(self.obs_resize) != 2 or min(self.obs_resize) <= 0):
            raise ConfigError(f"obs_resize must be two positive sizes, got {self.obs_resize}")
        if self.engine == "fused" and self.obs_transform_on == "host" and (
                self.obs_crop_rows or self.obs_resize):
            raise ConfigError("the fused engine crops and resizes on the device: "
                              "use obs_transform_on=device")
        if self.augment_pad < 0:
            raise ConfigError(f"augment_pad must be >= 0, got {self.augment_pad}")
        positive = (
            "num_envs", "total_steps", "replay_capacity", "batch_size", "steps_per_update",
            "target_update_period", "n_step", "head_hidden", "eval_episodes",
            "eval_max_episode_steps", "max_episode_steps", "log_every",
            "updates_per_episode", "target_update_episodes", "epsilon_decay_episodes",
            "frame_stack",
        )
        for name in positive:
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be positive, got {getattr(self, name)}")
        non_negative = ("warmup_steps", "noop_max", "eval_every", "checkpoint_every",
                        "epsilon_decay_steps", "eval_num_envs", "seed", "checkpoint_minutes",
                        "chunk_iterations",
                        "record_video_every")
        for name in non_negative:
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must be >= 0, got {getattr(self, name)}")
        if max(self.all_seeds) > MAX_SEED:
            raise ConfigError(
                f"seeds must be at most {MAX_SEED}, got {max(self.all_seeds)}: each seed owns "
                f"a block of {SEED_BLOCK:,} env seeds and envpool seeds are int32")
        if self.replay_capacity > MAX_REPLAY_CAPACITY:
            raise ConfigError(
                f"replay_capacity ({self.replay_capacity:,}) exceeds 2^24 = "
                f"{MAX_REPLAY_CAPACITY:,}: the sum tree that samples the replay adds float32 "
                "masses, exact only up to 2^24 transitions")
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
        for name in ("epsilon_episode_decay", "epsilon_step_decay"):
            if not 0.0 < getattr(self, name) <= 1.0:
                raise ConfigError(f"{name} must be in (0, 1], got {getattr(self, name)}")
        if not self.reward_scale > 0:
            raise ConfigError(f"reward_scale must be positive, got {self.reward_scale}")
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
        if self.wandb_project:
            check_wandb_project(self.wandb_project)
        if self.eval_num_envs > self.eval_episodes:
            raise ConfigError(
                f"eval_num_envs ({self.eval_num_envs}) exceeds eval_episodes "
                f"({self.eval_episodes})")
        return self


class _FieldChoices(Mapping):
    """field -> allowed values. A "module:TABLE" source is a component registry
    (registry.Registry), read when asked: those modules import this one, so it cannot
    import them, and a component registered later (from outside the package) counts."""

    def __init__(self, sources: dict[str, str | tuple[str, ...]]):
        self._sources = sources

    def __getitem__(self, name: str) -> tuple[str, ...]:
        source = self._sources[name]
        if isinstance(source, tuple):
            return source
        module, table = source.split(":")
        return getattr(importlib.import_module(module), table).names()

    def __iter__(self):
        return iter(self._sources)

    def __len__(self) -> int:
        return len(self._sources)


# Allowed values of the string fields (validate checks them; --help lists them).
FIELD_CHOICES: Mapping[str, tuple[str, ...]] = _FieldChoices({
    "target": "purejaxdqn.targets:TARGETS",
    "loss": "purejaxdqn.losses:LOSSES",
    "optimizer": "purejaxdqn.optimizers:OPTIMIZERS",
    "torso": "purejaxdqn.networks:TORSOS",
    "target_update": "purejaxdqn.target_updates:TARGET_UPDATES",
    "epsilon_schedule": "purejaxdqn.exploration:SCHEDULES",
    "update_trigger": ("steps", "episodes"),
    "augmentation": "purejaxdqn.augmentation:AUGMENTATIONS",
    "obs_transform_on": ("device", "host"),
    "replay": "purejaxdqn.sampling:SAMPLING",
    "engine": ("auto", "host", "fused"),
})

# The replay's sum tree adds float32 masses: sums of ones are exact only up to 2^24.
# Step counters, schedule lengths and sizes become int32 arrays on the device.
MAX_INT = 2**31 - 1
MAX_REPLAY_CAPACITY = 2**24
# Env seeds: seed s owns [s * SEED_BLOCK, (s + 1) * SEED_BLOCK) (see envs.env_seed);
# envpool takes int32 seeds, so s * SEED_BLOCK + SEED_BLOCK must stay below 2^31.
SEED_BLOCK = 2**20
MAX_SEED = 2**31 // SEED_BLOCK - 1

# One line per Config field for `--help` (the CLI adds the default and the choices).
FIELD_HELP: dict[str, str] = {
    "augmentation": "data augmentation of obs and next obs inside the update: none, DrQ's "
                    "random shift, or shift plus intensity noise",
    "augment_pad": "random shift: edge-pad this many pixels, then crop back (DrQ: 4)",
    "frame_size": "Atari frame (height,width) envpool renders before any crop",
    "frame_stack": "Atari frames stacked into one observation (1: a single frame, note 004)",
    "obs_crop_rows": "top,bottom: keep these rows of each Atari frame (note 002; empty: none)",
    "obs_resize": "h,w: nearest-neighbour resize after the crop (note 002; empty: none)",
    "obs_transform_on": "where the crop/resize runs: on device inside act, or on the host",
    "update_trigger": "when updates run: every steps_per_update agent steps, or "
                      "updates_per_episode updates after each finished episode",
    "updates_per_episode": "gradient updates after each finished episode "
                           "(update_trigger episodes)",
    "target_update_episodes": "finished episodes between target copies "
                              "(target_update hard_episodes)",
    "reward_scale": "learning reward = (clipped) reward times this (note 003: 0.01)",
    "epsilon_decay_episodes": "episodes from epsilon_start to epsilon_end (episode_linear)",
    "epsilon_episode_decay": "eps = max(end, start * decay**episodes) (episode_exponential)",
    "epsilon_step_decay": "eps = max(end, start * decay**steps after warm-up) (multiplicative)",
    "env_id": "environment: an Atari game (Breakout, Pong-v5, Breakout-ram) or CartPole-v1",
    "num_envs": "envs stepped together per seed; every schedule counts steps over all of them",
    "seed": "random seed (params, exploration, env seeds) when --seeds is not given",
    "seeds": "comma-separated seeds trained side by side in one process (vmapped)",
    "noop_max": "up to this many random no-op actions at the start of each game",
    "sticky_action_prob": "probability that the emulator repeats the previous action",
    "full_action_space": "use all 18 Atari actions instead of the game's minimal set",
    "fire_reset": "press FIRE after each reset (envpool's default; Nature did not)",
    "max_episode_steps": "training time limit per game, in agent steps (27,000 = 108k frames)",
    "life_loss_terminal": "cut the bootstrap at a lost life (learning only; the game goes on)",
    "reward_clip": "sign-clip rewards for learning (scores stay raw)",
    "total_steps": "agent steps to train per seed, summed over envs (4 frames each on Atari)",
    "warmup_steps": "uniform-random steps that fill the replay before the first update",
    "replay_capacity": "transitions kept in the replay (at most 2^24)",
    "batch_size": "transitions per gradient update",
    "steps_per_update": "agent steps per gradient update (the replay ratio)",
    "target_update": "how the target network follows the online one",
    "target_update_period": "agent steps between hard target copies",
    "soft_tau": "Polyak factor of the soft target update, per update",
    "gamma": "discount factor",
    "n_step": "steps in the bootstrapped return (1 = Nature)",
    "target": "TD target: Q-learning (Nature) or Double DQN",
    "loss": "TD loss: Huber (Nature's clipped error) or squared",
    "optimizer": "optimizer: DeepMind's centered RMSProp, Adam, or PyTorch's centered "
                 "RMSprop (eps outside the sqrt; MinAtar)",
    "learning_rate": "optimizer step size",
    "rmsprop_decay": "RMSProp moving-average decay",
    "rmsprop_min_sq_grad": "RMSProp epsilon, DeepMind's constant for a summed loss "
                           "(torch_rmsprop: PyTorch's eps, for a mean loss)",
    "adam_eps": "Adam epsilon",
    "torso": "network torso; auto picks the Nature CNN for pixels, an MLP for vectors",
    "mlp_hidden": "comma-separated hidden sizes of the MLP torso",
    "head_hidden": "units of the hidden layer after the torso",
    "dueling": "dueling value/advantage head",
    "epsilon_schedule": "shape of the exploration decay",
    "epsilon_start": "exploration epsilon when learning starts",
    "epsilon_end": "exploration epsilon after the decay",
    "epsilon_decay_steps": "agent steps of the epsilon decay, from the end of warm-up",
    "replay": "replay sampling: uniform or proportional prioritized",
    "per_alpha": "prioritized replay exponent on |TD error|",
    "per_beta_start": "importance-weight exponent at the start, annealed to per_beta_end",
    "per_beta_end": "importance-weight exponent reached at total_steps",
    "per_eps": "added to |TD error| so every transition keeps some priority",
    "eval_every": "agent steps between evaluations (0: only at the end)",
    "eval_episodes": "games per evaluation",
    "eval_epsilon": "epsilon of the evaluation policy",
    "eval_max_episode_steps": "evaluation time limit per game, agent steps (4,500 = 18k frames)",
    "eval_num_envs": "evaluation envs (0: one per game, at most 32)",
    "record_video_every": "agent steps between videos of one evaluation game in "
                          "RUN_DIR/videos/ (0: off)",
    "log_every": "agent steps between rows of metrics.jsonl",
    "checkpoint_every": "agent steps between checkpoints (0: none on a step count)",
    "checkpoint_replay": "save the replay in checkpoints so a resume continues learning at "
                         "once (false: a resume refills the replay with a new warm-up)",
    "checkpoint_minutes": "wall-clock minutes between checkpoints (0: none on a clock)",
    "wandb_project": "also log the TensorBoard scalars and the config to this Weights & "
                     "Biases project (needs the wandb extra; offline without an API key)",
    "engine": "host: envs on the host, one device call per env iteration (every env); fused: "
              "env, act, replay and learning inside one jitted scan (JAX envs: CartPole-v1, "
              "Acrobot-v1, *-MinAtar); auto: fused where the env has a JAX version",
    "chunk_iterations": "fused engine: env iterations per device call (0: sized to about one "
                        "second of work); results do not depend on it",
}


# W&B's own rule for project names (wandb.Settings checks it at wandb.init); checked here
# too so a bad name fails before training rather than when logging starts.
WANDB_PROJECT_MAX_LEN, WANDB_PROJECT_BAD_CHARS = 128, "/\\#?%:"


def check_wandb_project(name: str) -> None:
    if set(name) & set(WANDB_PROJECT_BAD_CHARS) or len(name) > WANDB_PROJECT_MAX_LEN:
        raise ConfigError(f"wandb_project must be at most {WANDB_PROJECT_MAX_LEN} characters "
                          f"without any of {' '.join(WANDB_PROJECT_BAD_CHARS)}; got {name!r}")


def check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        close = difflib.get_close_matches(str(value), choices, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigError(f"{name} must be one of {', '.join(choices)}; got {value!r}{hint}")


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
    checkpoint_every=20_000,  # a checkpoint (with its 2 MB replay) every ~12 s of a 1-min run
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

# Young & Tian (2019), "MinAtar: An Atari-Inspired Testbed for Thorough and Reproducible
# Reinforcement Learning Experiments", DQN as their code runs it: kenjyoung/MinAtar
# examples/dqn.py (commit 4241f24; line numbers there) and minatar/environment.py.
#   network: conv 16x3x3 stride 1, no padding -> ReLU -> dense 128 -> ReLU -> |A| (72-95)
#   all 6 actions (269; README:82), sticky actions 0.1 (environment.py:26), no time
#   limit (Freeway ends itself after 2,501 steps, a termination: jax_envs.GAME_CLOCK)
#   RMSprop lr 0.00025, alpha 0.95, centered, eps 0.01 outside the sqrt (PyTorch; 44-46,
#   282), Huber loss averaged over the batch, plain max target (228-240)
#   gamma 0.99, batch 32, replay 100k (36-37, 47), 5,000 random steps first (42, 164),
#   one update per step (39), target copy every 1,000 updates (38, 355-360), epsilon
#   1.0 -> 0.1 linearly over 100k steps after the warm-up (170-171), 5M steps (40).
#   Rewards are not clipped; MinAtar has no frame skip (an agent step is a frame).
# Ours, where dqn.py has nothing: the Nature evaluation every 250k steps (they report
# training returns only; so do our episode logs), capped at 10,000 steps per game.
MINATAR = Config(
    env_id="Breakout-MinAtar",
    num_envs=1,
    sticky_action_prob=0.1,
    full_action_space=True,
    noop_max=0,
    max_episode_steps=1_000_000,  # no time limit in MinAtar
    life_loss_terminal=False,
    reward_clip=False,
    total_steps=5_000_000,
    warmup_steps=5_000,
    replay_capacity=100_000,
    batch_size=32,
    steps_per_update=1,
    target_update_period=1_000,
    optimizer="torch_rmsprop",
    learning_rate=2.5e-4,
    rmsprop_decay=0.95,
    rmsprop_min_sq_grad=0.01,
    torso="minatar_cnn",
    head_hidden=128,
    epsilon_end=0.1,
    epsilon_decay_steps=100_000,
    eval_every=250_000,
    eval_max_episode_steps=10_000,
    log_every=10_000,
    checkpoint_every=250_000,
)

PRESETS: dict[str, Config] = {
    "nature": NATURE,
    "cartpole": CARTPOLE,
    "minatar": MINATAR,
    "double": NATURE.replace(**VARIANTS["double"]),
    "dueling": NATURE.replace(**VARIANTS["dueling"]),
    "prioritized": NATURE.replace(**VARIANTS["prioritized"]),
    "rainbow-lite": NATURE.replace(**VARIANTS["rainbow-lite"]),
    # CleanRL's dqn_atari: Adam 1e-4, MSE, target copy every 1,000 steps,
    # epsilon -> 0.01 over 10% of training, 80,000 steps of warm-up.
    "cleanrl": NATURE.replace(**VARIANTS["cleanrl"], target_update_period=1_000,
                              epsilon_decay_steps=NATURE.total_steps // 10,
                              warmup_steps=80_000),
    # --- the users' seed notes (settings mapped in experiments/README.md) ---
    # Note 000: Udacity's PyTorch LunarLander DQN, soft target updates.
    "lunarlander": Config(
        env_id="LunarLander-v2",
        num_envs=1,  # one env: the per-episode epsilon schedule is the note's
        total_steps=600_000,  # the note allows 2,000 episodes; it solves in far fewer
        warmup_steps=64,  # the note learns once the replay holds more than one batch
        replay_capacity=100_000,
        batch_size=64,
        steps_per_update=4,
        target_update="soft",
        soft_tau=1e-3,  # after each learning step
        gamma=0.99,
        loss="mse",
        optimizer="adam",
        learning_rate=5e-4,
        torso="mlp",
        mlp_hidden=(64,),
        head_hidden=64,  # 8 -> 64 -> 64 -> 4
        epsilon_schedule="episode_exponential",
        epsilon_start=1.0,
        epsilon_end=0.01,
        epsilon_episode_decay=0.995,
        reward_clip=False,
        life_loss_terminal=False,
        noop_max=0,
        max_episode_steps=1_000,
        eval_every=0,  # the note judges training episodes; one greedy evaluation at the end
        eval_episodes=100,
        eval_epsilon=0.0,
        eval_max_episode_steps=1_000,
        log_every=5_000,
        checkpoint_every=50_000,
        checkpoint_replay=True,  # 1e5 x 8 floats: small, and a resume keeps learning at once
    ),
    # Note 003: a PyTorch MLP on SpaceInvaders' 128 RAM bytes, trained after each episode.
    "spaceinvaders-ram": Config(
        env_id="SpaceInvaders-ram",
        num_envs=1,  # one env: episode-driven schedules are the note's
        sticky_action_prob=0.25,  # gym's SpaceInvaders-ram-v0 repeats the last action w.p. 0.25
        noop_max=0,
        max_episode_steps=10_000,  # gym's v0 time limit
        life_loss_terminal=False,  # the note ends episodes at game over only
        reward_clip=False,
        reward_scale=0.01,  # the note stores r / 100
        total_steps=10_000_000,  # the note's 10,000 episodes are ~7M steps; stop it any time
        warmup_steps=2_000,  # no updates until 2,000 transitions are stored
        replay_capacity=100_000,
        batch_size=128,
        update_trigger="episodes",
        updates_per_episode=10,
        target_update="hard_episodes",
        target_update_episodes=20,
        gamma=0.98,
        loss="huber",  # PyTorch's smooth_l1_loss (beta 1) is the Huber loss with threshold 1
        optimizer="adam",
        learning_rate=2e-3,
        torso="mlp",
        mlp_hidden=(256,),
        head_hidden=256,  # 128 -> 256 -> 256 -> 6
        epsilon_schedule="episode_linear",  # 0.08 -> 0.01 over 1,400 episodes, over ALL actions
        epsilon_start=0.08,
        epsilon_end=0.01,
        epsilon_decay_episodes=1_400,
        eval_every=0,
        eval_episodes=30,
        eval_epsilon=0.0,  # the note plays greedily
        log_every=10_000,
        checkpoint_every=100_000,
        checkpoint_replay=True,  # 1e5 x 128 bytes
    ),
    # Note 004: PyTorch Breakout "Double DQN" with soft target updates, one frame as input.
    "breakout-double": NATURE.replace(
        num_envs=4,  # the note plays one game; every schedule below counts all envs' steps
        frame_size=(105, 80),  # the note keeps every other row and column of 210x160
        frame_stack=1,  # the note's network sees a single frame
        noop_max=0,
        fire_reset=False,
        life_loss_terminal=False,  # BreakoutDeterministic-v4 ends episodes at game over only
        reward_clip=False,
        total_steps=5_000_000,  # the note's 5,000 episodes are a few million steps
        warmup_steps=10_000,  # samples_before_learning
        replay_capacity=200_000,
        batch_size=128,
        steps_per_update=20,  # learn_interval: one update per 20 agent steps
        target_update="soft",
        soft_tau=0.01,  # after every update (see experiments/README.md)
        target="double",
        loss="mse",
        optimizer="adam",
        learning_rate=1e-4,
        torso="two_conv",
        head_hidden=128,  # conv, conv, 512, 128, |A|
        epsilon_schedule="multiplicative",
        epsilon_start=1.0,
        epsilon_end=0.05,
        epsilon_step_decay=0.99995,  # eps *= 0.99995 per agent step
        eval_every=250_000,
        eval_episodes=10,
        log_every=10_000,
        checkpoint_every=250_000,
    ),
    "data-efficient": DATA_EFFICIENT,
}
# The ablation pair of note 004: the same agent on Nature's input (4 stacked 84x84 frames).
PRESETS["breakout-double-nature"] = PRESETS["breakout-double"].replace(
    frame_size=(84, 84), frame_stack=4)
# Note 002: Breakout with cropped 80x80 frames (rows 31:195, nearest resize), 4-frame stacks
# rebuilt from a single-frame replay, target copy every 100 steps; Nature DQN otherwise.
PRESETS["breakout-cropped"] = NATURE.replace(
    frame_size=(210, 160),  # envpool's full grayscale screen; the crop happens in obs_transform_on
    obs_crop_rows=(31, 195),
    obs_resize=(80, 80),
    target_update_period=100,  # agent steps (25 updates)
)


def get_preset(name: str) -> Config:
    if name not in PRESETS:
        raise ConfigError(f"unknown preset {name!r}; choose from {', '.join(PRESETS)}")
    return PRESETS[name]


def apply_variant(base: Config, name: str) -> Config:
    """`base` with the component changes of variant `name` (see VARIANTS)."""
    if name not in VARIANTS:
        raise ConfigError(f"unknown variant {name!r}; choose from {', '.join(VARIANTS)}")
    return base.replace(**VARIANTS[name])
