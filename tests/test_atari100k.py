import os

import jax
import numpy as np
import pytest

from purejaxdqn.agent import make_agent
from purejaxdqn.envs.envpool import make_env
from purejaxdqn.presets import PRESETS
from purejaxdqn.run import checkpoint
from purejaxdqn.run.runlog import read_jsonl
from purejaxdqn.run.train import train


def test_data_efficient_preset_is_drq_eps():
    c = PRESETS["data-efficient"].validate()
    assert (c.n_step, c.gamma, c.warmup_steps, c.steps_per_update) == (10, 0.99, 1_600, 1)
    assert (c.target_update_period_updates, c.target, c.dueling) == (1, "double", True)
    assert (c.optimizer, c.learning_rate, c.adam_eps, c.batch_size) == ("adam", 1e-4, 1.5e-4, 32)
    assert (c.epsilon_end, c.epsilon_decay_steps, c.eval_epsilon) == (0.01, 5_000, 0.001)
    assert (c.total_steps, c.eval_episodes, c.eval_max_episode_steps) == (100_000, 100, 27_000)
    assert (c.sticky_action_prob, c.life_loss_terminal, c.augmentation) == (
        0.0, True, "shift_intensity")


def test_data_efficient_preset_trains_a_few_hundred_steps(tmp_path):
    # The preset as is, at toy scale: one update per agent step after a short warm-up.
    # (Resuming with the replay checkpointed is covered in test_train.py.)
    config = PRESETS["data-efficient"].replace(
        env_id="Pong", total_steps=300, warmup_steps=50, replay_capacity=1_000,
        eval_episodes=1, eval_max_episode_steps=50, log_every=100, checkpoint_every=0)
    run = str(tmp_path / "pong")
    summary = train(config, run, progress=False)
    assert summary["stopped_by"] is None and summary["steps"] == 300
    env = make_env(config)
    agent = make_agent(config, env.spec)
    env.close()
    template = agent.init(jax.numpy.stack([jax.random.PRNGKey(0)]))
    learner, replay, _, _ = checkpoint.load(run, template.learner, template.replay)
    # a finished run's final checkpoint leaves the replay out (nothing more to learn)
    assert replay is None and int(learner.updates[0]) == 300 - 50
    metrics = read_jsonl(os.path.join(run, "metrics.jsonl"))
    assert np.isfinite(metrics[-1]["loss"]) and metrics[-1]["epsilon"] < 1.0
    assert read_jsonl(os.path.join(run, "eval.jsonl"))[-1]["episodes"] == 1


def _fake_run(out, game, seed, score, total=100_000, finished=True):
    """A run dir as train() leaves it, without training."""
    import json

    from experiments.atari100k import game_config, run_dir

    path = run_dir(str(out), game, seed)
    os.makedirs(path)
    config = game_config(game, seed)
    with open(os.path.join(path, "config.json"), "w") as f:
        f.write(config.to_json())
    steps = total if finished else total // 2
    with open(os.path.join(path, "summary.json"), "w") as f:
        json.dump({"steps": steps, "stopped_by": None if finished else "SIGTERM"}, f)
    if finished:
        with open(os.path.join(path, "eval.jsonl"), "w") as f:
            f.write(json.dumps({"seed": seed, "step": total, "episodes": 100,
                                "score_mean": score, "score_median": score}) + "\n")
    with open(os.path.join(path, "episodes.csv"), "w") as f:
        f.write("seed,step,score,length\n" + "".join(
            f"{seed},{1000 * (i + 1)},{score - 5 + i},800\n" for i in range(12)))
    return path


