import os

import jax.numpy as jnp
import pytest

from purejaxdqn.components.losses import LOSSES
from purejaxdqn.config import FIELD_CHOICES, ConfigError
from purejaxdqn.presets import CARTPOLE, NATURE
from purejaxdqn.registry import Registry
from purejaxdqn.run.runlog import read_jsonl


def test_registry_lookup_order_and_errors():
    table = Registry("widget")
    table.register("a", 1)

    @table.register("bee")
    def bee():
        return 2

    assert table.names() == ("a", "bee") and table.get("bee") is bee and "a" in table
    with pytest.raises(ConfigError) as info:
        table.get("be")
    assert str(info.value) == "widget must be one of a, bee; got 'be' (did you mean 'bee'?)"
    with pytest.raises(ValueError, match="already registered"):
        table.register("a", 3)
    table.unregister("a")
    assert table.names() == ("bee",)


def test_config_choices_are_the_registries_names():
    from purejaxdqn.components import exploration, networks, optimizers, target_updates, targets
    assert FIELD_CHOICES["loss"] == LOSSES.names() == ("huber", "mse")
    assert FIELD_CHOICES["target"] == targets.TARGETS.names()
    assert FIELD_CHOICES["optimizer"] == optimizers.OPTIMIZERS.names()
    assert FIELD_CHOICES["target_update"] == target_updates.TARGET_UPDATES.names()
    assert FIELD_CHOICES["epsilon_schedule"] == exploration.SCHEDULES.names()
    assert FIELD_CHOICES["torso"] == networks.TORSOS.names()
    with pytest.raises(ConfigError, match="did you mean 'huber'"):
        NATURE.replace(loss="hubr").validate()


def test_a_loss_registered_outside_the_package_trains(tmp_path, capsys):
    """docs/extending.md's worked example (the loss): one function + one registry line, then
    train with it."""
    from purejaxdqn.run.train import train
    from purejaxdqn.tools import cli

    traced = []

    @LOSSES.register("pseudo_huber")
    def pseudo_huber(delta, threshold=1.0):
        """k^2 (sqrt(1 + (d/k)^2) - 1): 0.5 d^2 near 0, slope k far out."""
        traced.append(delta.shape)  # runs when the update is traced, not per step
        return threshold**2 * (jnp.sqrt(1.0 + (delta / threshold) ** 2) - 1.0)

    try:
        config = CARTPOLE.replace(loss="pseudo_huber", total_steps=600, warmup_steps=200,
                                  replay_capacity=1_000, eval_every=0, eval_episodes=1,
                                  log_every=200, checkpoint_every=0, checkpoint_replay=False)
        config.validate()
        parser = cli.build_parser()
        train_parser = parser._subparsers._group_actions[0].choices["train"]
        loss_flag = next(a for a in train_parser._actions if a.dest == "loss")
        assert "pseudo_huber" in loss_flag.choices
        cli.main(["presets"])
        assert "--loss: huber, mse, pseudo_huber" in capsys.readouterr().out

        summary = train(config, str(tmp_path), progress=False)
        assert summary["steps"] == 600
        assert traced and traced[0] == (config.batch_size,)  # the learner called our loss
        learned = [m for m in read_jsonl(os.path.join(tmp_path, "metrics.jsonl")) if "loss" in m]
        assert learned and all(0.0 <= m["loss"] < float("inf") for m in learned)
    finally:
        LOSSES.unregister("pseudo_huber")
    with pytest.raises(ConfigError, match="loss must be one of huber, mse;"):
        config.validate()


def test_an_exploration_schedule_with_a_new_setting_added_from_outside(tmp_path, capsys):
    """docs/extending.md's "Adding a component" example: one class declares the schedule and its
    setting; the flag, --help, config.json and the setting's check follow from it."""
    import dataclasses
    import json

    import jax.numpy as jnp

    from purejaxdqn.components.exploration import SCHEDULES, StartEnd, by_step
    from purejaxdqn.config import Config
    from purejaxdqn.parts import build_exploration
    from purejaxdqn.settings import positive, setting
    from purejaxdqn.tools import cli

    @SCHEDULES.register("cosine")
    @dataclasses.dataclass(frozen=True)
    class Cosine(StartEnd):
        epsilon_cosine_steps: int = setting(500_000, "agent steps of the cosine decay", positive)

        def build(self, warmup_steps):
            def anneal(step):
                frac = jnp.clip((step - warmup_steps) / self.epsilon_cosine_steps, 0.0, 1.0)
                return self.epsilon_end + (self.epsilon_start - self.epsilon_end) * 0.5 * (
                    1.0 + jnp.cos(jnp.pi * frac))
            return by_step(warmup_steps, anneal)

    try:
        args = cli.build_parser().parse_args(
            ["train", "--preset", "cartpole", "--epsilon-schedule", "cosine",
             "--epsilon-cosine-steps", "2000", "--run-dir", str(tmp_path / "run")])
        config, _, _ = cli._prepare_train(args)
        assert (config.epsilon_schedule, config.epsilon_cosine_steps) == ("cosine", 2000)
        eps = build_exploration(config).epsilon
        warmup = config.warmup_steps  # 1,000: uniform-random play, then 1.0 -> 0.02
        assert float(eps(warmup - 1)) == 1.0 and float(eps(warmup)) == config.epsilon_start
        assert float(eps(warmup + 1000)) == pytest.approx(
            (config.epsilon_start + config.epsilon_end) / 2, abs=1e-6)
        assert float(eps(warmup + 5000)) == pytest.approx(config.epsilon_end)
        # config.json round trip, and the setting's own check
        assert Config.from_dict(json.loads(config.to_json())) == config
        with pytest.raises(ConfigError, match="epsilon_cosine_steps must be positive, got 0"):
            config.replace(epsilon_cosine_steps=0).validate()
        cli.main(["presets"])
        assert "--epsilon-schedule: linear, exponential, multiplicative, episode_linear, " \
               "episode_exponential, cosine" in capsys.readouterr().out
        with pytest.raises(SystemExit):
            cli.main(["train", "--help"])
        assert "--epsilon-cosine-steps" in capsys.readouterr().out
    finally:
        SCHEDULES.unregister("cosine")
    assert "epsilon_cosine_steps" not in Config().to_dict()
