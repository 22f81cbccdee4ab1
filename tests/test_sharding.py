"""Seeds sharded over devices: 4 CPU devices forced by XLA_FLAGS in a subprocess (the
flag must be set before jax initialises; this pytest process already has jax loaded)."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SCRIPT = textwrap.dedent("""
    import json, os, sys
    import jax, numpy as np
    from purejaxdqn.run import checkpoint
    from purejaxdqn.agent import make_agent
    from purejaxdqn.seed_axis import seed_sharding
    from purejaxdqn.envs.envpool import make_env
    from purejaxdqn.presets import CARTPOLE
    from purejaxdqn.run.train import train

    out = sys.argv[1]
    config = CARTPOLE.replace(total_steps=1_000, warmup_steps=500, eval_every=0,
                              eval_episodes=2, checkpoint_every=0, seeds=(0, 1, 2, 3))
    report = {"devices": len(jax.devices())}
    sharded = train(config, os.path.join(out, "sharded"), progress=False)
    single = train(config, os.path.join(out, "single"), progress=False,
                   devices=jax.devices()[:1])
    report["summary_devices"] = [sharded["devices"], single["devices"]]
    report["final"] = [sharded["final_eval"]["score_mean"], single["final_eval"]["score_mean"]]

    env = make_env(config)
    sharding = seed_sharding(4)
    agent = make_agent(config, env.spec, sharding)
    env.close()
    state = agent.init(jax.numpy.stack([jax.random.PRNGKey(s) for s in range(4)]))
    state, _ = agent.learn(state)  # shardings survive a (donating) learn call
    leaves = jax.tree_util.tree_leaves(state)
    report["leaf_device_counts"] = sorted({len(x.sharding.device_set) for x in leaves})
    report["shard_rows"] = sorted({s.data.shape[0] for x in leaves for s in x.addressable_shards})
    report["fallback"] = {n: (lambda s: 1 if s is None else len(s.device_set))(seed_sharding(n))
                          for n in (1, 2, 3, 5, 6, 8)}
    for name in ("sharded", "single"):
        learner, _, _, _ = checkpoint.load(os.path.join(out, name), state.learner, None)
        np.savez(os.path.join(out, name + ".npz"),
                 *[np.asarray(x) for x in jax.tree_util.tree_leaves(learner)])
    print("REPORT " + json.dumps(report))
""")


def test_sharded_seeds_equal_the_single_device_run(tmp_path):
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=4",
               JAX_PLATFORMS="cpu",
               PYTHONPATH=os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    (line,) = [l for l in done.stdout.splitlines() if l.startswith("REPORT ")]
    report = json.loads(line[len("REPORT "):])
    assert report["devices"] == 4
    assert report["summary_devices"] == [4, 1]
    # every state leaf is split over the 4 devices, one seed per device
    assert report["leaf_device_counts"] == [4] and report["shard_rows"] == [1]
    # the largest device count that divides the number of seeds
    assert report["fallback"] == {"1": 1, "2": 2, "3": 3, "5": 1, "6": 3, "8": 4}
    sharded, single = np.load(tmp_path / "sharded.npz"), np.load(tmp_path / "single.npz")
    assert len(sharded.files) == len(single.files) > 5
    for name in sharded.files:  # params, target params, optimizer state, key, counters
        np.testing.assert_allclose(sharded[name], single[name], rtol=1e-5, atol=1e-6)
    assert report["final"][0] == report["final"][1]
