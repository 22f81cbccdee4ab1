"""Time and size the replay's frame ring written plain and compressed (`arrayfile`).

    python -m benchmarks.checkpoint_frames PATH/checkpoint/replay/frames.npy
        [--codecs plain gz:1 gz:6 xz:0] [--zstd-cli 1 3] [--tmp DIR]

Reads a real checkpoint's frames once. A ring saved early in a run is mostly
unwritten (zeros, which compress to nothing), so the measured array is the
written slots repeated to the ring's full size: the size of a full ring of such
frames (a repeat lies tens of MB back, beyond every codec's window here) and
the time to write it. Each codec/level is timed once (save: write the file, no
fsync, as `checkpoint.save`; load: read it back, checked bit-exact).
`--zstd-cli` compresses the plain file with the `zstd` program (one thread), for
comparison only: the checkpoint does not use it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import tempfile
import time

import numpy as np

from purejaxdqn.run import arrayfile


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            return next((line.split(":", 1)[1].strip() for line in f
                         if line.startswith("model name")), platform.machine())
    except OSError:
        return platform.machine()


def written_slots(frames: np.ndarray) -> int:
    """Slots up to the last one holding a nonzero pixel (the ring's slot axis is 1)."""
    nonzero = np.flatnonzero(frames.reshape(frames.shape[0], frames.shape[1], -1).any(axis=(0, 2)))
    return int(nonzero[-1]) + 1 if nonzero.size else 0


def full_ring(frames: np.ndarray) -> np.ndarray:
    """The written slots repeated along the slot axis to the ring's capacity."""
    n, capacity = written_slots(frames), frames.shape[1]
    if n == 0:
        raise SystemExit("checkpoint_frames: the ring holds no frame yet")
    reps = -(-capacity // n)
    return np.concatenate([frames[:, :n]] * reps, axis=1)[:, :capacity]


def measure(array: np.ndarray, folder: str, codec: str, level: int | None) -> dict:
    path = os.path.join(folder, "frames.npy")
    start = time.perf_counter()
    written = arrayfile.save(path, array, codec, level)
    saved = time.perf_counter() - start
    size = os.path.getsize(written)
    start = time.perf_counter()
    back = arrayfile.load(path)
    loaded = time.perf_counter() - start
    assert back.dtype == array.dtype and np.array_equal(back, array)
    os.remove(written)
    return {"codec": codec or "plain", "level": level, "bytes": size,
            "ratio": array.nbytes / size, "save_s": saved, "load_s": loaded}


def measure_zstd_cli(array: np.ndarray, folder: str, level: int) -> dict:
    plain = arrayfile.save(os.path.join(folder, "frames.npy"), array)
    start = time.perf_counter()
    subprocess.run(["zstd", f"-{level}", "-T1", "-q", "-f", plain, "-o", plain + ".zst"],
                   check=True)
    saved = time.perf_counter() - start
    size = os.path.getsize(plain + ".zst")
    start = time.perf_counter()
    subprocess.run(["zstd", "-d", "-q", "-f", plain + ".zst", "-o", plain + ".back"], check=True)
    loaded = time.perf_counter() - start
    os.remove(plain + ".back")
    os.remove(plain + ".zst")
    os.remove(plain)
    return {"codec": "zstd CLI (-T1, file to file)", "level": level, "bytes": size,
            "ratio": array.nbytes / size, "save_s": saved, "load_s": loaded}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("frames")
    parser.add_argument("--codecs", nargs="+", default=["plain", "gz:1", "gz:6", "xz:0"])
    parser.add_argument("--zstd-cli", nargs="*", type=int, default=[])
    parser.add_argument("--tmp", default=None)
    args = parser.parse_args()

    frames = np.load(args.frames)
    array = full_ring(frames)
    print(f"{args.frames}: {frames.shape} {frames.dtype}, {written_slots(frames):,} slots "
          f"written; measuring a full ring of them, {array.nbytes:,} bytes", flush=True)
    print(f"machine: {cpu_model()}, {os.cpu_count()} CPUs, load average {os.getloadavg()}",
          flush=True)
    folder = tempfile.mkdtemp(dir=args.tmp)
    try:
        for spec in args.codecs:
            name, _, level = spec.partition(":")
            result = measure(array, folder, "" if name == "plain" else "." + name,
                             int(level) if level else None)
            print(json.dumps(result), flush=True)
        for level in args.zstd_cli:
            print(json.dumps(measure_zstd_cli(array, folder, level)), flush=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
