import os

import jax
import numpy as np

from purejaxdqn import checkpoint
from purejaxdqn.agent import make_agent
from purejaxdqn.config import PRESETS
from purejaxdqn.envs import make_env
from purejaxdqn.runlog import read_jsonl
from purejaxdqn.train import train


def test_data_efficient_preset_is_drq_eps():
    c = PRESETS["data-efficient"].validate()
    assert (c.n_step, c.gamma, c.warmup_steps, c.steps_per_update) == (10, 0.99, 1_600, 1)
    assert (c.target_update_period_updates, c.target, c.dueling) == (1, "double", True)
    assert (c.optimizer, c.learning_rate, c.adam_eps, c.batch_size) == ("adam", 1e-4, 1.5e-4, 32)
    assert (c.epsilon_end, c.epsilon_decay_steps, c.eval_epsilon) == (0.01, 5_000, 0.001)
    assert (c.total_steps, c.eval_episodes, c.eval_max_episode_steps) == (100_000, 100, 27_000)
    assert (c.sticky_action_prob, c.life_loss_terminal, c.augmentation) == (
        0.0, True, "shift_intensity")


def test_data_efficient_preset_trains_a_few_hundred_steps_and_resumes(tmp_path):
    config = PRESETS["data-efficient"].replace(
        env_id="Pong", total_steps=400, warmup_steps=100, replay_capacity=1_000,
        eval_episodes=1, eval_max_episode_steps=50, log_every=100, checkpoint_every=200)
    run = str(tmp_path / "pong")
    first = train(config, run, progress=False, stop_after_steps=250)
    assert first["steps"] == 250
    second = train(config, run, resume=True, progress=False)
    assert second["stopped_by"] is None and second["steps"] == 400
    env = make_env(config)
    agent = make_agent(config, env.spec)
    env.close()
    template = agent.init(jax.numpy.stack([jax.random.PRNGKey(0)]))
    learner, replay, _, _ = checkpoint.load(run, template.learner, template.replay)
    # the replay came back with the checkpoint, so learning resumed with no new warm-up:
    # one update per agent step after the first 100
    assert replay is not None and int(learner.updates[0]) == 400 - 100
    metrics = read_jsonl(os.path.join(run, "metrics.jsonl"))
    assert np.isfinite(metrics[-1]["loss"]) and metrics[-1]["epsilon"] < 1.0
    assert read_jsonl(os.path.join(run, "eval.jsonl"))[-1]["episodes"] == 1
