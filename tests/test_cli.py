import json
import os
import subprocess
import sys

import pytest

BAD_INPUTS = [
    (["--game", "Breakot"], "unknown environment 'Breakot'"),
    (["--preset", "cartpole", "--batch-size", "200000"], "larger than replay_capacity"),
    (["--preset", "cartpole", "--warmup-steps", "10"], "must be at least batch_size"),
    (["--preset", "cartpole", "--learning-rate", "-0.001"], "learning_rate must be positive"),
    (["--resume", "no/such/run"], "does not exist"),
    (["--preset", "nope"], "unknown preset 'nope'"),
    (["--preset", "cartpole", "--total-steps", "many"], "invalid int value"),
    (["--preset", "cartpole", "--replay-capacity", "100000000"], "exceeds 2^24"),
    (["--game", "Pong", "--replay-capacity", "16777216", "--seeds", "0,1,2,3,4,5,6,7,8,9"],
     "GB of host memory (MemAvailable) is free"),
    # refused before envpool makes a single emulator (1.3 MB each: 130 GB)
    (["--game", "Pong", "--num-envs", "100000"], "and 100,000 Atari envs about 130.0 GB"),
    (["--preset", "cartpole", "--exact-resume"], "--exact-resume applies only with --resume"),
    (["--preset", "cartpole", "--run-dir", "/proc/purejaxdqn-run"], "is not writable"),
    (["--preset", "cartpole", "--target", "triple"], "invalid choice: 'triple'"),
    (["--preset", "cartpole", "--seed", "5000"], "seeds must be at most 2047"),
    (["--preset", "cartpole", "--total-steps", "99999999999999999999"],
     "total_steps (99,999,999,999,999,999,999) is out of range: at most 2,147,483,647"),
    (["--preset", "cartpole", "--replay-capacity", "-99999999999"], "replay_capacity"),
    (["--preset", "cartpole", "--seeds", ""], "argument --seeds: invalid integer list value"),
    (["--preset", "cartpole", "--stop-at-score", "nan"], "invalid finite float value: 'nan'"),
]


@pytest.mark.parametrize("args, fragment", BAD_INPUTS)
def test_bad_input_is_one_line_exit_2_nothing_written(tmp_path, args, fragment):
    result = subprocess.run([sys.executable, "-m", "purejaxdqn", "train", *args],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], result.stderr
    assert "Traceback" not in result.stderr
    assert os.listdir(tmp_path) == []


