"""`purejaxdqn plot`: PNGs for one and for two runs, labels from config
differences, the running mean and seed alignment against hand-computed values."""

import json
import os

import imageio.v3 as iio
import numpy as np
import pytest

from purejaxdqn.tools import cli
from purejaxdqn.tools.plot import (labels, learning_rows, load_run, plot_runs, running_mean,
                                   seed_matrix)

ABLATION = os.path.join(os.path.dirname(__file__), os.pardir, "experiments", "results",
                        "cartpole", "runs", "CartPole-v1")


def make_run(path, config, seeds=(0, 1), steps=(100, 200, 300)):
    """A run directory with hand-written logs: config.json, episodes.csv, metrics, evals."""
    os.makedirs(path)
    with open(os.path.join(path, "config.json"), "w") as f:
        json.dump(config, f)
    with open(os.path.join(path, "episodes.csv"), "w") as f:
        f.write("seed,step,score,length\n")
        for seed in seeds:
            for k, step in enumerate(range(10, 300, 20)):
                f.write(f"{seed},{step},{k + seed},{k + seed}\n")
    with open(os.path.join(path, "metrics.jsonl"), "w") as f, \
            open(os.path.join(path, "eval.jsonl"), "w") as g:
        for step in steps:
            for seed in seeds:
                f.write(json.dumps({"seed": seed, "step": step, "steps_per_s": 50.0,
                                    "epsilon": 1 - step / 400, "loss": 0.1 * (seed + 1),
                                    "q_mean": step / 100 + seed}) + "\n")
                g.write(json.dumps({"seed": seed, "step": step,
                                    "score_mean": float(step + seed)}) + "\n")
    return str(path)


