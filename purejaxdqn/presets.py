"""Named configurations: the presets (`PRESETS`, listed by `purejaxdqn presets`), the
variants (`VARIANTS`: component changes that apply on any base). Each env's base preset
(the protocol an agent preset or an ablation variant starts from there) is named in its
entry of the env table, envs/table.py.

A preset is a `Config` instance; `NATURE` is the defaults. Every value taken from a
paper or another code base is cited in the comment beside it. Schedule lengths count
agent steps summed over all envs, as everywhere in the Config.
"""

from __future__ import annotations

from typing import Any

from purejaxdqn.config import Config
from purejaxdqn.settings import ConfigError

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
#   limit (Freeway ends itself after 2,501 steps, a termination: Freeway's entry in envs/table.py)
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

# --- Rainbow family presets ---------------------------------------------------------
# Sources, read with `fetch` (public repositories, commit named; only facts carried over):
#   [P]   Hessel et al. 2018, "Rainbow: Combining Improvements in Deep RL" (AAAI): Table 1
#         and the section "Hyper-parameter tuning".
#   [DF]  google/dopamine dopamine/jax/agents/full_rainbow/configs/full_rainbow.gin and
#         full_rainbow_agent.py, dopamine/jax/networks.py (read at 5873f54, 2026-03-24).
#   [DER] google/dopamine dopamine/labs/atari_100k/configs/DER.gin and
#         atari_100k_rainbow_agent.py (read at 5873f54; DER.gin last changed 9f616b9).
#   [ZOO] google-deepmind/dqn_zoo dqn_zoo/rainbow/run_atari.py, agent.py (at 45061f4).
#   [RR]  JohanSamir/revisiting_rainbow revisiting_rainbow/Configs/{rainbow,dqn}_{breakout,
#         asterix,freeway,invaders,seaquest}.gin, Agents/*_new.py, networks_new.py (at
#         7cd2bc6; it pins dopamine-rl 3.1.10, whose JaxDQNAgent defaults it inherits).
#   [KX]  Kaixhin/Rainbow README.md and model.py (at 1745b18): DER's settings as the
#         paper's appendix gives them (van Hasselt, Hessel & Aslanides 2019).
#
# The six components, each as (Rainbow's values, what its ablation falls back to) (Hessel et
# al.'s design, [P] Fig. 3: Rainbow with one component removed). Only the values that
# differ from our components' defaults are here, so that `experiments.ablate --set` can
# still rescale what is left at its default (e.g. --set v_min=-100 v_max=100 on MinAtar:
# a variant's values win over --set). The defaults that are Rainbow's too ([P] Table 1):
# num_atoms 51, v_min -10, v_max 10, noisy_sigma0 0.5, per_beta 0.4 -> 1.0 over training.
RAINBOW_COMPONENTS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    # [P]: the online net picks a*, the target net's distribution at a* is bootstrapped
    "double": ({"target": "double"}, {"target": "q_learning"}),
    # [P] Table 1: proportional, exponent omega 0.5 (beta 0.4 -> 1.0: the default)
    "prioritized": ({"replay": "prioritized", "per_alpha": 0.5}, {"replay": "uniform"}),
    # [P]: dueling streams aggregated per atom before the softmax
    "dueling": ({"dueling": True}, {"dueling": False}),
    # [P] Table 1: n = 3
    "multistep": ({"n_step": 3}, {"n_step": 1}),
    # [P] Table 1: C51, 51 atoms on [-10, 10] (the head's defaults). Without it: the td
    # objective with the Huber loss. [P] does not say which scalar loss its ablation used
    # (as far as we could read it); Huber is Nature's, and what [DF]'s agent uses with
    # distributional=False (mse_loss=False).
    "distributional": ({"objective": "categorical", "head": "categorical"},
                       {"objective": "td", "head": "plain", "loss": "huber"}),
    # [P] Table 1: sigma0 0.5 (the default) and "Exploration epsilon 0.0"; [P]'s tuning
    # section: with noisy nets the agent acts fully greedily. Without them: epsilon-greedy
    # with the base preset's schedule ([P]'s no-noisy agent annealed epsilon to 0.01 over
    # the first 250K frames, as we read its tuning section; Nature's base anneals to 0.1).
    # Our warm-up still plays uniformly at random whatever epsilon says (exploration.by_step).
    "noisy": ({"noisy": True, "epsilon_start": 0.0, "epsilon_end": 0.0}, {"noisy": False}),
}


