"""benchmarks.device_check --smoke: every section of the GPU check runs on the CPU."""

import json
import os

from benchmarks import device_check


def test_smoke_runs_every_section_and_writes_one_json(tmp_path):
    assert device_check.main(["--smoke", "--out", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "device_check_cpu_smoke.json").read_text())
    assert report["smoke"] is True and report["machine"]["jax_platform"] == "cpu"
    sections = report["sections"]
    assert list(sections) == ["learner", "atari_engines", "atari_seeds", "minatar_seeds",
                              "peer_workload", "pong"]
    for name in ("learner", "atari_engines", "atari_seeds", "minatar_seeds", "peer_workload"):
        assert "result" in sections[name], (name, sections[name])
    engines = {(r["num_envs"], r["engine"]) for r in sections["atari_engines"]["result"]}
    assert engines == {(4, "host"), (4, "fused")}
    assert [r["seeds"] for r in sections["minatar_seeds"]["result"]] == [2]
    assert all(r["total_steps_per_s"] > 0 for r in sections["atari_seeds"]["result"])
    assert sections["peer_workload"]["result"]["total_steps"] == 2_000
    pong = sections["pong"]
    assert pong["total_steps"] == 64 + 32 * 4 and pong["evaluations"]["step"] == 192
    assert os.path.exists(tmp_path / "pong" / "episodes.csv")
    assert not os.path.exists(tmp_path / "pong" / "checkpoint")


def test_bad_budget_is_one_line_exit_2(capsys):
    assert device_check.main(["--budget-s", "0"]) == 2
    assert capsys.readouterr().err.count("\n") == 1
