"""The run's configuration: one frozen Config, flat as config.json and the CLI flags are.

Its own fields are the run's settings (env, schedule, evaluation, bookkeeping, engine)
and the names of the chosen components. Each component's settings (`soft_tau`,
`epsilon_end`, `learning_rate`, ...) are declared next to the component, as the fields
of its registry entry (see registry.py), and a Config holds their values too: read
them as attributes (`config.soft_tau`), set them as keywords (`Config(soft_tau=0.01)`,
`config.replace(...)`). A component registered later, from outside the package, adds
its settings the same way. Presets (named `Config` instances) are in presets.py; the
defaults are Nature DQN.

All schedule lengths are in **agent steps summed over all environments**
(one agent step = 4 emulator frames on Atari), as in DeepMind's released code,
not in frames as the paper's table says.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from purejaxdqn.components import REGISTRIES, target_updates
from purejaxdqn.registry import FieldChoices, Registry, declared_settings
from purejaxdqn.replay import MAX_TRANSITIONS, check_ring_fits
from purejaxdqn.settings import (Check, ConfigError, check_choice, check_value, non_negative,
                                 one_of, positive, probability, setting)

__all__ = ["Config", "ConfigError", "check_choice", "fields_by_name", "FIELD_CHOICES",
           "learning_cadence"]

# Step counters, schedule lengths and sizes become int32 arrays on the device.
MAX_INT = 2**31 - 1
# Env seeds: seed s owns [s * SEED_BLOCK, (s + 1) * SEED_BLOCK) (see envs.env_seed);
# envpool takes int32 seeds, so s * SEED_BLOCK + SEED_BLOCK must stay below 2^31.
SEED_BLOCK = 2**20
MAX_SEED = 2**31 // SEED_BLOCK - 1
# W&B's own rule for project names (wandb.Settings checks it at wandb.init), declared as
# the setting's check too so that a bad name fails before training, not when logging starts.
WANDB_PROJECT_MAX_LEN, WANDB_PROJECT_BAD_CHARS = 128, "/\\#?%:"
wandb_project_name = Check(
    lambda name: (len(name) <= WANDB_PROJECT_MAX_LEN
                  and not set(name) & set(WANDB_PROJECT_BAD_CHARS)),
    f"must be at most {WANDB_PROJECT_MAX_LEN} characters without any of "
    f"{' '.join(WANDB_PROJECT_BAD_CHARS)}")


@dataclasses.dataclass(frozen=True, init=False)
class Config:
    # --- environment -------------------------------------------------------
    env_id: str = setting("Breakout", "environment: an Atari game (Breakout, Pong-v5, "
                                      "Breakout-ram) or CartPole-v1")
    num_envs: int = setting(8, "envs stepped together per seed; every schedule counts steps "
                               "over all of them", positive)
    seed: int = setting(0, "random seed (params, exploration, env seeds) when --seeds is not "
                           "given", non_negative)
    seeds: tuple[int, ...] = setting((), "comma-separated seeds trained side by side in one "
                                         "process (vmapped)")
    noop_max: int = setting(30, "up to this many random no-op actions at the start of each "
                                "game", non_negative)
    sticky_action_prob: float = setting(0.0, "probability that the emulator repeats the "
                                             "previous action", probability)
    full_action_space: bool = setting(False, "use all 18 Atari actions instead of the game's "
                                             "minimal set")
    # envpool presses FIRE on reset by default; Nature did not
    fire_reset: bool = setting(False, "press FIRE after each reset (envpool's default; Nature "
                                      "did not)")
    max_episode_steps: int = setting(27_000, "training time limit per game, in agent steps "
                                             "(27,000 = 108k frames)", positive)
    life_loss_terminal: bool = setting(True, "cut the bootstrap at a lost life (learning "
                                             "only; the game goes on)")
    reward_clip: bool = setting(True, "sign-clip rewards for learning (scores stay raw)")
    frame_size: tuple[int, ...] = setting((84, 84), "Atari frame (height,width) envpool "
                                                    "renders before any crop")
    frame_stack: int = setting(4, "Atari frames stacked into one observation (1: a single "
                                  "frame, note 004)", positive)
    obs_crop_rows: tuple[int, ...] = setting((), "top,bottom: keep these rows of each Atari "
                                                 "frame (note 002; empty: none)")
    obs_resize: tuple[int, ...] = setting((), "h,w: nearest-neighbour resize after the crop "
                                              "(note 002; empty: none)")
    obs_transform_on: str = setting("device", "where the crop/resize runs: on device inside "
                                              "act, or on the host", one_of("device", "host"))

    # --- schedule (agent steps, all envs) -----------------------------------
    total_steps: int = setting(12_500_000, "agent steps to train per seed, summed over envs "
                                           "(4 frames each on Atari)", positive)  # 50M frames
    warmup_steps: int = setting(50_000, "uniform-random steps that fill the replay before the "
                                        "first update", non_negative)
    replay_capacity: int = setting(1_000_000, "transitions kept in the replay (at most 2^24)",
                                   positive)
    batch_size: int = setting(32, "transitions per gradient update", positive)
    steps_per_update: int = setting(4, "agent steps per gradient update (the replay ratio)",
                                    positive)
    target_update: str = setting("hard", "how the target network follows the online one")
    update_trigger: str = setting("steps", "when updates run: every steps_per_update agent "
                                           "steps, or updates_per_episode updates after each "
                                           "finished episode", one_of("steps", "episodes"))
    updates_per_episode: int = setting(10, "gradient updates after each finished episode "
                                           "(update_trigger episodes)", positive)

    # --- learning -----------------------------------------------------------
    gamma: float = setting(0.99, "discount factor", probability)
    n_step: int = setting(1, "steps in the bootstrapped return (1 = Nature)", positive)
    objective: str = setting("td", "what an update minimises: td (the target's TD error under "
                                   "the loss), munchausen (M-DQN), categorical (C51) or quantile "
                                   "(QR-DQN), the last two with the head of the same name")
    target: str = setting("q_learning", "TD target: Q-learning (Nature) or Double DQN")
    loss: str = setting("huber", "TD loss: Huber (Nature's clipped error) or squared")
    optimizer: str = setting("nature_rmsprop", "optimizer: DeepMind's centered RMSProp, Adam, "
                                               "or PyTorch's centered RMSprop (eps outside the "
                                               "sqrt; MinAtar)")
    reward_scale: float = setting(1.0, "learning reward = (clipped) reward times this (note "
                                       "003: 0.01)", positive)
    augmentation: str = setting("none", "data augmentation of obs and next obs inside the "
                                        "update: none, DrQ's random shift, or shift plus "
                                        "intensity noise")

    # --- network ------------------------------------------------------------
    torso: str = setting("auto", "network torso; auto picks the Nature CNN for pixels, an MLP "
                                 "for vectors")
    # `dueling` (a property of every head) is declared with the heads' settings; a
    # config.json from before `head` existed ("dueling": true) loads as head plain, dueling.
    head: str = setting("plain", "network head: plain (Q-values), categorical (C51's return "
                                 "distribution) or quantile (QR-DQN's)")

    # --- exploration and replay ---------------------------------------------
    epsilon_schedule: str = setting("linear", "shape of the exploration decay")
    replay: str = setting("uniform", "replay sampling: uniform or proportional prioritized")

    # --- evaluation ---------------------------------------------------------
    eval_every: int = setting(250_000, "agent steps between evaluations (0: only at the end)",
                              non_negative)
    eval_episodes: int = setting(30, "games per evaluation", positive)
    eval_epsilon: float = setting(0.05, "epsilon of the evaluation policy", probability)
    eval_max_episode_steps: int = setting(4_500, "evaluation time limit per game, agent steps "
                                                 "(4,500 = 18k frames)", positive)
    eval_num_envs: int = setting(0, "evaluation envs (0: one per game, at most 32)",
                                 non_negative)
    record_video_every: int = setting(0, "agent steps between videos of one evaluation game "
                                         "in RUN_DIR/videos/ (0: off)", non_negative)

    # --- bookkeeping ----------------------------------------------------------
    log_every: int = setting(10_000, "agent steps between rows of metrics.jsonl", positive)
    checkpoint_every: int = setting(500_000, "agent steps between checkpoints (0: none on a "
                                             "step count)", non_negative)
    checkpoint_replay: bool = setting(True, "save the replay in checkpoints so a resume "
                                            "continues learning at once (false: a resume "
                                            "refills the replay with a new warm-up)")
    checkpoint_minutes: float = setting(10.0, "wall-clock minutes between checkpoints (0: none "
                                              "on a clock)", non_negative)
    wandb_project: str = setting("", "also log the TensorBoard scalars and the config to this "
                                     "Weights & Biases project (needs the wandb extra; offline "
                                     "without an API key)", wandb_project_name)

    # --- engine --------------------------------------------------------------------
    engine: str = setting("auto", "host: envs on the host, one device call per env iteration "
                                  "(every env); fused: env, act, replay and learning inside one "
                                  "jitted scan (JAX envs: CartPole-v1, Acrobot-v1, *-MinAtar); "
                                  "auto: fused where the env has a JAX version",
                                  one_of("auto", "host", "fused"))
    chunk_iterations: int = setting(0, "fused engine: env iterations per device call (0: sized "
                                       "to about one second of work); results do not depend on "
                                       "it", non_negative)
    seed_group: int = setting(0, "seeds whose gradient updates run together (vmapped), the "
                                 "groups one after another; results do not depend on it (0: "
                                 "auto, per backend and network as measured)", non_negative)
    seed_block: int = setting(0, "fused engine on a JAX env: seeds per block, each block with "
                                 "its own state and device call, the blocks one after another; "
                                 "results do not depend on it (0: auto, per backend as "
                                 "measured; one block when the seeds are sharded over "
                                 "devices)", non_negative)

    # The components' settings, (name, value) sorted by name; read them as attributes.
    settings: tuple[tuple[str, Any], ...] = dataclasses.field(default=(), repr=False)

    def __init__(self, **values: Any):
        declared = declared_settings(REGISTRIES)
        given = dict(values.pop("settings", ()))
        for field in _own_fields():
            object.__setattr__(self, field.name, values.pop(field.name, field.default))
        unknown = sorted(set(values) - set(declared))
        if unknown:
            raise TypeError(f"Config got unknown field(s): {', '.join(unknown)}")
        given.update(values)
        merged = {name: given.get(name, field.default) for name, field in declared.items()}
        object.__setattr__(self, "settings", tuple(sorted(merged.items())))
        object.__setattr__(self, "_values", merged)

    def __getattr__(self, name: str) -> Any:
        # Only reached for names that are not Config fields: the components' settings.
        values = self.__dict__.get("_values")
        if values is not None and name in values:
            return values[name]
        # a setting registered after this Config was made: its default
        declared = declared_settings(REGISTRIES)
        if values is not None and name in declared:
            return declared[name].default
        raise AttributeError(f"Config has no field {name!r}")

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.to_dict().items())
        return f"Config({shown})"

    # ------------------------------------------------------------------------
    def replace(self, **changes: Any) -> "Config":
        return Config(**{**self.to_dict(), **changes})

    def to_dict(self) -> dict[str, Any]:
        values = {f.name: getattr(self, f.name) for f in _own_fields()}
        values.update({name: getattr(self, name) for name in declared_settings(REGISTRIES)})
        return values

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "Config":
        fields = fields_by_name()
        unknown = sorted(set(values) - set(fields))
        if unknown:
            raise ConfigError(f"unknown config field(s): {', '.join(unknown)}")
        return cls(**{name: tuple(value) if isinstance(fields[name].default, tuple) else value
                      for name, value in values.items()})

    # Derived quantities ---------------------------------------------------
    @property
    def all_seeds(self) -> tuple[int, ...]:
        return self.seeds or (self.seed,)

    @property
    def capacity_per_env(self) -> int:
        return self.replay_capacity // self.num_envs

    @property
    def target_update_period_updates(self) -> int:
        """Hard-copy period in gradient updates, as the hard target update counts it."""
        return self.component(target_updates.TARGET_UPDATES, "hard").period_updates(
            self.steps_per_update)

    def component(self, registry: Registry, name: str | None = None) -> Any:
        """`registry`'s entry chosen here (or entry `name`), built with this config's
        values of its settings (see Registry.configured)."""
        return registry.configured(getattr(self, registry.field) if name is None else name,
                                   self)

    def validate(self) -> "Config":
        """Raise ConfigError naming the first impossible value; return self if fine."""
        fields = fields_by_name()
        for name, field in fields.items():
            values = getattr(self, name)
            for value in values if isinstance(values, tuple) else (values,):
                if type(value) is int and abs(value) > MAX_INT:
                    raise ConfigError(
                        f"{name} ({value:,}) is out of range: at most {MAX_INT:,} "
                        "(steps, sizes and seeds are int32 on the device)")
        for registry in REGISTRIES:  # component names; declared choices come with their setting
            if registry.field in fields:
                check_choice(registry.field, getattr(self, registry.field), registry.names())
        for name, field in fields.items():  # each setting's own check, as declared
            check_value(field, getattr(self, name))
        self._check_observations()
        self._check_seeds_and_replay()
        self._check_learning_schedule()
        for registry in REGISTRIES:  # the chosen components' checks against the run
            if registry.field in fields:
                check_against = getattr(self.component(registry), "check_against", None)
                if check_against is not None:
                    check_against(self)
        if self.eval_num_envs > self.eval_episodes:
            raise ConfigError(
                f"eval_num_envs ({self.eval_num_envs}) exceeds eval_episodes "
                f"({self.eval_episodes})")
        return self

    def _check_observations(self) -> None:
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

    def _check_seeds_and_replay(self) -> None:
        if max(self.all_seeds) > MAX_SEED:
            raise ConfigError(
                f"seeds must be at most {MAX_SEED}, got {max(self.all_seeds)}: each seed owns "
                f"a block of {SEED_BLOCK:,} env seeds and envpool seeds are int32")
        if self.replay_capacity > MAX_TRANSITIONS:
            raise ConfigError(
                f"replay_capacity ({self.replay_capacity:,}) exceeds 2^24 = "
                f"{MAX_TRANSITIONS:,}: the sum tree that samples the replay adds float32 "
                "masses, exact only up to 2^24 transitions")
        if self.n_step > 10:
            raise ConfigError(f"n_step must be in 1..10, got {self.n_step}")
        if any(s < 0 for s in self.seeds) or len(set(self.seeds)) != len(self.seeds):
            raise ConfigError(f"seeds must be distinct and >= 0, got {self.seeds}")
        if self.replay_capacity % self.num_envs:
            raise ConfigError(
                f"replay_capacity ({self.replay_capacity}) must be a multiple of "
                f"num_envs ({self.num_envs}): each env owns an equal ring")
        check_ring_fits(self.capacity_per_env, self.frame_stack, self.n_step)  # the replay's rule
        if self.batch_size > self.replay_capacity:
            raise ConfigError(
                f"batch_size ({self.batch_size}) is larger than replay_capacity "
                f"({self.replay_capacity})")

    def _check_learning_schedule(self) -> None:
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
        learning_cadence(self)  # the agent's cadence, and its rule


def learning_cadence(config: Config) -> tuple[int, int]:
    """(gradient updates per `learn` call, env iterations between calls): the agent's
    cadence (agent.AgentSettings reads it), here, under the agent's layer, so that
    Config.validate checks the run with the same rule.
    Nature: one update per `steps_per_update` agent steps summed over all envs, so that
    num_envs and steps_per_update must divide one another; note 003: a burst of
    `updates_per_episode` after each finished episode."""
    envs, steps = config.num_envs, config.steps_per_update
    if envs % steps and steps % envs:
        raise ConfigError(f"num_envs ({envs}) and steps_per_update ({steps}) must divide one "
                          "another so updates fall on whole env iterations")
    if config.update_trigger == "episodes":
        return config.updates_per_episode, 1
    return max(envs // steps, 1), max(steps // envs, 1)


def _own_fields() -> tuple[dataclasses.Field, ...]:
    return tuple(f for f in dataclasses.fields(Config) if f.name != "settings")


def fields_by_name() -> dict[str, dataclasses.Field]:
    """Every config field, the run's own then the components' settings: name -> declaration
    (its default, `settings.help_of` and check). The CLI's flags are made from these."""
    own = {f.name: f for f in _own_fields()}
    components = declared_settings(REGISTRIES)
    clash = set(own) & set(components)
    if clash:
        raise ValueError(f"component setting(s) {', '.join(sorted(clash))} shadow Config fields")
    return {**own, **components}


# Allowed values of the string fields (validate checks them; --help lists them).
FIELD_CHOICES: Mapping[str, tuple[str, ...]] = FieldChoices(fields_by_name, REGISTRIES)
