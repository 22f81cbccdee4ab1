"""What the benchmarks share: timing loops, the stats kept per figure, the machine a
figure came from, and writing the result JSON."""

from __future__ import annotations

import datetime
import json
import math
import os
import platform
import sys
import time

import numpy as np


def stats(values) -> dict:
    v = np.asarray(list(values), float)
    return {"median": float(np.median(v)), "min": float(v.min()), "max": float(v.max()),
            "p25": float(np.percentile(v, 25)), "p75": float(np.percentile(v, 75)),
            "n": int(v.size), "values": [float(x) for x in v]}


def round_up(x: float, multiple: int) -> int:
    return int(math.ceil(x / multiple) * multiple)


def log(message: str) -> None:
    print(f"[sps {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def machine_info() -> dict:
    import envpool
    import jax
    import jaxlib

    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f
                        if line.startswith("model name")), cpu)
    except OSError:
        pass
    devices = jax.devices()
    plat = devices[0].platform
    return {
        "cpu_model": cpu,
        "cpu_cores": os.cpu_count(),
        "accelerator": None if plat == "cpu" else f"{len(devices)}x {devices[0].device_kind}",
        "jax_platform": plat,
        "jax_devices": [str(d) for d in devices],
        "jax": jax.__version__,
        "jaxlib": jaxlib.__version__,
        "envpool": envpool.__version__,
        "python": platform.python_version(),
        "os": platform.platform(),
        "date_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "load_average_start": list(os.getloadavg()),
    }


def timed_reps(step_once, reps: int, rep_s: float, warmup_calls: int = 3) -> list[float]:
    """Run `step_once() -> agent steps` in reps of about rep_s seconds; steps/s per rep."""
    for _ in range(warmup_calls):
        step_once()
    t0, calls = time.perf_counter(), 0
    while calls < 3 or time.perf_counter() - t0 < min(0.2, rep_s):
        step_once()
        calls += 1
    per_call = (time.perf_counter() - t0) / calls
    k = max(1, round(rep_s / per_call))
    out = []
    for _ in range(reps):
        t0, steps = time.perf_counter(), 0
        for _ in range(k):
            steps += step_once()
        out.append(steps / (time.perf_counter() - t0))
    return out


def repeat_blocking(call, units_per_call: float, reps: int, rep_s: float):
    """Time `call()` (which blocks until done) in `reps` repetitions of about rep_s
    seconds; return (units/s per repetition, calls per repetition). The first call is
    a warm-up, except when it alone takes over 2 rep_s: then it is the first
    repetition (one-time costs are negligible next to it, and it saves a long call)."""
    t0 = time.perf_counter()
    call()
    dt = time.perf_counter() - t0
    rates, calls = [], []
    if dt > 2 * rep_s:
        rates.append(units_per_call / dt)
        calls.append(1)
    k = max(1, round(rep_s / dt))
    while len(rates) < reps:
        t0 = time.perf_counter()
        for _ in range(k):
            call()
        dt = time.perf_counter() - t0
        rates.append(k * units_per_call / dt)
        calls.append(k)
        k = max(1, round(rep_s * k / dt))
    return rates, calls


def int_list(text: str, minimum: int = 0) -> list[int]:
    """A comma-separated list of integers >= minimum, at least one (ValueError otherwise)."""
    values = [int(v) for v in text.split(",") if v.strip()]
    if not values or min(values) < minimum:
        raise ValueError(text)
    return values


def result_path(name: str) -> str:
    """benchmarks/results/<name>_<platform>.json: where a benchmark's JSON goes by default,
    named by JAX's platform (cpu, gpu, tpu) so figures of different machines never mix."""
    import jax

    return os.path.join("benchmarks", "results", f"{name}_{jax.default_backend()}.json")


def write_json(path: str, report: dict) -> None:
    """Write `report` to `path`, creating its folder."""
    os.makedirs(os.path.dirname(os.path.abspath(path)) or ".", exist_ok=True)
    with open(path, "w") as f:
        json.dump(report, f, indent=2)
