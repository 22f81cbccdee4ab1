"""Run-directory logging: CSV/JSONL always, TensorBoard when tensorboardX is there,
and any mirror given to `mirror_to` (the training loop gives it wandb_log.WandbRun when
the config names a `wandb_project`).

Files in the run directory:
  episodes.csv   one row per finished training game: seed, step, raw score, length
  metrics.jsonl  training metrics every `log_every` steps (loss, mean Q, epsilon, steps/s)
  eval.jsonl     one row per evaluation and seed (mean/median score, human-normalised score)
  tb/            TensorBoard: the numbers of those rows as scalars, `seed{S}/train/...`,
                 `seed{S}/eval/...`; W&B gets the same scalars under the same names
  wandb/, wandb.json   W&B's own files (offline runs) and the id of the run's W&B run

Steps are agent steps of one seed (each seed takes the same number).

Logs are flushed (TensorBoard's writer closed and reopened, which drains its
queue) at every checkpoint and on exit. After a crash the files may hold rows
past the last checkpoint (and a half-written last line); `truncate_logs` cuts
every log back to the checkpoint's step before a resume appends to it, so no
step appears twice and steps never go backwards.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import struct
import time
from typing import Any

from purejaxdqn.run import disk

EPISODES, METRICS, EVALS, TENSORBOARD = "episodes.csv", "metrics.jsonl", "eval.jsonl", "tb"
WANDB_DIR, WANDB_STATE = "wandb", "wandb.json"


class RunLog:
    """`append=False` starts every log afresh (a new run); True continues them (a
    resume, after `truncate_logs`)."""

    def __init__(self, run_dir: str, tensorboard: bool = True, append: bool = False):
        self.run_dir = run_dir
        os.makedirs(run_dir, exist_ok=True)
        episodes_path = os.path.join(run_dir, EPISODES)
        new = not append or not os.path.exists(episodes_path)
        mode = "a" if append else "w"
        self._episodes_file = open(episodes_path, mode, newline="")
        self._episodes = csv.writer(self._episodes_file)
        if new:
            self._episodes.writerow(["seed", "step", "score", "length"])
        self._metrics = open(os.path.join(run_dir, METRICS), mode)
        self._evals = open(os.path.join(run_dir, EVALS), mode)
        if not append:  # a new run: no event file (or W&B run) of an earlier one may mix in
            for name in (TENSORBOARD, WANDB_DIR):
                shutil.rmtree(os.path.join(run_dir, name), ignore_errors=True)
            if os.path.exists(os.path.join(run_dir, WANDB_STATE)):
                os.remove(os.path.join(run_dir, WANDB_STATE))
        self._tensorboard = tensorboard
        self._tb = self._open_tb()
        self._mirror = None

    def mirror_to(self, mirror: Any) -> None:
        """Also send every scalar to `mirror.log(step, scalars)`; `mirror.close()` at the end.
        Given after construction: a new run's log first clears an earlier run's files."""
        self._mirror = mirror

    def _open_tb(self):
        if not self._tensorboard:
            return None
        try:
            from tensorboardX import SummaryWriter
        except ImportError:  # TensorBoard is optional
            return None
        # tensorboardX names files by the second: the suffix keeps a writer reopened
        # within the same second from overwriting the last file, and names in time order.
        return SummaryWriter(os.path.join(self.run_dir, TENSORBOARD),
                             filename_suffix=f".{time.time_ns()}")

    def episode(self, seed: int, step: int, score: float, length: int) -> None:
        self._episodes.writerow([seed, step, score, length])
        self._episodes_file.flush()  # games are rare; a killed run keeps its curve
        self._scalars(step, {f"seed{seed}/train/episode_score": score,
                             f"seed{seed}/train/episode_length": length})

    def metrics(self, seed: int, step: int, values: dict[str, Any]) -> None:
        self._write(self._metrics, "train", seed, step, values)

    def evaluation(self, seed: int, step: int, values: dict[str, Any]) -> None:
        self._write(self._evals, "eval", seed, step, values)

    def _write(self, stream, prefix: str, seed: int, step: int, values: dict[str, Any]) -> None:
        stream.write(json.dumps({"seed": seed, "step": step, **values}) + "\n")
        stream.flush()
        self._scalars(step, {f"seed{seed}/{prefix}/{name}": value
                             for name, value in values.items()
                             if isinstance(value, (int, float)) and not isinstance(value, bool)})

    def _scalars(self, step: int, scalars: dict[str, float]) -> None:
        """One row's numbers to TensorBoard, one scalar per tag, and to W&B as one row."""
        if self._tb:
            for tag, value in scalars.items():
                self._tb.add_scalar(tag, value, step)
        if self._mirror is not None:
            self._mirror.log(step, scalars)

    def flush(self) -> None:
        """Everything logged so far is on disk when this returns."""
        for f in (self._episodes_file, self._metrics, self._evals):
            f.flush()
            os.fsync(f.fileno())
        if self._tb:
            # tensorboardX's flush() leaves queued events unwritten; close() drains
            # the queue. The next events go to a new file in the same directory.
            self._tb.close()
            self._tb = self._open_tb()

    def close(self) -> None:
        """Close every file; a close that cannot write its last rows (a full disk) is
        passed over, so the error that stopped the run is the one reported."""
        for f in (self._episodes_file, self._metrics, self._evals):
            try:
                f.close()
            except OSError:
                pass
        if self._tb:
            self._tb.close()
            self._tb = None
        if self._mirror is not None:
            self._mirror.close()
            self._mirror = None


