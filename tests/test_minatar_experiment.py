"""experiments/minatar.py: bad input, and a tiny run that is resumed then reported."""

import json

from experiments import minatar


def test_bad_input_is_one_line_and_exit_2(capsys):
    assert minatar.main(["--games", "Pong"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("experiments.minatar: error: unknown MinAtar game(s) Pong")
    assert "\n" not in err
    assert minatar.main(["--steps", "lots"]) == 2


def test_tiny_run_report(tmp_path, monkeypatch):
    small = minatar.PRESETS["minatar"].replace(warmup_steps=100, eval_episodes=2,
                                               eval_every=0, replay_capacity=1_000)
    monkeypatch.setitem(minatar.PRESETS, "minatar", small)
    args = ["--games", "Breakout", "--seeds", "0", "--steps", "300", "--out", str(tmp_path)]
    assert minatar.main(args) == 0
    rows = json.loads((tmp_path / "results.json").read_text())
    assert rows[0]["game"] == "Breakout" and rows[0]["steps"] <= 300
    assert rows[0]["final_eval_step"] == 300
    assert (tmp_path / "curves_Breakout.png").exists()
    assert "| Breakout | 1 |" in (tmp_path / "results.md").read_text()
    assert minatar.main(args) == 0  # finished: skipped, report rebuilt