def _rainbow_without(removed: str | None) -> dict[str, Any]:
    """Rainbow's component values, with component `removed` (if any) at its fallback."""
    values: dict[str, Any] = {}
    for name, (rainbow, fallback) in RAINBOW_COMPONENTS.items():
        values.update(fallback if name == removed else rainbow)
    return values


VARIANTS["rainbow"] = _rainbow_without(None)
VARIANTS.update({f"rainbow-no-{name}": _rainbow_without(name) for name in RAINBOW_COMPONENTS})

# Rainbow on Atari, on top of the Nature protocol (its env, preprocessing, 30 no-op starts,
# replay of 1M, batch 32, an update every 4 agent steps, gamma 0.99, 12.5M agent steps,
# evaluation every 250k steps; [P] trained 200M frames, [ZOO] evaluates 500K frames after
# every 1M). What Rainbow changes:
#   the six components above, with Table 1's values ([P] Table 1, listed again here);
#   Adam, lr 6.25e-5, eps 1.5e-4 ([P] Table 1; the same in [DF] and [ZOO]);
#   min history 80K frames = 20,000 agent steps ([P] Table 1; [DF] 20_000; [ZOO] 2% of 1M);
#   target period 32K frames = 8,000 agent steps ([P] Table 1; [DF] 8_000; [ZOO] 3.2e4
#   frames).
# Noise scale sigma0: [P] Table 1 says 0.5, the value of Fortunato et al. 2018 for
# factorised noise; [DF] hard-codes 0.1 (networks.py NoisyNetwork sigma_init) and [ZOO]
# defaults to 0.1 (noisy_weight_init). We take the paper's 0.5: this preset states the
# paper's agent, and sigma0 is a flag for anyone matching Dopamine or dqn_zoo.
# Training epsilon: [P] 0 with noisy nets. [DF]'s gin sets epsilon_train 0.01 over 250k
# steps, but its agent replaces the schedule by zero_epsilon whenever noisy=True: 0 too;
# [ZOO] acts greedily on the noisy Q-values: 0 too.
# Evaluation epsilon: [P] Table 1 gives none and we found none in its text; [DF] uses
# epsilon_eval 0.001 with the noise turned off (eval_mode), which is what our evaluation
# does with the noise (exploration.make_policy): we take 0.001. [ZOO] evaluates with
# epsilon 0 and the noise on.
# Not taken: [DF]'s fixed importance exponent 0.5 ([DF] reports it did better than the
# 0.4 -> 1 schedule on 4 of 5 games) and [ZOO]'s gradient clipping at global norm 10
# (neither is in [P]).
RAINBOW = NATURE.replace(**{
    **VARIANTS["rainbow"],
    "num_atoms": 51, "v_min": -10.0, "v_max": 10.0,  # [P] Table 1
    "noisy_sigma0": 0.5,  # [P] Table 1
    "per_beta_start": 0.4, "per_beta_end": 1.0,  # [P] Table 1, annealed over training
    "optimizer": "adam", "learning_rate": 6.25e-5, "adam_eps": 1.5e-4,  # [P] Table 1
    "warmup_steps": 20_000,  # 80K frames, [P] Table 1
    "target_update_period": 8_000,  # 32K frames, [P] Table 1
    "eval_epsilon": 0.001,  # [DF] epsilon_eval, noise off in evaluation (see above)
})

