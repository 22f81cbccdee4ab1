"""`purejaxdqn watch` and `train --record-video-every`: a tiny trained CartPole run
is played into MP4 and GIF files that must decode with one frame per step plus
one per reset, at gymnasium's screen size plus the Q panel; Atari observations
are checked against envpool's on the same ROM state; bad input is one line, exit 2.
"""

import json
import os
import re

import imageio.v3 as iio
import jax
import numpy as np
import pytest

from purejaxdqn.envs.players import AtariPlayer, area_resize
from purejaxdqn.presets import CARTPOLE, NATURE
from purejaxdqn.run import checkpoint
from purejaxdqn.run.render import PANEL_WIDTH
from purejaxdqn.run.train import train
from purejaxdqn.run.watch import _learner_template
from purejaxdqn.tools import cli

# imageio-ffmpeg forks ffmpeg; JAX warns about any fork, needlessly here
pytestmark = pytest.mark.filterwarnings("ignore:os.fork")

CARTPOLE_SCREEN = (400, 600)  # gymnasium's CartPole renderer: 600 x 400 pixels
TINY = CARTPOLE.replace(total_steps=1_000, warmup_steps=500, eval_every=1_000, eval_episodes=2,
                        log_every=250, seeds=(0, 1), record_video_every=1_000)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    run = str(tmp_path_factory.mktemp("tiny") / "run")
    train(TINY, run, progress=False)
    return run


def watch(capsys, *args):
    code = cli.main(["watch", *args])
    out, err = capsys.readouterr()
    return code, out, err


def game_lengths(out):
    return [int(n) for n in re.findall(r"^game \d+: score [-\d.]+, (\d+) steps$", out, re.M)]


@pytest.mark.parametrize("ext, episodes, scale", [("mp4", 2, 1.0), ("gif", 1, 0.5)])
def test_watch_writes_video_with_a_frame_per_step(run_dir, tmp_path, capsys, ext, episodes,
                                                  scale):
    path = str(tmp_path / f"agent.{ext}")
    code, out, err = watch(capsys, run_dir, "--video", path, "--episodes", str(episodes),
                           "--seed-index", "1", "--scale", str(scale))
    assert code == 0, err
    lengths = game_lengths(out)
    assert len(lengths) == episodes and all(n > 0 for n in lengths)
    # CartPole pays 1 per step, so each printed score equals the game's length
    assert [float(s) for s in re.findall(r"score ([\d.]+),", out)] == lengths
    frames = iio.imread(path, index=None)
    height, width = (round(n * scale) for n in CARTPOLE_SCREEN)
    assert frames.shape == (sum(n + 1 for n in lengths), height, width + PANEL_WIDTH, 3)
    assert f"({frames.shape[0]} frames)" in out


def test_watch_without_video_prints_scores(run_dir, capsys):
    code, out, err = watch(capsys, run_dir, "--episodes", "3", "--epsilon", "1.0")
    assert code == 0, err
    assert len(game_lengths(out)) == 3 and "mean score" in out and "epsilon 1" in out


def test_train_records_video_at_its_period(run_dir):
    path = os.path.join(run_dir, "videos", "step000001000.mp4")
    frames = iio.imread(path, index=None)
    assert frames.shape[0] >= 2 and frames.shape[1:] == (
        CARTPOLE_SCREEN[0], CARTPOLE_SCREEN[1] + PANEL_WIDTH, 3)


