"""The progress line: speed and ETA from the current phase only."""

from __future__ import annotations

import io

import pytest

from purejaxdqn.run.progress import Progress, eta_seconds


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def test_eta_uses_learning_speed_not_warmup_speed():
    clock, out = Clock(), io.StringIO()
    bar = Progress(total=110_000, steps=0, learning_starts=10_000, stream=out, tty=False,
                   plain_every_s=60, window_s=20, clock=clock)
    for _ in range(99):  # warm-up: 1,000 steps/s for 10 s
        clock.t += 0.1
        bar.update(bar.steps + 100)
    assert bar.steps_per_s() == pytest.approx(1_000)
    assert "warm-up ends in 0:00" in bar.line()
    clock.t += 0.1
    bar.update(10_000)  # learning starts
    for _ in range(300):  # learning: 10 steps/s for 30 s
        clock.t += 0.1
        bar.update(bar.steps + 1)
    assert abs(bar.steps_per_s() - 10) < 1e-9
    # remaining 100,000 - 300 steps at 10 steps/s, not at a warm-up-diluted average
    assert eta_seconds("learning", bar.steps, 110_000, 10_000, bar.steps_per_s()) == \
        pytest.approx((110_000 - 10_300) / 10)
    assert "ETA 2:46:10" in bar.line() and "10 steps/s" in bar.line()


def test_warmup_eta_is_the_end_of_warmup():
    assert eta_seconds("warm-up", 2_000, 100_000, 10_000, 1_000) == 8
    assert eta_seconds("learning", 2_000, 100_000, 10_000, None) is None


def test_plain_lines_when_not_a_terminal():
    clock, out = Clock(), io.StringIO()
    bar = Progress(total=1_000, steps=0, learning_starts=100, stream=out, tty=False,
                   plain_every_s=10, clock=clock)
    for _ in range(100):  # 50 s
        clock.t += 0.5
        bar.update(bar.steps + 5)
    bar.write("eval: 3.0")
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue()
    assert len([x for x in lines if x.startswith("learning")]) == 5  # every 10 s of 50
    assert lines[-1] == "eval: 3.0"
    assert lines[-2].startswith("learning 500/1,000 steps (50.0%) | 10 steps/s | ETA 0:50")


def test_terminal_line_is_rewritten_in_place():
    clock, out = Clock(), io.StringIO()
    bar = Progress(total=1_000, steps=0, learning_starts=0, stream=out, tty=True,
                   refresh_s=0.5, clock=clock)
    for _ in range(4):
        clock.t += 0.5
        bar.update(bar.steps + 10)
    bar.close()
    text = out.getvalue()
    start, rest = text.split("\n", 1)  # the start line stands on its own line
    assert start.startswith("learning 0/1,000 steps | starting")
    assert rest.count("\r") == 5 and rest.endswith("\n") and rest.count("\n") == 1


def test_no_eta_until_the_phase_has_a_measured_rate_and_the_compile_step_is_left_out():
    clock, out = Clock(), io.StringIO()
    bar = Progress(total=100_000, steps=0, learning_starts=1_000, stream=out, tty=False,
                   window_s=20, min_span_s=5, clock=clock)
    clock.t += 30.0  # the first call compiles: 8 steps in 30 s
    bar.update(8)
    assert bar.steps_per_s() is None and "measuring speed" in bar.line()
    assert "ETA" not in bar.line() and "ends in" not in bar.line()
    for _ in range(40):  # then 8 steps every 0.1 s: 80 steps/s
        clock.t += 0.1
        bar.update(bar.steps + 8)
    # 4 s after the compile: still measuring, not an ETA from 328 steps in 34 s
    assert bar.steps_per_s() is None
    for _ in range(20):
        clock.t += 0.1
        bar.update(bar.steps + 8)
    assert bar.steps_per_s() == pytest.approx(80)  # 6 s: measured, compile excluded
    assert "warm-up ends in 0:06" in bar.line()  # (1,000 - 488) / 80 = 6.4 s


def test_a_pipe_sees_a_line_at_once_and_the_first_rate_within_ten_seconds():
    clock, out = Clock(), io.StringIO()
    bar = Progress(total=12_500_000, steps=0, learning_starts=50_000, stream=out, tty=False,
                   plain_every_s=60, clock=clock)
    assert out.getvalue() == ("warm-up 0/12,500,000 steps | starting: the first steps compile "
                              "the agent's programs (seconds to a minute)\n")
    for _ in range(20):  # 10 s
        clock.t += 0.5
        bar.update(bar.steps + 500)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and lines[1].startswith("warm-up 10,000/12,500,000 steps")
    for _ in range(100):  # the next 50 s: no line until 60 s after the first
        clock.t += 0.5
        bar.update(bar.steps + 500)
    assert len(out.getvalue().splitlines()) == 2
