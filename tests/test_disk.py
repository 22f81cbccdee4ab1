"""A full disk, for real: a small tmpfs filled with a file. A resume on the full disk,
and a save that does not fit, each end in one line (exit 74) naming what failed and
the space, leave no temporary, and keep the previous checkpoint as it was."""

from __future__ import annotations

import os
import subprocess

import pytest

from purejaxdqn.run import checkpoint, disk


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "disk"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m", "tmpfs", str(mount)],
                          capture_output=True)
    if made.returncode != 0:
        pytest.skip("mounting a tmpfs needs root")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(mount, leave: int) -> None:
    """Take all of the disk's free space but `leave` bytes."""
    with open(mount / "filler", "wb") as f:
        try:
            f.write(b"\0" * max(disk.free_bytes(str(mount)) - leave, 0))
        except OSError:  # the last block did not fit: the disk is full, as wanted
            pass


def _temporaries(root):
    return [os.path.join(d, n) for d, dirs, files in os.walk(root) for n in dirs + files
            if n.endswith((".tmp", ".old"))]


def _resume(run, capsys):
    from purejaxdqn.tools.cli import main

    code = main(["train", "--resume", run, "--no-progress"])
    return code, capsys.readouterr().err.strip().splitlines()


def test_a_full_disk_is_one_line_and_keeps_the_checkpoint(small_disk, capsys):
    from purejaxdqn.presets import get_preset
    from purejaxdqn.run.train import train

    run = str(small_disk / "run")
    config = get_preset("cartpole").replace(
        total_steps=3000, warmup_steps=500, log_every=500, eval_every=3000, eval_episodes=2,
        checkpoint_every=1000, checkpoint_minutes=0.0)
    train(config, run, progress=True, stop_after_steps=1000)
    # one save message per save: the save at 1,000 steps is the stop's save too
    assert capsys.readouterr().out.count("saving checkpoint") == 1
    saved = checkpoint.size_on_disk(run)
    assert checkpoint.read_host(run)["steps"] == 1000

    # 1. A resume on a full disk: cutting the logs back cannot be written.
    _fill(small_disk, leave=0)
    code, err = _resume(run, capsys)
    assert code == disk.EXIT_CODE and len(err) == 1, err
    assert err[0].startswith("purejaxdqn: error: could not write ") and "free there" in err[0]
    assert not _temporaries(small_disk)
    assert checkpoint.read_host(run)["steps"] == 1000 and checkpoint.size_on_disk(run) == saved

    # 2. Room for the logs, not for a checkpoint: the save at 2,000 steps fails.
    os.remove(small_disk / "filler")
    _fill(small_disk, leave=saved // 4)
    code, err = _resume(run, capsys)
    assert code == disk.EXIT_CODE and len(err) == 1, err
    assert "could not write the checkpoint" in err[0] and " free there, about " in err[0]
    assert "needed; the previous checkpoint (1,000 steps) is kept" in err[0]
    assert not _temporaries(small_disk)
    assert checkpoint.read_host(run)["steps"] == 1000 and checkpoint.size_on_disk(run) == saved

    # 3. Space again: the same command resumes from that checkpoint and finishes.
    os.remove(small_disk / "filler")
    code, err = _resume(run, capsys)
    assert code == 0, err
    assert checkpoint.read_host(run)["steps"] == 3000