def truncate_logs(run_dir: str, step: int) -> int:
    """Drop every log row (and TensorBoard event) with step > `step`, and any
    half-written last line; rewrite each file atomically. Return rows dropped."""
    dropped = 0
    for name in (EPISODES, METRICS, EVALS):
        path = os.path.join(run_dir, name)
        if not os.path.exists(path):
            continue
        with open(path, newline="") as f:
            lines = f.readlines()
        if name == EPISODES:
            keep = lines[:1] + [line for line in lines[1:] if _csv_step(line) <= step]
        else:
            keep = [line for line in lines if _json_step(line) <= step]
        dropped += len(lines) - len(keep)
        write_atomic(path, "".join(keep))
    tb_dir = os.path.join(run_dir, TENSORBOARD)
    for name in sorted(os.listdir(tb_dir)) if os.path.isdir(tb_dir) else []:
        path = os.path.join(tb_dir, name)
        records = list(read_event_records(path))
        keep = [raw for raw, event in records if not event.HasField("summary")
                or event.step <= step]
        dropped += len(records) - len(keep)
        write_atomic(path, b"".join(keep))
    return dropped


_INF = float("inf")  # the step of a line that cannot be trusted: always dropped


def _csv_step(line: str) -> float:
    fields = line.rstrip("\r\n").split(",")
    if not line.endswith("\n") or len(fields) != 4:
        return _INF
    try:
        return int(fields[1])
    except ValueError:
        return _INF


def _json_step(line: str) -> float:
    if not line.endswith("\n"):
        return _INF
    try:
        return int(json.loads(line)["step"])
    except (ValueError, KeyError, TypeError):
        return _INF


def write_atomic(path: str, data: str | bytes) -> None:
    """Write a whole file so that a reader (or a crash) sees the old or the new one; a
    failed write leaves the old one and no temporary (disk.WriteFailed, one line)."""
    tmp = path + ".tmp"
    binary = isinstance(data, bytes)
    try:
        with open(tmp, "wb") if binary else open(tmp, "w", newline="") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as error:
        disk.remove(tmp)
        raise disk.WriteFailed(disk.describe(error, os.path.basename(path), path,
                                             len(data))) from None


def read_event_records(path: str):
    """(raw record bytes, Event) for each complete record of a TensorBoard event
    file (TFRecord framing: u64 length, u32 crc, data, u32 crc); a truncated last
    record, as a kill leaves, is skipped."""
    from tensorboardX.proto.event_pb2 import Event

    with open(path, "rb") as f:
        data = f.read()
    at = 0
    while at + 12 <= len(data):
        (length,) = struct.unpack("<Q", data[at:at + 8])
        end = at + 12 + length + 4
        if end > len(data):
            break
        event = Event()
        event.ParseFromString(data[at + 12:at + 12 + length])
        yield data[at:end], event
        at = end


def read_jsonl(path: str) -> list[dict]:
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]
