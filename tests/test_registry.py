import os

import jax.numpy as jnp
import pytest

from purejaxdqn.config import CARTPOLE, FIELD_CHOICES, NATURE, ConfigError
from purejaxdqn.losses import LOSSES
from purejaxdqn.registry import Registry
from purejaxdqn.runlog import read_jsonl


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
    from purejaxdqn import exploration, networks, optimizers, target_updates, targets

    assert FIELD_CHOICES["loss"] == LOSSES.names() == ("huber", "mse")
    assert FIELD_CHOICES["target"] == targets.TARGETS.names()
    assert FIELD_CHOICES["optimizer"] == optimizers.OPTIMIZERS.names()
    assert FIELD_CHOICES["target_update"] == target_updates.TARGET_UPDATES.names()
    assert FIELD_CHOICES["epsilon_schedule"] == exploration.SCHEDULES.names()
    assert FIELD_CHOICES["torso"] == networks.TORSOS.names()
    with pytest.raises(ConfigError, match="did you mean 'huber'"):
        NATURE.replace(loss="hubr").validate()


def test_a_loss_registered_outside_the_package_trains(tmp_path, capsys):
    """The README's worked example: one function + one registry line, then train with it."""
    from purejaxdqn import cli
    from purejaxdqn.train import train

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
