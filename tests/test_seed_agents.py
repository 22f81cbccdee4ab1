"""The seed notes' agents: episode-driven components, the crop component,
the presets (build, a few hundred steps, logs written) and the experiment script."""

import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from experiments import seed_agents
from experiments.runner import decide
from purejaxdqn.agent import make_agent, step_input
from purejaxdqn.components.target_updates import episode_hard_update
from purejaxdqn.config import Config, ConfigError
from purejaxdqn.envs.envpool import EnvSpec, EnvStep, VecEnv
from purejaxdqn.envs.observations import make_obs_transform, nearest_indices
from purejaxdqn.parts import build_exploration
from purejaxdqn.presets import PRESETS, get_preset


# --- exploration ------------------------------------------------------------------
def test_episode_exponential_schedule_is_the_notes_loop():
    eps = build_exploration(get_preset("lunarlander")).epsilon
    expected, value = [], 1.0  # note 000: eps = max(eps_end, eps_decay * eps) after each episode
    for _ in range(1_200):
        expected.append(value)
        value = max(0.01, 0.995 * value)
    np.testing.assert_allclose(np.asarray(eps(123_456, jnp.arange(1_200))), expected, rtol=1e-5)
    assert float(eps(0, 5_000)) == pytest.approx(0.01)


def test_episode_linear_schedule_is_the_notes_formula():
    eps = build_exploration(get_preset("spaceinvaders-ram")).epsilon
    n_epi = np.array([0, 1, 200, 700, 1_399, 1_400, 5_000])
    expected = [max(0.01, 0.08 - 0.01 * (n / 200)) for n in n_epi]  # note 003, verbatim
    np.testing.assert_allclose(np.asarray(eps(10**6, n_epi)), expected, rtol=1e-5, atol=1e-7)
    # episode schedules ignore warm-up: the note acts with eps = 0.08 from its first step
    assert float(eps(0, 0)) == pytest.approx(0.08)


def test_multiplicative_step_schedule():
    config = get_preset("breakout-double")  # eps *= 0.99995 per step after 10k warm-up
    eps = build_exploration(config).epsilon
    assert float(eps(9_999)) == 1.0
    np.testing.assert_allclose(float(eps(10_000 + 20_000)), 0.99995**20_000, rtol=1e-5)
    assert float(eps(10_000 + 200_000)) == pytest.approx(0.05)


def test_step_schedules_ignore_episodes():
    eps = build_exploration(PRESETS["nature"]).epsilon
    assert float(eps(550_000, 0)) == float(eps(550_000, 10_000)) == pytest.approx(0.55)


# --- target updates -----------------------------------------------------------------
def test_episode_hard_update_copies_when_a_multiple_is_crossed():
    online, target = {"w": jnp.ones(3)}, {"w": jnp.zeros(3)}
    for before, after, copied in ((0, 0, False), (18, 19, False), (19, 20, True),
                                  (20, 20, False), (39, 41, True), (41, 42, False)):
        out = episode_hard_update(online, target, jnp.int32(before), jnp.int32(after), 20)
        assert float(out["w"][0]) == (1.0 if copied else 0.0), (before, after)


# --- the agent's episode-driven rules ------------------------------------------------
VECTOR_SPEC = EnvSpec("vector", "X", "X", 3, (4,), np.float32, 1)


def _steps(n_seeds, n_envs, done=(), reward=0.0):
    """One EnvStep per seed; seeds listed in `done` end an episode in env 0."""
    out = []
    for k in range(n_seeds):
        flag = np.zeros(n_envs, bool)
        flag[0] = k in done
        out.append(EnvStep(
            obs=np.zeros((n_envs, 4), np.float32), frame=np.zeros((n_envs, 4), np.float32),
            reward=np.full(n_envs, reward, np.float32), terminated=flag, truncated=np.zeros_like(flag),
            life_lost=np.zeros_like(flag), first=np.zeros_like(flag), reset=np.zeros_like(flag),
            episode_return=np.where(flag, 1.0, np.nan), episode_length=flag.astype(int)))
    return out


