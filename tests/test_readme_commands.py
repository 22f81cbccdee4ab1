"""Every command README.md shows, typed as written in the checkout, reaches the
point where it starts training: its flags, presets, envs, default output places and
every check before work pass (training itself is replaced by a stand-in that stops
there; `--quick` runs and the learning tests train for real). A README command that
rots (a renamed flag, a default output that refuses, a preset that no longer fits
its env) fails here."""

from __future__ import annotations

import os
import shlex
import shutil

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), os.pardir))
README = os.path.join(ROOT, "README.md")
# placeholders a reader fills in: not runnable as written, on purpose
PLACEHOLDER = "..."


class ReachedTraining(Exception):
    """Raised by the stand-in for training: the command got through everything before it."""


def readme_commands() -> list[str]:
    """The commands of README.md's bash blocks: comments dropped, `a && b` split."""
    commands, inside = [], False
    for line in open(README):
        if line.startswith("```"):
            inside = line.strip() == "```bash"
            continue
        text = line.split("  #")[0].split(" # ")[0].strip()
        if inside and text and not text.startswith("#"):
            commands += [part.strip() for part in text.split("&&")]
    return commands


def _reach(words: list[str], monkeypatch) -> None:
    """Run the command in-process; return when it reaches training."""
    import experiments.runner
    import experiments.sweep
    import purejaxdqn.run.train

    def stand_in(*args, **kwargs):
        raise ReachedTraining()

    monkeypatch.setattr(purejaxdqn.run.train, "train", stand_in)
    monkeypatch.setattr(experiments.runner, "train_session", stand_in)
    monkeypatch.setattr(experiments.sweep, "_drive", stand_in)  # Ray's workers train
    if words[0] == "purejaxdqn":
        from purejaxdqn.tools.cli import main
        argv = words[1:]
    else:
        assert words[:2] == ["python", "-m"], words
        module = __import__(words[2], fromlist=["main"])
        main, argv = module.main, words[3:]
    try:
        code = main(argv)
    except ReachedTraining:
        return
    assert code == 0 and argv == ["presets"], (words, code)  # only `presets` ends at once


def _tree(root: str) -> set[str]:
    return {os.path.join(folder, name) for folder, dirs, files in os.walk(root)
            if ".git" not in folder and ".venv" not in folder for name in dirs + files}


def test_every_readme_command_reaches_training_as_written(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)  # where a reader types them: the checkout, committed results in it
    before = _tree(ROOT)
    checked, skipped = [], []
    for command in readme_commands():
        words = shlex.split(command)
        if words[0] == "pip" or words[:3] == ["python", "-m", "pytest"]:
            continue  # installing and the suite: what CI's .ci/run does itself
        if PLACEHOLDER in command:
            skipped.append(command)
            continue
        try:
            _reach(words, monkeypatch)
        except SystemExit as error:
            pytest.fail(f"{command!r} exited {error.code}: {capsys.readouterr().err}")
        checked.append(command)
    assert len(checked) >= 10, checked
    assert skipped == ["purejaxdqn train --resume runs/Pong-seed0-..."], skipped
    # what the commands wrote before training (an ablation's plan, run folders) goes again
    for path in sorted(_tree(ROOT) - before, key=len):
        if "__pycache__" not in path and os.path.exists(path):
            shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)
