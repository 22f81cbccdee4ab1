"""W&B logging (wandb_log.py), offline: what W&B stored, read back from its offline run
files, is what the run's own logs hold; a resume continues the same W&B run."""

import csv
import glob
import json
import os
import struct
import sys

import pytest

from purejaxdqn.config import ConfigError
from purejaxdqn.presets import CARTPOLE
from purejaxdqn.run.runlog import read_jsonl

# Two seeds side by side (the per-seed names), learning and an evaluation in each half,
# a clean stop at 500 steps and a resume to 1,000. The host engine: it compiles faster.
CONFIG = CARTPOLE.replace(seeds=(0, 1), total_steps=1_000, warmup_steps=250, log_every=250,
                          eval_every=500, eval_episodes=2, checkpoint_every=0,
                          checkpoint_minutes=0, engine="host", wandb_project="purejaxdqn-test")


@pytest.fixture
def no_wandb_setup(tmp_path, monkeypatch):
    """No API key, no netrc, no WANDB_* settings; HOME in tmp_path, to see that nothing
    is written there."""
    for name in list(os.environ):
        if name.startswith("WANDB_") or name in ("NETRC", "XDG_CACHE_HOME",
                                                 "XDG_CONFIG_HOME", "XDG_DATA_HOME"):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


def read_records(path):
    """The protobuf records of a W&B run file (.wandb): a 7-byte header (":W&B", magic,
    version), then LevelDB log framing: 32 KiB blocks of chunks, each with a 7-byte
    header (crc32, length, type: 1 full, 2 first, 3 middle, 4 last)."""
    from wandb.proto import wandb_internal_pb2

    with open(path, "rb") as f:
        data = f.read()
    assert data[:4] == b":W&B", path
    at, pending, block = 7, b"", 32 * 1024
    while at + 7 <= len(data):
        if block - at % block < 7:  # a block's last bytes, too few for a header: padding
            at += block - at % block
            continue
        _, length, kind = struct.unpack("<IHB", data[at:at + 7])
        pending += data[at + 7:at + 7 + length]
        at += 7 + length
        if kind in (1, 4):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending)
            pending = b""
            yield record


def expected_rows(run):
    """What RunLog gave TensorBoard, as W&B rows: {agent_step, seed{S}/{train,eval}/NAME}."""
    rows = []
    for name, prefix in (("metrics.jsonl", "train"), ("eval.jsonl", "eval")):
        for line in read_jsonl(os.path.join(run, name)):
            rows.append({"agent_step": line["step"], **{
                f"seed{line['seed']}/{prefix}/{k}": v for k, v in line.items()
                if k not in ("seed", "step") and isinstance(v, (int, float))
                and not isinstance(v, bool)}})
    with open(os.path.join(run, "episodes.csv")) as f:
        for line in csv.DictReader(f):
            rows.append({"agent_step": int(line["step"]),
                         f"seed{line['seed']}/train/episode_score": float(line["score"]),
                         f"seed{line['seed']}/train/episode_length": int(line["length"])})
    return rows


def by_names(rows):
    """Rows grouped by their set of names (one group per kind of row), each group in
    logging order, which both sides keep."""
    groups = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    return groups


@pytest.fixture
def wandb_service():
    """wandb, whose service process (started by the first wandb.init of a process, with
    that moment's environment) is stopped afterwards, not left running."""
    wandb = pytest.importorskip("wandb")
    yield wandb
    wandb.teardown()


