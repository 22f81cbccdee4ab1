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