# Data-Efficient Rainbow (van Hasselt, Hessel & Aslanides 2019) on Atari 100k, as [DER]
# states it. The protocol is DATA_EFFICIENT's, field for field the same as DER.gin's and
# kept from it: one env, no no-op starts, no sticky actions, life loss terminal, 100k
# agent steps (10 x 10,000), 1,600 warm-up steps, one update per step, batch 32, Adam lr
# 1e-4 eps 1.5e-4, gamma 0.99, 100 evaluation games of at most 27,000 steps with epsilon
# 0.001, scored once at the end, replay 100k (DER.gin's 1M is "a proxy for unbounded
# memory": 100k steps never overwrite either). What DER changes from it:
#   Rainbow's six components (noisy, dueling, double, C51 51 atoms, vmax 10, prioritized);
#   n-step 10 ([DER]: "Use 10 instead of 20 as done by SPR paper"; DATA_EFFICIENT's too);
#   target copy every 2,000 updates = 2,000 agent steps ([DER]; DATA_EFFICIENT copies
#   after every update);
#   no augmentation ([DER]: data_augmentation False);
#   training epsilon 0: DER.gin's epsilon_train 0.01 over 2,000 steps is dead code, as
#   [DF]'s agent uses zero_epsilon whenever noisy=True (Atari100kRainbowAgent passes no
#   schedule of its own);
#   sigma0 0.1: Dopamine's NoisyNetwork constant ([DF] networks.py); [KX]'s DER also 0.1
#   (--noisy-std default); Rainbow's paper value 0.5 is not DER's implementations';
#   prioritized replay as Dopamine's: priority sqrt(loss) (= per_alpha 0.5 on our
#   loss-priority) and a fixed importance exponent 0.5 (loss weight 1/sqrt(P), normalised
#   by its max: [DER] atari_100k_rainbow_agent.py).
# Network: [DER] uses Dopamine's FullRainbowNetwork, the Nature CNN with a 512-unit (noisy)
# layer: our auto torso and head_hidden 512. The paper's DER used another network
# ([KX]: two 5x5 stride-5 convolutions, 32 and 64 filters, then 256 units) and n-step 20;
# neither is taken here (we have no such torso). Differences that remain: Dopamine's
# Xavier-uniform initialisation of the dense layers (ours: flax's defaults, NoisyDense as
# Fortunato et al.); Dopamine acts with the noisy net during the 1,600 warm-up steps,
# ours uniformly at random.
DER = DATA_EFFICIENT.replace(**{
    **VARIANTS["rainbow"],
    "n_step": 10,  # [DER] update_horizon
    "target_update_period": 2_000,  # [DER], agent steps = updates at one update per step
    "augmentation": "none",  # [DER] data_augmentation False
    "num_atoms": 51, "v_min": -10.0, "v_max": 10.0,  # [DER] num_atoms, vmax (vmin = -vmax)
    "noisy_sigma0": 0.1,  # [DF] networks.py NoisyNetwork sigma_init
    "per_beta_start": 0.5, "per_beta_end": 0.5,  # [DER] agent: loss weights 1/sqrt(P)
})
# DER's agent alone (its components and optimizer, [DER] create_optimizer: Adam 1e-4, eps
# 1.5e-4, as DATA_EFFICIENT), for `--preset der` on another kind of env (run/preflight.
# preset_for_env) and for ablations: that kind's protocol (replay ratio, target period,
# warm-up) with DER's learner.
VARIANTS["der"] = {key: getattr(DER, key) for key in (
    *VARIANTS["rainbow"], "n_step", "noisy_sigma0", "per_beta_start", "per_beta_end",
    "optimizer", "learning_rate", "adam_eps")}