def test_resume_of_dir_without_checkpoint(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text("{}")
    result = subprocess.run([sys.executable, "-m", "purejaxdqn", "train", "--resume", str(run)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "has no checkpoint" in result.stderr and "Traceback" not in result.stderr
    assert sorted(os.listdir(run)) == ["config.json"]


def test_presets_command_lists_presets():
    result = subprocess.run([sys.executable, "-m", "purejaxdqn", "presets"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0
    assert "nature: (Nature DQN defaults)" in result.stdout
    assert "cartpole:" in result.stdout


def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "purejaxdqn", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def _assert_one_line_exit_2(result, fragment):
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], result.stderr
    assert result.stdout == ""


def _fake_run(tmp_path):
    """A run dir as the resume checks see it: config.json and a checkpoint marker."""
    from purejaxdqn.presets import CARTPOLE

    run = tmp_path / "run"
    (run / "checkpoint").mkdir(parents=True)
    (run / "config.json").write_text(CARTPOLE.to_json())
    (run / "checkpoint" / "host.json").write_text('{"steps": 1000}')
    return run


def _snapshot(path):
    return {os.path.join(d, f): open(os.path.join(d, f), "rb").read()
            for d, _, files in os.walk(path) for f in files}


@pytest.mark.parametrize("args, fragment", [
    (["--learning-rate", "0.001"], "--learning-rate cannot change on resume"),
    (["--num-envs", "8"], "--num-envs cannot change on resume (the run has 4, got 8)"),
    (["--game", "Pong"], "--game cannot change on resume"),
    (["--total-steps", "200000"], "--total-steps cannot change on resume"),
    (["--preset", "cartpole"], "--preset cannot be used with --resume"),
    (["--run-dir", "elsewhere"], "--run-dir cannot be used with --resume"),
    (["--overwrite"], "--overwrite cannot be used with --resume"),
    (["--exact-resume"], "--exact-resume needs the replay"),
])
def test_resume_refuses_flags_that_change_the_run(tmp_path, args, fragment):
    run = _fake_run(tmp_path)
    before = _snapshot(tmp_path)
    _assert_one_line_exit_2(_cli("train", "--resume", str(run), *args, cwd=tmp_path), fragment)
    assert _snapshot(tmp_path) == before  # nothing written, config.json untouched


def test_resume_of_a_file_says_it_is_not_a_directory(tmp_path):
    (tmp_path / "run.json").write_text("{}")
    _assert_one_line_exit_2(_cli("train", "--resume", str(tmp_path / "run.json")),
                            "is a file, not a run directory")


def test_resume_of_a_finished_run_says_it_is_finished(tmp_path):
    from purejaxdqn.presets import CARTPOLE

    run = _fake_run(tmp_path)
    # finished: its last evaluation is at its last step (one stopped during the final
    # evaluation is resumable: tests/test_stopping.py)
    (run / "checkpoint" / "host.json").write_text(
        '{"steps": %d, "has_replay": false, "evaluations": [{"step": %d}]}'
        % (CARTPOLE.total_steps, CARTPOLE.total_steps))
    before = _snapshot(tmp_path)
    result = _cli("train", "--resume", str(run))
    _assert_one_line_exit_2(result, f"is finished ({CARTPOLE.total_steps:,} of "
                                    f"{CARTPOLE.total_steps:,} steps)")
    assert "--total-steps" in result.stderr and "--exact-resume" not in result.stderr
    assert _snapshot(tmp_path) == before


def test_run_dir_names_every_seed():
    from purejaxdqn.presets import CARTPOLE
    from purejaxdqn.tools.cli import _seeds_name

    assert _seeds_name(CARTPOLE.replace(seed=3)) == "seed3"
    assert _seeds_name(CARTPOLE.replace(seeds=(0, 1, 2))) == "seeds0-1-2"


def test_fused_engine_on_atari_warns_on_cpu_only():
    import jax

    from purejaxdqn.engines import slower_engine_warning
    from purejaxdqn.presets import NATURE

    warning = slower_engine_warning(NATURE.replace(engine="fused"))
    if jax.default_backend() == "cpu":
        assert "--engine fused on Atari" in warning and "\n" not in warning
    else:
        assert warning is None
    assert slower_engine_warning(NATURE) is None  # auto
    assert slower_engine_warning(NATURE.replace(env_id="CartPole-v1", engine="fused")) is None


def test_resume_accepts_the_allow_list_and_repeated_values():
    from purejaxdqn.presets import CARTPOLE
    from purejaxdqn.run.preflight import RESUME_MAY_CHANGE, check_resume_flags

    assert RESUME_MAY_CHANGE == ("checkpoint_every", "checkpoint_minutes", "wandb_project")
    allowed = check_resume_flags(CARTPOLE, {"checkpoint_minutes": 1.0, "num_envs": 4,
                                            "checkpoint_every": 0})
    assert allowed == {"checkpoint_minutes": 1.0, "checkpoint_every": 0}
    pong = CARTPOLE.replace(env_id="Pong")
    allowed = check_resume_flags(pong, {"env_id": "pong-v5", "checkpoint_minutes": 1.0})
    assert allowed == {"checkpoint_minutes": 1.0}


def test_run_dir_that_is_a_file(tmp_path):
    (tmp_path / "taken").write_text("x")
    for run_dir in ("taken", "taken/run"):
        _assert_one_line_exit_2(
            _cli("train", "--preset", "cartpole", "--run-dir", run_dir, cwd=tmp_path),
            "is a file")
    assert os.listdir(tmp_path) == ["taken"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only directories")
def test_read_only_run_dir(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        _assert_one_line_exit_2(_cli("train", "--preset", "cartpole", "--run-dir",
                                     str(locked / "run")), "is not writable")
    finally:
        locked.chmod(0o755)


def test_run_dir_with_old_logs_needs_overwrite(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "episodes.csv").write_text("seed,step,score,length\n0,4,10.0,4\n")
    (run / "notes.txt").write_text("mine")
    _assert_one_line_exit_2(_cli("train", "--preset", "cartpole", "--run-dir", str(run)),
                            "holds the logs of an earlier run (episodes.csv)")
    assert (run / "episodes.csv").read_text().count("\n") == 2

    from purejaxdqn.tools.cli import main

    code = main(["train", "--preset", "cartpole", "--run-dir", str(run), "--overwrite",
                 "--total-steps", "600", "--warmup-steps", "500", "--eval-every", "0",
                 "--eval-episodes", "1", "--no-progress"])
    assert code == 0
    with open(run / "episodes.csv") as f:
        rows = f.read().splitlines()
    assert rows[0] == "seed,step,score,length" and "0,4,10.0,4" not in rows
    assert (run / "notes.txt").read_text() == "mine"  # only the run's own files go


def test_presets_into_a_closed_pipe_is_silent():
    proc = subprocess.Popen([sys.executable, "-m", "purejaxdqn", "presets"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # like `| head` exiting before the output is written
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0 and err == b"", err


def test_help_describes_every_flag_and_version():
    from purejaxdqn import __version__
    from purejaxdqn.config import fields_by_name
    from purejaxdqn.tools.cli import build_parser

    parser = build_parser()
    train = parser._subparsers._group_actions[0].choices["train"]
    by_dest = {a.dest: a for a in train._actions}
    fields = fields_by_name().values()  # the run's own and every component's settings
    assert {"soft_tau", "learning_rate", "epsilon_end", "per_alpha"} <= {f.name for f in fields}
    for field in fields:
        action = by_dest[field.name]
        assert action.help and "nature default:" in action.help, field.name
    assert by_dest["target"].choices == ("q_learning", "double")
    assert "{true,false}" == by_dest["dueling"].metavar
    assert by_dest["replay_capacity"].help.endswith("(nature default: 1,000,000)")
    text = train.format_help()  # renders (argparse %-formats every help string)
    assert all(f"--{f.name.replace('_', '-')}" in text for f in fields
               if f.name != "env_id")
    result = _cli("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"purejaxdqn {__version__}"


# Refused in-process (no subprocess per case: the checks run before any work).
NO_SILENT_CHANGE = [
    (["--preset", "cartpole", "--game", "Breakout"],
     "--preset cartpole is made for vector envs (CartPole-v1), not for Breakout (atari)"),
    (["--preset", "minatar", "--game", "Breakout"], "presets for atari envs: nature,"),
    (["--preset", "lunarlander", "--game", "Asterix-MinAtar"],
     "presets for minatar envs: minatar, minatar-rainbow; or an agent preset (nature, "
     "double,"),
    (["--preset", "cartpole", "--epsilon-start", "0.1", "--epsilon-end", "0.5"],
     "epsilon_end (0.5) is above epsilon_start (0.1): exploration would rise"),
    (["--preset", "cartpole", "--learning-rate", "inf"], "learning_rate must be a finite number"),
    (["--preset", "cartpole", "--learning-rate", "nan"], "learning_rate must be a finite number"),
    (["--preset", "cartpole", "--gamma=-inf"], "gamma must be a finite number"),
    (["--preset", "cartpole", "--run-dir", ""], "--run-dir is empty"),
    (["--preset", "cartpole", "--run-dir", "  "], "--run-dir is empty"),
]


@pytest.mark.parametrize("args, fragment", NO_SILENT_CHANGE)
def test_no_silent_change_is_refused_in_one_line(tmp_path, monkeypatch, capsys, args, fragment):
    from purejaxdqn.tools.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["train", *args]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], lines
    assert os.listdir(tmp_path) == []


def test_rising_epsilon_when_asked_and_presets_on_other_env_kinds_are_accepted():
    from purejaxdqn.presets import CARTPOLE, MINATAR, NATURE, get_preset
    from purejaxdqn.run.preflight import preset_for_env

    get_preset("cartpole").replace(epsilon_start=0.1, epsilon_end=0.5,
                                   epsilon_may_rise=True).validate()
    # made for the kind: as it is (Atari RAM takes the Nature preset: its torso is auto)
    assert preset_for_env("nature", "Breakout-ram") == (NATURE.replace(env_id="Breakout-ram"),
                                                        None)
    assert preset_for_env("minatar", "Asterix-MinAtar")[0] == MINATAR.replace(
        env_id="Asterix-MinAtar")
    # an agent preset on another kind: its components on that kind's base preset
    config, line = preset_for_env("double", "CartPole-v1")
    assert config == CARTPOLE.replace(target="double")
    assert line == ("--preset double on a vector env: the cartpole preset's protocol with "
                    "double's components")
    assert preset_for_env("nature", "Breakout-MinAtar")[0] == MINATAR


def test_resume_refuses_a_config_json_edited_after_its_checkpoint(tmp_path):
    from purejaxdqn.presets import CARTPOLE

    run = _fake_run(tmp_path)
    (run / "checkpoint" / "config.json").write_text(CARTPOLE.to_json())
    (run / "config.json").write_text(CARTPOLE.replace(learning_rate=0.5, gamma=0.9,
                                                      checkpoint_minutes=1.0).to_json())
    before = _snapshot(tmp_path)
    _assert_one_line_exit_2(_cli("train", "--resume", str(run)),
                            "config.json was changed after its checkpoint was written (gamma "
                            "0.99 -> 0.9, learning_rate")
    assert _snapshot(tmp_path) == before


def test_quick_shrinks_any_preset_and_flags_beside_it_win(tmp_path, monkeypatch):
    from purejaxdqn.tools.cli import QUICK, _prepare_train, build_parser

    monkeypatch.chdir(tmp_path)
    for preset in ("nature", "data-efficient", "cartpole", "minatar"):
        args = build_parser().parse_args(["train", "--preset", preset, "--quick",
                                          "--eval-episodes", "3"])
        config, _, _ = _prepare_train(args)
        assert {k: getattr(config, k) for k in QUICK} == {**QUICK, "eval_episodes": 3}
    assert os.listdir(tmp_path) == []


def test_stop_at_score_ends_the_run_at_the_first_evaluation_that_reaches_it(tmp_path, capsys):
    from purejaxdqn.run.runlog import read_jsonl
    from purejaxdqn.tools.cli import main

    run = tmp_path / "run"
    short = ["--preset", "cartpole", "--total-steps", "1500", "--warmup-steps", "500",
             "--eval-every", "500", "--eval-episodes", "1", "--no-progress"]
    # every CartPole game scores >= 8: the first evaluation (at 500 steps) reaches 5
    assert main(["train", *short, "--run-dir", str(run), "--stop-at-score", "5"]) == 0
    summary = json.loads((run / "summary.json").read_text())
    assert summary["stopped_by"] == "stop_at_score" and summary["steps"] == 500
    assert summary["checkpoint_steps"] == 500
    assert "every seed reached the score to stop at by 500 steps" in capsys.readouterr().out
    # resumed without it, the run goes on to its budget; a score no game reaches stops nothing
    assert main(["train", "--resume", str(run), "--no-progress", "--stop-at-score", "1e9"]) == 0
    summary = json.loads((run / "summary.json").read_text())
    assert summary["stopped_by"] is None and summary["steps"] == 1500
    assert [e["step"] for e in read_jsonl(run / "eval.jsonl")] == [500, 1000, 1500]
