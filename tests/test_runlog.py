"""Log truncation before a resume: rows past the checkpoint go, half-written lines go,
everything else stays byte for byte; TensorBoard event files likewise."""

from __future__ import annotations

import json
import os

from purejaxdqn.run.runlog import RunLog, read_event_records, read_jsonl, truncate_logs


def _write_logs(run):
    log = RunLog(run)
    for step in range(100, 1_100, 100):
        log.metrics(0, step, {"loss": step / 1000})
        log.episode(0, step, float(step), 7)
        if step % 500 == 0:
            log.evaluation(0, step, {"score_mean": step / 10})
    log.flush()
    log.metrics(0, 1_100, {"loss": 1.1})  # a second TensorBoard file, as after a checkpoint
    log.close()


def test_truncate_keeps_rows_up_to_the_step_and_drops_partial_lines(tmp_path):
    run = str(tmp_path)
    _write_logs(run)
    with open(os.path.join(run, "metrics.jsonl"), "a") as f:
        f.write('{"seed": 0, "step": 3')  # a kill in mid-write
    with open(os.path.join(run, "episodes.csv"), "a") as f:
        f.write("0,3")  # would parse as step 3 if partial lines were trusted
    with open(os.path.join(run, "eval.jsonl")) as f:
        kept_eval = f.readline()

    dropped = truncate_logs(run, 500)

    assert [r["step"] for r in read_jsonl(os.path.join(run, "metrics.jsonl"))] == \
        [100, 200, 300, 400, 500]
    with open(os.path.join(run, "eval.jsonl")) as f:
        assert f.read() == kept_eval  # the step-500 row, unchanged
    with open(os.path.join(run, "episodes.csv")) as f:
        assert f.read().splitlines() == ["seed,step,score,length"] + [
            f"0,{s},{float(s)},7" for s in (100, 200, 300, 400, 500)]
    tb = os.path.join(run, "tb")
    steps = sorted(e.step for name in os.listdir(tb)
                   for _, e in read_event_records(os.path.join(tb, name))
                   if e.HasField("summary"))
    # per step <= 500: loss, episode score and length; eval at 500
    assert steps == sorted([s for s in (100, 200, 300, 400, 500) for _ in range(3)] + [500])
    # 6 metric rows + 1 partial, 5 episodes + 1 partial, 1 eval row, and their events
    assert dropped == 7 + 6 + 1 + (3 * 5 + 1 + 1)
    assert not [n for n in os.listdir(run) if n.endswith(".tmp")]


def test_event_reader_skips_a_torn_last_record(tmp_path):
    run = str(tmp_path)
    _write_logs(run)
    tb = os.path.join(run, "tb")
    name = sorted(os.listdir(tb))[0]
    path = os.path.join(tb, name)
    records = list(read_event_records(path))
    with open(path, "ab") as f:
        f.write(records[-1][0][:-5])  # a record cut short
    assert len(list(read_event_records(path))) == len(records)
    truncate_logs(run, 10_000)  # nothing past the step: only the torn record goes
    assert [r for r, _ in read_event_records(path)] == [r for r, _ in records]


def test_new_run_log_starts_afresh(tmp_path):
    run = str(tmp_path)
    _write_logs(run)
    RunLog(run).close()
    assert read_jsonl(os.path.join(run, "metrics.jsonl")) == []
    with open(os.path.join(run, "episodes.csv")) as f:
        assert f.read() == "seed,step,score,length\n"
    appended = RunLog(run, append=True)
    appended.metrics(0, 5, {"loss": 0.5})
    appended.close()
    with open(os.path.join(run, "metrics.jsonl")) as f:
        assert json.loads(f.read()) == {"seed": 0, "step": 5, "loss": 0.5}
