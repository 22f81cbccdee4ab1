"""Run-directory logging: CSV/JSONL always, TensorBoard when tensorboardX is there.

Files in the run directory:
  episodes.csv   one row per finished training game: seed, step, raw score, length
  metrics.jsonl  training metrics every `log_every` steps (loss, mean Q, epsilon, steps/s)
  eval.jsonl     one row per evaluation and seed (mean/median score, human-normalised score)

Steps are agent steps of one seed (each seed takes the same number).
"""

from __future__ import annotations

import csv
import json
import os
from typing import Any


class RunLog:
    def __init__(self, run_dir: str, tensorboard: bool = True):
        self.run_dir = run_dir
        os.makedirs(run_dir, exist_ok=True)
        episodes_path = os.path.join(run_dir, "episodes.csv")
        new = not os.path.exists(episodes_path)
        self._episodes_file = open(episodes_path, "a", newline="")
        self._episodes = csv.writer(self._episodes_file)
        if new:
            self._episodes.writerow(["seed", "step", "score", "length"])
        self._metrics = open(os.path.join(run_dir, "metrics.jsonl"), "a")
        self._evals = open(os.path.join(run_dir, "eval.jsonl"), "a")
        self._tb = None
        if tensorboard:
            try:
                from tensorboardX import SummaryWriter

                self._tb = SummaryWriter(os.path.join(run_dir, "tb"))
            except ImportError:  # TensorBoard is optional
                self._tb = None

    def episode(self, seed: int, step: int, score: float, length: int) -> None:
        self._episodes.writerow([seed, step, score, length])
        self._episodes_file.flush()  # games are rare; a killed run keeps its curve
        if self._tb:
            self._tb.add_scalar(f"seed{seed}/train/episode_score", score, step)
            self._tb.add_scalar(f"seed{seed}/train/episode_length", length, step)

    def metrics(self, seed: int, step: int, values: dict[str, Any]) -> None:
        self._write(self._metrics, "train", seed, step, values)

    def evaluation(self, seed: int, step: int, values: dict[str, Any]) -> None:
        self._write(self._evals, "eval", seed, step, values)

    def _write(self, stream, prefix: str, seed: int, step: int, values: dict[str, Any]) -> None:
        stream.write(json.dumps({"seed": seed, "step": step, **values}) + "\n")
        stream.flush()
        if self._tb:
            for name, value in values.items():
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    self._tb.add_scalar(f"seed{seed}/{prefix}/{name}", value, step)

    def flush(self) -> None:
        self._episodes_file.flush()
        if self._tb:
            self._tb.flush()

    def close(self) -> None:
        self.flush()
        for f in (self._episodes_file, self._metrics, self._evals):
            f.close()
        if self._tb:
            self._tb.close()


def read_jsonl(path: str) -> list[dict]:
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]
