"""experiments.nature_atari: our run beside Dopamine's per-iteration values, on a made-up
run whose numbers are known."""

import json
import os

from experiments import nature_atari


def test_table_puts_each_iteration_beside_dopamine(tmp_path):
    run, out = tmp_path / "run", tmp_path / "out"
    run.mkdir()
    out.mkdir()
    (out / "dopamine_dqn_breakout.csv").write_text(
        "# comment\niteration,seed0,seed1\n0,1.0,3.0\n1,4.0,6.0\n2,9.0,9.0\n")
    # games ending at steps 250,000 (iteration 0, the last step of it) and 250,001 (1)
    (run / "episodes.csv").write_text("seed,step,score,length\n0,1000,2.0,10\n"
                                      "0,250000,4.0,10\n0,250001,10.0,10\n")
    (run / "eval.jsonl").write_text(json.dumps({"seed": 0, "step": 250_000,
                                                "score_mean": 7.5}) + "\n")
    (run / "metrics.jsonl").write_text(json.dumps({"seed": 0, "step": 300_000}) + "\n")
    assert nature_atari.main(["--run", str(run), "--out", str(out)]) == 0
    rows = (out / "results.md").read_text().splitlines()
    assert "| 0 | 0–250,000 | 2.0 [1.0, 3.0] | 3.0 (2) | 7.5 |" in rows
    assert "| 1 | 250,000–500,000 (so far) | 5.0 [4.0, 6.0] | 10.0 (1) | - |" in rows
    assert os.path.exists(out / "curves.png") and os.path.exists(out / "run" / "episodes.csv")


def test_a_missing_run_is_one_line(tmp_path, capsys):
    assert nature_atari.main(["--run", str(tmp_path / "none"), "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err.strip().startswith("nature_atari: error: ")