def test_offline_run_holds_the_logged_scalars_and_resume_continues_it(
        no_wandb_setup, wandb_service, tmp_path, capsys):
    from purejaxdqn.run.train import train

    run = str(tmp_path / "run")
    train(CONFIG, run, progress=False, stop_after_steps=500)
    first = capsys.readouterr().out.splitlines()
    with open(os.path.join(run, "wandb.json")) as f:
        run_id = json.load(f)["id"]
    train(CONFIG, run, resume=True, progress=False)
    second = capsys.readouterr().out.splitlines()

    with open(os.path.join(run, "wandb.json")) as f:
        assert json.load(f) == {"id": run_id, "project": "purejaxdqn-test"}
    segments = sorted(glob.glob(os.path.join(run, "wandb", f"offline-run-*-{run_id}")))
    assert len(segments) == 2  # one offline folder per segment, the same W&B run id
    for lines, segment in zip((first, second), segments):
        said = [line for line in lines if line.startswith("W&B")]
        assert said == [f"W&B run {run_id} is offline (no W&B API key), saved in {segment}; "
                        f"upload it with: wandb sync {run}/wandb/offline-run-*"]
    # nothing of W&B's outside the run directory: its service logs went into it, not
    # ~/.cache/wandb
    assert [p for p in no_wandb_setup.rglob("*") if "wandb" in p.name] == []
    assert glob.glob(os.path.join(run, "wandb", "cache", "wandb", "logs", "core-debug-*"))

    logged, configs, step_metrics = [], [], set()
    for segment in segments:
        for record in read_records(os.path.join(segment, f"run-{run_id}.wandb")):
            kind = record.WhichOneof("record_type")
            if kind == "history":
                row = {item.key or ".".join(item.nested_key): json.loads(item.value_json)
                       for item in record.history.item}
                logged.append({k: v for k, v in row.items() if not k.startswith("_")})
            elif kind == "run":
                configs.append({item.key: json.loads(item.value_json)
                                for item in record.run.config.update
                                if not item.key.startswith("_")})
                assert record.run.run_id == run_id and record.run.project == "purejaxdqn-test"
            elif kind == "metric" and record.metric.glob_name == "*":
                step_metrics.add(record.metric.step_metric)
    assert step_metrics == {"agent_step"}
    assert configs == [json.loads(CONFIG.to_json())] * 2

    expected = expected_rows(run)
    assert {row["agent_step"] for row in expected if "seed1/eval/score_mean" in row} == \
        {500, 1_000}
    assert any("seed1/train/loss" in row for row in expected)  # both seeds, learning
    assert len(logged) == len(expected) > 0
    got, want = by_names(logged), by_names(expected)
    assert got.keys() == want.keys()
    for names, rows in want.items():  # the very numbers (W&B keeps them as JSON)
        assert got[names] == rows, names


def test_missing_wandb_is_one_line_exit_2_before_any_work(tmp_path, monkeypatch, capsys):
    from purejaxdqn.tools import cli
    monkeypatch.setitem(sys.modules, "wandb", None)  # `import wandb` raises ImportError
    run = tmp_path / "run"
    code = cli.main(["train", "--preset", "cartpole", "--run-dir", str(run),
                     "--wandb-project", "dqn", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.splitlines() == [
        "purejaxdqn: error: --wandb-project needs the wandb extra: pip install -e '.[wandb]'"]
    assert not run.exists()


def test_offline_without_a_key_online_with_one(no_wandb_setup, monkeypatch):
    from purejaxdqn.run.wandb_log import choose_mode

    assert choose_mode() == ("offline", "no W&B API key")
    netrc = no_wandb_setup / ".netrc"
    netrc.write_text("machine example.com login user password secret\n")
    netrc.chmod(0o600)
    assert choose_mode()[0] == "offline"  # an entry for another host is no W&B key
    netrc.write_text("machine api.wandb.ai login user password 0123456789\n")
    assert choose_mode()[0] == "online"
    monkeypatch.setenv("WANDB_BASE_URL", "https://wandb.example.com")
    assert choose_mode()[0] == "offline"
    monkeypatch.setenv("WANDB_API_KEY", "0123456789")
    assert choose_mode()[0] == "online"
    monkeypatch.setenv("WANDB_MODE", "disabled")
    assert choose_mode() == (None, "WANDB_MODE=disabled")  # wandb reads it itself


def test_project_names_follow_wandb_rules():
    for name in ("team/dqn", "a:b", "x" * 129):
        with pytest.raises(ConfigError, match="wandb_project must be at most 128"):
            CONFIG.replace(wandb_project=name).validate()
    CONFIG.replace(wandb_project="dqn-cartpole_2").validate()