def _bad_inputs(run_dir, tmp_path):
    bare = tmp_path / "bare"
    bare.mkdir()
    no_ckpt = tmp_path / "no_ckpt"
    no_ckpt.mkdir()
    (no_ckpt / "config.json").write_text(TINY.to_json())
    video = str(tmp_path / "v.mp4")
    return [
        ([str(tmp_path / "missing")], "does not exist"),
        ([str(no_ckpt / "config.json")], "is a file, not a run directory"),
        ([str(bare)], "not a purejaxdqn run directory"),
        ([str(no_ckpt)], "has no checkpoint"),
        ([run_dir, "--video", str(tmp_path / "v.avi")], "unknown video extension '.avi'"),
        ([run_dir, "--video", str(tmp_path / "no" / "v.mp4")], "does not exist"),
        ([run_dir, "--seed-index", "2", "--video", video], "--seed-index 2 is out of range"),
        ([run_dir, "--step", "5", "--video", video], "latest checkpoint only, at step 1000"),
        ([run_dir, "--episodes", "0", "--video", video], "--episodes must be at least 1"),
        ([run_dir, "--epsilon", "2", "--video", video], "--epsilon must be in [0, 1]"),
        ([run_dir, "--scale", "0", "--video", video], "--scale must be in [0.05, 4]"),
    ]