# MinAtar: Obando-Ceron & Castro 2021, "Revisiting Rainbow" (ICML), as [RR]'s configs run
# it. The five games' rainbow_*.gin are identical but for the game; so are the dqn_*.gin,
# but for the loss (dqn_breakout: MSE, the others Huber).
#   Rainbow (rainbow_*.gin, Agents/rainbow_agent_new.py, networks_new.py):
#     network 'minatar': conv 16 3x3 stride 1, flax's default SAME padding (10x10x16 =
#       1,600 features), ReLU, then the output layers directly (hidden_layer 0), dueling
#       (value + advantage per atom), noisy; variance_scaling(1, fan_avg, uniform) init
#     Adam lr 1e-4, eps 3.125e-4; gamma 0.99; n-step 3; batch 32; replay 100,000
#     update every 4 agent steps; target copy every 1,000 agent steps (250 updates)
#     min replay history 1,000; prioritized as Dopamine's (priority sqrt(loss), weights
#     1/sqrt(P) over their max: alpha 0.5, a fixed beta 0.5); double (online argmax)
#     C51 51 atoms, vmax 100 (support [-100, 100]); noisy sigma0 0.1 (sigma_init
#       0.1 / sqrt(fan_in)); as we read networks_new.py, its NoisyNetwork keeps the two
#       noise keys of its first call in a module-level dict (prn_inf), so the same noise
#       is reused for every later call: fixed, not resampled
#     epsilon: with noisy=True the agent uses Dopamine's identity_epsilon, i.e. a constant
#       epsilon_train = 0.01 (JaxDQNAgent's default, not set in the gin), from step 0
#     10 iterations x 1,000,000 agent steps = 10M; TrainRunner: training returns only,
#       no evaluation (epsilon_eval 0.001 unused); no time limit (1e8 steps); rewards
#       clipped to [-1, 1] by Dopamine's Runner
#   DQN (dqn_*.gin, Agents/dqn_agent_new.py): the same network without dueling or noise;
#     Adam lr 2.5e-4, eps 3.125e-4; n-step 1; uniform replay 100,000; batch 32; update
#     every 4 steps; target every 1,000 steps; min replay 1,000; Q-learning target
#     (target_opt 0); Huber loss (MSE on Breakout: mse_inf True); epsilon 1.0 during the
#     1,000 warm-up steps, then linear to 0.01 over 250,000 steps (Dopamine's
#     linearly_decaying_epsilon with JaxDQNAgent's defaults); 10M agent steps.
#   Environment: minatar.Environment(game) with its defaults (sticky actions 0.1, all six
#   actions), as ours.
# `minatar-rainbow` = our `minatar` protocol with [RR]'s Rainbow agent. Where the
# `minatar` protocol differs from [RR]'s (kept as ours): 5M agent steps (theirs 10M);
# evaluation every 250k steps with epsilon 0.05 (theirs none; report training returns to
# compare); no reward clipping (theirs clips: only Seaquest's surface bonus, up to +10,
# is affected); warm-up plays uniformly at random (theirs acts with epsilon 0.01); the
# network: Young & Tian's VALID conv (8x8x16 = 1,024 features) and a 128-unit hidden
# layer before the outputs (theirs SAME padding and no hidden layer; our heads always
# have one), flax's default initialisers; fresh noise per forward pass (theirs fixed).
MINATAR_RAINBOW = MINATAR.replace(**{
    **VARIANTS["rainbow"],
    "optimizer": "adam", "learning_rate": 1e-4, "adam_eps": 3.125e-4,  # [RR] create_optimizer
    "steps_per_update": 4,  # [RR] update_period
    "target_update_period": 1_000,  # [RR], agent steps (250 updates)
    "warmup_steps": 1_000,  # [RR] min_replay_history
    "num_atoms": 51, "v_min": -100.0, "v_max": 100.0,  # [RR] num_atoms, vmax (vmin = -vmax)
    "noisy_sigma0": 0.1,  # [RR] networks_new.NoisyNetwork sigma_init
    "per_beta_start": 0.5, "per_beta_end": 0.5,  # [RR] loss weights 1/sqrt(P)
    "epsilon_start": 0.01, "epsilon_end": 0.01,  # [RR] identity_epsilon(epsilon_train 0.01)
})

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
    # Rainbow family (see the block above PRESETS)
    "rainbow": RAINBOW,
    "der": DER,
    "minatar-rainbow": MINATAR_RAINBOW,
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