def _episodic_config(**changes):
    base = Config(env_id="CartPole-v1", num_envs=1, replay_capacity=64, batch_size=4,
                  warmup_steps=8, total_steps=1_000, torso="mlp", mlp_hidden=(8,),
                  head_hidden=8, update_trigger="episodes", updates_per_episode=3,
                  target_update="hard_episodes", target_update_episodes=2,
                  epsilon_schedule="episode_linear", epsilon_start=1.0, epsilon_end=0.0,
                  epsilon_decay_episodes=1, reward_clip=False, reward_scale=0.01,
                  optimizer="adam", learning_rate=1e-2)
    return base.replace(**changes).validate()


@pytest.fixture(scope="module")
def episodic_agent():  # one compiled agent for the tests below (compiling dominates)
    return make_agent(_episodic_config(), VECTOR_SPEC)


def test_act_counts_episodes_scales_rewards_and_copies_target_on_episodes(episodic_agent):
    agent = episodic_agent
    state = agent.init(jnp.stack([jax.random.PRNGKey(0), jax.random.PRNGKey(1)]))
    # make online params differ from the target so a copy is visible
    state = state.replace(learner=state.learner.replace(
        params=jax.tree_util.tree_map(lambda p: p + 1.0, state.learner.params)))
    leaf = lambda tree: np.asarray(jax.tree_util.tree_leaves(tree)[0])
    state, _ = agent.act(state, step_input(_steps(2, 1, done=(0,), reward=250.0)))
    np.testing.assert_array_equal(np.asarray(state.learner.episodes), [1, 0])
    np.testing.assert_allclose(np.asarray(state.replay.reward)[:, 0, 0], [2.5, 2.5])  # 250 / 100
    assert not np.allclose(leaf(state.learner.target_params), leaf(state.learner.params))
    state, _ = agent.act(state, step_input(_steps(2, 1, done=(0,))))  # seed 0 reaches 2
    np.testing.assert_array_equal(np.asarray(state.learner.episodes), [2, 0])
    target, online = leaf(state.learner.target_params), leaf(state.learner.params)
    np.testing.assert_allclose(target[0], online[0])  # copied at episode 2 (period 2)
    assert not np.allclose(target[1], online[1])  # seed 1 finished none


def test_episode_epsilon_follows_each_seeds_count(episodic_agent):
    agent = episodic_agent  # eps 1 -> 0 over one episode
    state = agent.init(jnp.stack([jax.random.PRNGKey(0), jax.random.PRNGKey(1)]))
    # seed 0 has finished an episode: eps 0 (greedy); seed 1 none: eps 1 (uniform)
    state, _ = agent.act(state, step_input(_steps(2, 1, done=(0,))))
    picks = []
    for _ in range(60):
        state, actions = agent.act(state, step_input(_steps(2, 1)))
        picks.append(np.asarray(actions)[:, 0])
    picks = np.array(picks)
    assert len(set(picks[:, 0])) == 1  # greedy on a fixed obs: always the same action
    assert len(set(picks[:, 1])) == 3  # uniform over all 3 actions


def test_learn_due_rules():
    steps_agent = make_agent(_episodic_config(update_trigger="steps", steps_per_update=2),
                             VECTOR_SPEC)
    assert steps_agent.learn_due(1, 0, 8, _steps(2, 1)) is None  # warm-up
    assert steps_agent.learn_due(11, 10, 8, _steps(2, 1)) is None  # odd iteration
    np.testing.assert_array_equal(steps_agent.learn_due(12, 10, 8, _steps(2, 1)), [True, True])
    episodic = make_agent(_episodic_config(), VECTOR_SPEC)  # not compiled: learn_due is host code
    assert episodic.updates_per_learn == 3
    assert episodic.learn_due(5, 4, 8, _steps(2, 1, done=(1,))) is None  # warm-up
    assert episodic.learn_due(12, 10, 8, _steps(2, 1)) is None  # no episode ended
    np.testing.assert_array_equal(episodic.learn_due(12, 10, 8, _steps(2, 1, done=(1,))),
                                  [False, True])