def plot(capsys, *args):
    code = cli.main(["plot", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_plot_one_and_two_runs_write_pngs(tmp_path, capsys):
    one = make_run(tmp_path / "a", {"env_id": "CartPole-v1", "target": "q_learning"}, seeds=(0,))
    two = make_run(tmp_path / "b", {"env_id": "CartPole-v1", "target": "double"})
    code, out, err = plot(capsys, one)
    assert code == 0, err
    image = iio.imread(os.path.join(one, "curves.png"))
    assert image.ndim == 3 and image.shape[0] > 300 and image.shape[1] > 500
    out_path = str(tmp_path / "both.png")
    code, out, err = plot(capsys, one, two, "--out", out_path)
    assert code == 0 and f"wrote {out_path}" in out, err
    assert iio.imread(out_path).shape == image.shape  # same layout, more lines


def test_plot_of_committed_ablation_runs(tmp_path, capsys):
    out_path = str(tmp_path / "ablation.png")
    code, _, err = plot(capsys, os.path.join(ABLATION, "nature"), os.path.join(ABLATION, "double"),
                        "--out", out_path)
    assert code == 0, err
    assert os.path.getsize(out_path) > 10_000


def test_labels_name_the_differing_fields(tmp_path):
    a = make_run(tmp_path / "a", {"env_id": "CartPole-v1", "target": "q_learning", "n_step": 1})
    b = make_run(tmp_path / "b", {"env_id": "CartPole-v1", "target": "double", "n_step": 3})
    c = make_run(tmp_path / "c", {"env_id": "CartPole-v1", "target": "double", "n_step": 1})
    runs = [load_run(p) for p in (a, b, c)]
    assert labels(runs) == ["n_step=1, target=q_learning", "n_step=3, target=double",
                            "n_step=1, target=double"]
    assert labels(runs[:1]) == ["CartPole-v1 (a)"]
    # a run of the one `seed` (seeds empty) is named by that seed, not "seeds="
    d = make_run(tmp_path / "d", {"env_id": "CartPole-v1", "seed": 3, "seeds": []})
    e = make_run(tmp_path / "e", {"env_id": "CartPole-v1", "seed": 0, "seeds": [0, 1]})
    assert labels([load_run(d), load_run(e)]) == ["seed=3, seeds=3", "seed=0, seeds=0,1"]


def test_a_panel_of_one_point_shows_it(tmp_path):
    run = load_run(make_run(tmp_path / "a", {"env_id": "CartPole-v1"}, steps=(100,)))
    figure = plot_runs([run])
    evaluation = figure.axes[1].get_lines()[0]
    assert len(evaluation.get_xdata()) == 1 and evaluation.get_marker() == "o"


def test_running_mean_matches_a_naive_loop():
    values = np.random.default_rng(0).normal(size=250)
    naive = [values[max(0, i - 99): i + 1].mean() for i in range(250)]
    np.testing.assert_allclose(running_mean(values, 100), naive, rtol=1e-12)
    assert running_mean(np.array([1.0, 3.0, 5.0]), 2).tolist() == [1.0, 2.0, 4.0]


def test_seed_matrix_keeps_common_steps_and_newest_rows():
    rows = [{"seed": 0, "step": 1, "x": 1.0}, {"seed": 0, "step": 2, "x": 2.0},
            {"seed": 1, "step": 2, "x": 5.0}, {"seed": 1, "step": 3, "x": 6.0},
            {"seed": 0, "step": 2, "x": 9.0}, {"seed": 1, "step": 2, "x": None}]
    steps, values = seed_matrix(rows, "x")
    assert steps.tolist() == [2.0] and values.tolist() == [[9.0], [5.0]]


@pytest.mark.parametrize("setup, fragment", [
    ("missing", "does not exist"),
    ("bare", "not a purejaxdqn run directory"),
    ("file", "is a file, not a run directory"),
    ("empty", "has no logged games, metrics or evaluations yet"),
    ("out", "--out must name a .png, .svg, .pdf file"),
    ("bad-jsonl", "metrics.jsonl is unreadable (JSONDecodeError)"),
    ("bad-csv", "episodes.csv is unreadable (ValueError: a row without a seed, step or score)"),
])
def test_bad_input_is_one_line_exit_2(tmp_path, capsys, setup, fragment):
    run = tmp_path / "run"
    args = [str(run)]
    if setup in ("bare", "empty"):
        run.mkdir()
    if setup == "empty":
        (run / "config.json").write_text("{}")
    if setup == "out":
        args = [make_run(run, {"env_id": "CartPole-v1"}), "--out", str(tmp_path / "x.jpg")]
    if setup == "file":
        run.write_text("{}")
    if setup in ("bad-jsonl", "bad-csv"):
        make_run(run, {"env_id": "CartPole-v1"})
        name, text = (("metrics.jsonl", '{"seed": 0, "st') if setup == "bad-jsonl" else
                      ("episodes.csv", "seed,step,score,length\n0,x,1,1\n"))
        (run / name).write_text(text + "\n" + '{"seed": 0, "step": 5}\n' * (setup == "bad-jsonl"))
    code, out, err = plot(capsys, *args)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], err
    assert not os.path.exists(tmp_path / "x.jpg") and not os.path.exists(tmp_path / "curves.png")
    assert not (run.is_dir() and os.path.exists(run / "curves.png"))


def test_svg_and_pdf_by_extension(tmp_path, capsys):
    run = make_run(tmp_path / "a", {"env_id": "CartPole-v1"})
    for name, head in (("c.svg", b"<svg"), ("c.pdf", b"%PDF")):
        code, _, err = plot(capsys, run, "--out", str(tmp_path / name))
        assert code == 0, err
        assert head in (tmp_path / name).read_bytes()[:400]


def test_panels_have_y_labels_and_say_when_empty(tmp_path):
    run = make_run(tmp_path / "a", {"env_id": "CartPole-v1"}, seeds=(0,))
    os.remove(os.path.join(run, "eval.jsonl"))  # no evaluation yet
    axes = plot_runs([load_run(run)]).axes
    assert [ax.get_ylabel() for ax in axes] == [
        "raw game score", "raw game score", "TD loss", "Q(s, a)", "ε (exploration)",
        "agent steps/s"]
    empty = [i for i, ax in enumerate(axes) if "no data yet" in [t.get_text() for t in ax.texts]]
    assert empty == [1]  # the evaluation panel only


def test_speed_panel_leaves_out_rows_that_measured_warm_up(tmp_path):
    # metrics every 100 steps (log_every 100), learning from step 150: the row at 100 is
    # all warm-up, the one at 200 half warm-up (window 100-200); only 300 is learning.
    run = make_run(tmp_path / "a", {"env_id": "CartPole-v1", "warmup_steps": 150,
                                    "log_every": 100}, seeds=(0,))
    assert [r["step"] for r in learning_rows(load_run(run))] == [300]