def test_summary_table_means_hns_and_in_progress_runs(tmp_path):
    from experiments.atari100k import summarize

    _fake_run(tmp_path, "Pong", 0, -10.0)
    _fake_run(tmp_path, "Pong", 1, -4.0)
    _fake_run(tmp_path, "Boxing", 0, 6.1)
    _fake_run(tmp_path, "Breakout", 0, 0.0, finished=False)
    text = open(summarize(str(tmp_path), published_dir=None)).read()  # the papers' means only
    # Pong: mean of -10 and -4 = -7; HNS (-7 + 20.7) / (14.6 + 20.7) = 0.388
    pong = next(line for line in text.splitlines() if line.startswith("| Pong |"))
    assert "| 2 | -7.0 |" in pong and "| 0.388 |" in pong and "| -20.7 | 14.6 |" in pong
    # the papers' means: DER -19.3, HNS 1.4 / 35.3 = 0.040; OTRainbow 1.3, 22 / 35.3 = 0.623
    assert "| 0.388 | -19.3 | 0.040 | 1.3 | 0.623 | -20.7 |" in pong
    boxing = next(line for line in text.splitlines() if line.startswith("| Boxing |"))
    assert "| 1 | 6.1 | – (1 seed) | 0.500 |" in boxing  # (6.1 - 0.1) / (12.1 - 0.1)
    assert "| Breakout | 0 | 50,000 / 100,000 | unfinished, no checkpoint" in text
    assert "IQM of HNS over the 2 finished game(s) (Boxing, Pong;" in text
    # every game has 1 seed in common: Pong seed 0 (-10: HNS 10.7 / 35.3 = 0.303) and
    # Boxing (0.500); trimming a quarter of 2 values drops none, so the IQM is their mean
    assert "ours **0.402**" in text
    # DER: Pong 0.040, Boxing (0.2 - 0.1) / 12 = 0.008, mean 0.024; OTRainbow: 0.623 and
    # (2.5 - 0.1) / 12 = 0.2, mean 0.412; one mean per game, so no interval
    assert "DER **0.024** (the papers' per-game means: no interval)" in text
    assert "OTRainbow **0.412**" in text
    assert "van Hasselt, Hessel & Aslanides 2019" in text and "Kielak 2019" in text
    assert os.path.exists(tmp_path / "learning_curves.png") and os.path.exists(tmp_path / "iqm.png")
    rows = open(tmp_path / "results.csv").read().splitlines()
    assert len(rows) == 5 and rows[0].startswith("game,seed,steps")


def test_a_run_stopped_before_its_first_game_ends_is_summarized(tmp_path):
    # a study stopped (SIGTERM) early in a game's warm-up: no finished game logged yet
    from experiments.atari100k import summarize

    path = _fake_run(tmp_path, "Kangaroo", 0, 0.0, finished=False)
    with open(os.path.join(path, "episodes.csv"), "w") as f:
        f.write("seed,step,score,length\n")
    text = open(summarize(str(tmp_path))).read()
    assert "| Kangaroo | 0 | 50,000 / 100,000 | unfinished" in text


def test_published_runs_give_means_and_a_same_games_iqm(tmp_path):
    import json

    from experiments.atari100k import summarize

    _fake_run(tmp_path, "Pong", 0, -10.0)
    _fake_run(tmp_path, "Boxing", 0, 6.1)
    published = tmp_path / "published"
    published.mkdir()
    # DrQ(eps): Pong runs -20.7 and 14.6 (HNS 0 and 1), Boxing 0.1 and 12.1 (HNS 0 and 1)
    (published / "DrQ(eps).json").write_text(json.dumps(
        {"Pong": [-20.7, 14.6], "Boxing": [0.1, 12.1], "Alien": [300.0, 500.0]}))
    text = open(summarize(str(tmp_path), str(published))).read()
    pong = next(line for line in text.splitlines() if line.startswith("| Pong |"))
    # DrQ(eps) mean of -20.7 and 14.6, then random and human: no DER.json, no column
    assert "| -3.0 | 0.500 | -20.7 | 14.6 |" in pong
    # IQM of {0, 0, 1, 1}: drop the lowest and highest quarter, mean of {0, 1} = 0.5
    assert "DrQ(eps) **0.500**" in text and "(2 runs/game)" in text
    assert "rliable's released `DrQ(eps).json`" in text
    assert "DER (Agarwal et al. re-runs): not shown" in text
    # our Pong run (-10.0) among DrQ(eps)'s two: one below, one above; Boxing 6.1 likewise
    assert "| Pong | 0 | -10.0 | 1 below, 0 equal, 1 above (50.0th percentile) |" in text