def test_learn_masked_changes_only_the_active_seeds(episodic_agent):
    agent = episodic_agent
    state = agent.init(jnp.stack([jax.random.PRNGKey(0), jax.random.PRNGKey(1)]))
    rng = np.random.default_rng(0)
    for _ in range(20):
        steps = _steps(2, 1)
        for s in steps:
            s.obs[:] = s.frame[:] = rng.normal(size=(1, 4))
        state, _ = agent.act(state, step_input(steps))
    before = jax.tree_util.tree_map(np.asarray, state.learner)
    state, _ = agent.learn_masked(state, jnp.array([False, True]))
    after = jax.tree_util.tree_map(np.asarray, state.learner)
    np.testing.assert_array_equal(after.updates, [0, 3])
    b, a = jax.tree_util.tree_leaves(before.params), jax.tree_util.tree_leaves(after.params)
    assert all(np.array_equal(x[0], y[0]) for x, y in zip(b, a))
    assert any(not np.allclose(x[1], y[1]) for x, y in zip(b, a))


# --- the crop component -------------------------------------------------------------
def test_nearest_indices_match_pil_centres():
    # PIL NEAREST samples output pixel i at floor((i + 0.5) * in / out), by hand:
    assert nearest_indices(164, 80)[:4].tolist() == [1, 3, 5, 7]  # 1.025, 3.075, 5.125, 7.175
    assert nearest_indices(164, 80)[-1] == 162  # 79.5 * 2.05 = 162.975
    assert nearest_indices(160, 80).tolist() == list(range(1, 160, 2))
    assert nearest_indices(4, 4).tolist() == [0, 1, 2, 3]


def test_crop_resize_equals_a_naive_loop_and_runs_on_device():
    config = get_preset("breakout-cropped")
    transform = make_obs_transform(config, (210, 160))
    frames = np.random.default_rng(0).integers(0, 256, (2, 4, 210, 160), dtype=np.uint8)
    naive = np.zeros((2, 4, 80, 80), np.uint8)
    for i in range(80):
        for j in range(80):
            naive[..., i, j] = frames[..., 31 + int((i + 0.5) * 164 / 80), int((j + 0.5) * 2)]
    np.testing.assert_array_equal(transform.apply(frames), naive)
    np.testing.assert_array_equal(np.asarray(jax.jit(transform.apply)(jnp.asarray(frames))),
                                  naive)


def test_host_and_device_crop_give_the_same_agent_inputs():
    config = get_preset("breakout-cropped").replace(num_envs=2, replay_capacity=64,
                                                     warmup_steps=32)
    host = VecEnv(config.replace(obs_transform_on="host"), 2, 0, 100, host_transform=True)
    raw = VecEnv(config, 2, 0, 100)
    assert host.spec.obs_shape == (4, 80, 80) and raw.spec.obs_shape == (4, 210, 160)
    agents = {"host": make_agent(config.replace(obs_transform_on="host"), host.spec),
              "device": make_agent(config, raw.spec)}
    states = {k: a.init(jax.random.PRNGKey(0)[None]) for k, a in agents.items()}
    steps = {"host": host.reset(), "device": raw.reset()}
    for _ in range(6):
        actions = {}
        for k in agents:
            states[k], a = agents[k].act(states[k], step_input([steps[k]]))
            actions[k] = np.asarray(a)[0]
        np.testing.assert_array_equal(actions["host"], actions["device"])
        steps = {"host": host.step(actions["host"]), "device": raw.step(actions["device"])}
    np.testing.assert_array_equal(np.asarray(states["host"].replay.frames),
                                  np.asarray(states["device"].replay.frames))
    host.close()
    raw.close()