def test_bad_input_is_one_line_exit_2_before_work(run_dir, tmp_path, capsys):
    for args, fragment in _bad_inputs(run_dir, tmp_path):
        code, out, err = watch(capsys, *args)
        assert code == 2, (args, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and fragment in lines[0], (args, err)
        assert out == "" and not os.path.exists(tmp_path / "v.mp4")


def test_area_resize_hand_computed():
    rgb = np.zeros((2, 4, 3), np.uint8)
    rgb[:, :2] = [200, 100, 0]
    assert area_resize(rgb, 1, 2).tolist() == [[[200, 100, 0], [0, 0, 0]]]
    block = np.arange(16, dtype=np.uint8).reshape(4, 4)
    # 4 -> 2: each output pixel is the mean of a 2x2 block; the means 2.5, 4.5, 10.5 and
    # 12.5 round half up, as OpenCV's exact-2x path does (envpool's 105x80 frames: see
    # the breakout-double case below, which equals envpool byte for byte)
    assert area_resize(block, 2, 2).tolist() == [[3, 5], [11, 13]]
    # 5 -> 2 along one axis: weights [1, 1, .5, 0, 0] / 2.5 and [0, 0, .5, 1, 1] / 2.5
    row = np.array([[0, 10, 20, 30, 40]], np.uint8)
    assert area_resize(row, 1, 2).tolist() == [[round((0 + 10 + 10) / 2.5),
                                                 round((10 + 30 + 40) / 2.5)]]


def test_area_resize_halves_bytes_rounding_half_up():
    # 2x2 blocks summing to 10 (2.5) and 6 (1.5): OpenCV's 2x path rounds both up
    image = np.array([[1, 2, 0, 1], [3, 4, 0, 5]], np.uint8)
    assert area_resize(image, 1, 2).tolist() == [[3, 2]]


@pytest.mark.parametrize("preset, game", [
    ("nature", "Pong"), ("nature", "Breakout"), ("nature", "Breakout-ram"),
    ("breakout-double", "Breakout"),  # one 105x80 frame
    ("breakout-cropped", "Breakout"),  # 210x160 frames, rows 31:195 resized to 80x80
])
def test_atari_player_sees_what_envpool_feeds_the_network(preset, game):
    """Same ROM, ALE seed and actions (one no-op at reset on both sides): every stack
    (4x84x84 for Nature, the preset's own shape otherwise, after its crop) or RAM
    observation equal to what the evaluation env feeds the network, byte for byte."""
    from purejaxdqn.envs.envpool import VecEnv
    from purejaxdqn.presets import get_preset

    config = get_preset(preset).replace(env_id=game, noop_max=0)
    env = VecEnv(config, 1, 7, config.eval_max_episode_steps, host_transform=True)
    player = AtariPlayer(config, 7, env.game, ram=env.kind == "atari_ram")
    ours, theirs = player.reset(), env.reset().obs[0]
    rng = np.random.default_rng(0)
    try:
        for _ in range(150):
            np.testing.assert_array_equal(ours, theirs)
            action = int(rng.integers(env.spec.num_actions))
            ours, _, _ = player.step(action)
            theirs = env.step(np.array([action])).obs[0]
    finally:
        env.close()


def _untrained_run(run, config):
    """A run directory holding `config` and a checkpoint of its untrained-shaped learner
    (zeros: only the shapes matter to watch), without training."""
    run.mkdir()
    (run / "config.json").write_text(config.to_json())
    checkpoint.save(str(run), _learner_template(config), None, {"steps": 0},
                    np.zeros((0, 1, config.num_envs), np.uint8))
    return run


def test_watch_atari_renders_colour_screen(tmp_path, capsys):
    """An untrained Pong agent (checkpoint written directly): native 210x160 colour
    screen at 2x beside the panel, one frame per step of a 12-step capped game."""
    config = NATURE.replace(env_id="Pong", eval_max_episode_steps=12, noop_max=3)
    run = _untrained_run(tmp_path / "pong", config)
    path = str(tmp_path / "pong.gif")
    code, out, err = watch(capsys, str(run), "--video", path)
    assert code == 0, err
    frames = iio.imread(path, index=None)
    assert frames.shape == (13, 420, 320 + PANEL_WIDTH, 3)
    screen = frames[0, :, :320]
    assert (np.ptp(screen.reshape(-1, 3), axis=0) > 0).any() and \
        not np.all(screen[..., 0] == screen[..., 1])  # colour, not grey


@pytest.mark.parametrize("preset", ["breakout-double", "breakout-cropped"])
def test_watch_plays_the_notes_breakout_agents(tmp_path, capsys, preset):
    """One 105x80 frame (note 004) and cropped 80x80 stacks (note 002): the player feeds
    the network the shape it was built for (an untrained checkpoint, a 12-step game)."""
    from purejaxdqn.presets import get_preset

    config = get_preset(preset).replace(eval_max_episode_steps=12, replay_capacity=1_000,
                                        warmup_steps=200)
    run = _untrained_run(tmp_path / preset, config)
    code, out, err = watch(capsys, str(run), "--video", str(tmp_path / "v.gif"))
    assert code == 0, err
    assert "game 1: score" in out and "12 steps" in out
    assert iio.imread(tmp_path / "v.gif", index=None).shape[0] == 13


def test_watch_plays_a_minatar_run(tmp_path, capsys):
    """MinAtar has no envpool: the player steps the run's own JAX env and draws its grid
    (an untrained checkpoint of the minatar preset, a 12-step game)."""
    from purejaxdqn.envs.players import MINATAR_CELL, MinAtarPlayer
    from purejaxdqn.presets import get_preset

    config = get_preset("minatar").replace(env_id="Breakout-MinAtar", eval_max_episode_steps=12)
    run = _untrained_run(tmp_path / "minatar", config)
    code, out, err = watch(capsys, str(run), "--video", str(tmp_path / "m.gif"))
    assert code == 0, err
    assert "game 1: score" in out
    frames = iio.imread(tmp_path / "m.gif", index=None)
    assert frames.shape[1:] == (10 * MINATAR_CELL, 10 * MINATAR_CELL + PANEL_WIDTH, 3)
    # the screen: one colour per cell, black where the grid is empty
    player = MinAtarPlayer(config, 0)
    obs = player.reset()
    screen = player.screen()
    assert obs.shape == (4, 10, 10)  # Breakout's channels: paddle, ball, trail, brick
    empty = ~obs.any(axis=0)
    assert (screen[::MINATAR_CELL, ::MINATAR_CELL][empty] == 0).all()
    assert (screen[::MINATAR_CELL, ::MINATAR_CELL][~empty].sum(axis=-1) > 0).all()


def test_a_failed_training_video_is_one_warning_not_a_crash(tmp_path, capsys, monkeypatch):
    from purejaxdqn.run import watch as watch_lib
    def broken(config, seed):
        raise OSError("no display\nsecond line")

    monkeypatch.setattr(watch_lib, "make_player", broken)
    assert watch_lib.record_video(TINY, str(tmp_path), {}, 2_000) is None
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["purejaxdqn: warning: no video at step 2,000 (OSError: no display)"]