def test_placement_counts_ties_as_half():
    from experiments.atari100k import placement

    assert placement(0.0, [0.0, 0.0, 1.0, -1.0]) == \
        "1 below, 2 equal, 1 above (50.0th percentile)"
    assert placement(5.0, [1.0, 2.0]) == "2 below, 0 equal, 0 above (100.0th percentile)"


def test_shipped_published_runs_are_rliables_100_per_game():
    from experiments.atari100k import PUBLISHED_RUNS_DIR, load_published

    published = load_published(PUBLISHED_RUNS_DIR)
    assert set(published) == {"DrQ(eps)", "SPR"}
    for runs in published.values():
        assert len(runs) == 26 and all(len(scores) == 100 for scores in runs.values())
    # the check: DrQ(eps) scores 0 on Freeway in 27 of its 100 runs
    assert sum(score == 0 for score in published["DrQ(eps)"]["Freeway"]) == 27


def test_study_reuses_finished_runs_and_rejects_bad_input(tmp_path, capsys):
    import pytest

    from experiments.atari100k import main

    _fake_run(tmp_path, "Pong", 0, -10.0)
    assert main(["--games", "pong", "--seeds", "0", "--out", str(tmp_path)]) == 0
    assert "finished, reused" in capsys.readouterr().out
    with pytest.raises(SystemExit) as info:
        main(["--games", "Pongg", "--out", str(tmp_path)])
    assert info.value.code == 2
    assert "unknown environment 'Pongg'" in capsys.readouterr().err


def test_target_period_one_computes_next_q_once_with_the_same_update():
    """DrQ's target period of 1 update skips the (identical) target forward pass; the
    first update must equal the generic path's, whose target is still the initial copy."""
    from purejaxdqn.learner import Transitions, init_train_state
    from purejaxdqn.parts import build_network, build_optimizer, build_update

    base = PRESETS["data-efficient"].replace(augmentation="none", torso="mlp", mlp_hidden=(16,),
                                             head_hidden=8)
    net = build_network(base, 3, (5,))
    rng = np.random.default_rng(0)
    batch = Transitions(obs=jax.numpy.asarray(rng.normal(size=(8, 5)), "float32"),
                        action=jax.numpy.asarray(rng.integers(0, 3, 8), "int32"),
                        reward=jax.numpy.asarray(rng.normal(size=8), "float32"),
                        discount=jax.numpy.full(8, 0.9, "float32"),
                        next_obs=jax.numpy.asarray(rng.normal(size=(8, 5)), "float32"),
                        weight=jax.numpy.ones(8, "float32"))
    results = []
    for period in (1, 2):  # 1: the shortcut; 2: the generic three-pass update
        config = base.replace(target_update_period=period)
        opt = build_optimizer(config)
        state = init_train_state(jax.random.PRNGKey(0), net, opt, batch.obs[:1])
        new_state, metrics = jax.jit(build_update(config, net))(state, batch)
        results.append((new_state.params, metrics["loss"]))
    assert float(results[0][1]) == float(results[1][1])
    for a, b in zip(jax.tree_util.tree_leaves(results[0][0]),
                    jax.tree_util.tree_leaves(results[1][0])):
        np.testing.assert_array_equal(a, b)


def test_unreadable_checkpoint_is_one_line_exit_2(tmp_path, capsys):
    # An interrupted run whose checkpoint cannot be restored (here: an empty host.json)
    # is reported in one line, not a traceback.
    from experiments.atari100k import main

    path = _fake_run(tmp_path, "Pong", 0, 0.0, finished=False)
    os.makedirs(os.path.join(path, "checkpoint"))
    with open(os.path.join(path, "checkpoint", "host.json"), "w") as f:
        f.write("{}")
    with pytest.raises(SystemExit) as exit_info:
        main(["--games", "Pong", "--seeds", "0", "--out", str(tmp_path), "--no-progress"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("atari100k: error: checkpoint in")