def test_bad_crop_and_schedule_values_are_config_errors():
    nature = PRESETS["nature"]
    for changes in ({"obs_crop_rows": (50, 20)}, {"obs_crop_rows": (0, 300)},
                    {"obs_resize": (80,)}, {"obs_transform_on": "gpu"},
                    {"epsilon_schedule": "episodic"}, {"epsilon_episode_decay": 1.5},
                    {"update_trigger": "sometimes"}, {"updates_per_episode": 0},
                    {"reward_scale": 0.0}, {"frame_stack": 0}):
        with pytest.raises(ConfigError):
            nature.replace(**changes).validate()


# --- the experiment script and the presets ------------------------------------------
def test_running_mean_and_episodes_to_solve_by_hand():
    scores = [0.0, 10.0, 20.0, 30.0]
    np.testing.assert_allclose(seed_agents.running_mean(scores, window=2), [0, 5, 15, 25])
    assert seed_agents.episodes_to_solve(scores, 15.0, window=2) == 3
    assert seed_agents.episodes_to_solve(scores, 26.0, window=2) is None
    # a full window is required: one high first score does not count
    assert seed_agents.episodes_to_solve([300.0, 0.0, 0.0], 200.0, window=2) is None


TINY = {  # a few hundred steps of each preset, with its components, on small buffers
    "lunarlander": ["warmup_steps=64", "eval_episodes=2", "log_every=100"],
    "spaceinvaders-ram": ["warmup_steps=128", "replay_capacity=2000", "eval_episodes=1",
                          "eval_max_episode_steps=50", "max_episode_steps=100",
                          "log_every=100"],
    "breakout-double": ["warmup_steps=200", "replay_capacity=1000", "eval_episodes=1",
                        "eval_max_episode_steps=50", "log_every=100"],
    "breakout-double-nature": ["warmup_steps=200", "replay_capacity=1000",
                               "eval_episodes=1", "eval_max_episode_steps=50",
                               "log_every=100"],
    "breakout-cropped": ["warmup_steps=200", "replay_capacity=1000", "eval_episodes=1",
                         "eval_max_episode_steps=50", "log_every=100"],
}


@pytest.mark.parametrize("name", list(seed_agents.AGENTS))
def test_each_preset_trains_a_few_hundred_steps_and_writes_its_logs(name, tmp_path):
    out = str(tmp_path / name)
    overrides = TINY[name] + ["checkpoint_every=0", "eval_every=0"]
    total = 400
    random_episodes = 10 if name == "lunarlander" else 0
    path = seed_agents.run_agent(name, [0], out, total_steps=total, overrides=overrides,
                                 random_episodes=random_episodes, quiet=True)
    run_dir = os.path.join(out, "runs", name)
    config = json.load(open(os.path.join(run_dir, "config.json")))
    assert config["total_steps"] == total and config["env_id"] == PRESETS[name].env_id
    metrics = [json.loads(line) for line in open(os.path.join(run_dir, "metrics.jsonl"))]
    assert metrics[-1]["step"] == total and "episodes" in metrics[-1]
    assert any("loss" in m for m in metrics), "no update ran"
    for f in ("curves.png", "results.md", "results.json"):
        assert os.path.getsize(os.path.join(out, f)) > 0
    if name == "lunarlander":  # the solve column and the random baseline
        result = json.load(open(os.path.join(out, "results.json")))
        assert result["seeds"][0]["episodes_to_solve"] is None
        random = json.load(open(os.path.join(out, "random_baseline.json")))
        assert random["episodes"] == 10
        assert random["ci95"][0] <= random["mean"] <= random["ci95"][1]
        assert random["mean"] == pytest.approx(np.mean(random["scores"]))
        assert "Uniform-random play" in open(path).read()


def test_cli_bad_input_exits_2_before_training(tmp_path, capsys):
    for argv in (["pong"], ["lunarlander", "--seeds", "x"],
                 ["lunarlander", "--set", "no_such_field=1"],
                 ["lunarlander", "--random-episodes", "-3"]):
        assert seed_agents.main(argv + ["--out", str(tmp_path / "o")]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("seed_agents: error:")
    assert not os.path.exists(tmp_path / "o")


def _run_on_disk(tmp_path, config, summary: dict):
    """A run directory as decide() reads it: config, summary and a checkpoint marker."""
    run_dir = tmp_path / "run"
    (run_dir / "checkpoint").mkdir(parents=True)
    (run_dir / "checkpoint" / "host.json").write_text("{}")
    (run_dir / "config.json").write_text(config.to_json())
    (run_dir / "summary.json").write_text(json.dumps(summary))
    return run_dir


def test_a_larger_total_steps_extends_a_checkpointed_run(tmp_path):
    config = seed_agents.agent_config("lunarlander", [0])
    run_dir = _run_on_disk(tmp_path, config, {"stopped_by": None})
    bigger = config.replace(total_steps=config.total_steps + 1)
    assert decide(str(run_dir), bigger, extend=True) == "extend"
    # when and where it saves may differ, as for any resume: nothing it learns changes
    assert decide(str(run_dir), bigger.replace(
        checkpoint_minutes=config.checkpoint_minutes + 5), extend=True) == "extend"
    assert decide(str(run_dir), config, extend=True) == "reuse"
    with pytest.raises(seed_agents.AblationError):  # another change is refused
        decide(str(run_dir), bigger.replace(gamma=0.9), extend=True)


def test_a_smaller_total_steps_ends_a_stopped_run_not_below_its_steps(tmp_path):
    # An open-ended preset (spaceinvaders-ram plans 10M steps, "stop it any time") gets
    # its final evaluation by resuming with the total it should end at.
    config = seed_agents.agent_config("spaceinvaders-ram", [0])
    run_dir = _run_on_disk(tmp_path, config, {"steps": 900_000, "stopped_by": "SIGINT"})
    for total in (900_000, 3_000_000):
        assert decide(str(run_dir), config.replace(total_steps=total), extend=True) == "resume"
    with pytest.raises(seed_agents.AblationError, match="900,000 steps per seed already"):
        decide(str(run_dir), config.replace(total_steps=899_999), extend=True)
    with pytest.raises(seed_agents.AblationError):  # only where extending is asked
        decide(str(run_dir), config.replace(total_steps=3_000_000))
    # a finished run is not cut shorter: its logs and evaluation are of its own total
    (run_dir / "summary.json").write_text(json.dumps({"steps": config.total_steps,
                                                       "stopped_by": None}))
    with pytest.raises(seed_agents.AblationError, match="another config"):
        decide(str(run_dir), config.replace(total_steps=3_000_000), extend=True)


def test_cropped_preset_replay_is_sized_after_the_crop_and_fits_24_gb():
    # The preflight once sized note 002's replay from envpool's 210x160 screen (33.6 GB at
    # 1M: the preset could not start on a 24 GB machine) though it stores 80x80 frames.
    from purejaxdqn.envs.envpool import EnvSpec
    from purejaxdqn.run.preflight import replay_bytes

    config = get_preset("breakout-cropped")
    raw = EnvSpec(kind="atari", envpool_id="Breakout-v5", game="Breakout", num_actions=4,
                  obs_shape=(4, 210, 160), obs_dtype=np.uint8, frame_stack=4)
    replay = jax.eval_shape(make_agent(config, raw).init, jax.random.PRNGKey(0)[None]).replay
    assert replay.frames.shape[-2:] == (80, 80)
    real = sum(leaf.size * leaf.dtype.itemsize for leaf in jax.tree_util.tree_leaves(replay))
    assert replay_bytes(config) == real
    assert 6.4e9 <= real < 20e9  # 1M 80x80 frames and their flags, well under 24 GB
