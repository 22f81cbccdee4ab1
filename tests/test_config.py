import pytest

from purejaxdqn.config import Config, ConfigError
from purejaxdqn.presets import CARTPOLE, NATURE, PRESETS, VARIANTS, apply_variant


def test_nature_defaults_in_agent_steps():
    c = NATURE
    assert (c.batch_size, c.replay_capacity, c.target_update_period) == (32, 1_000_000, 10_000)
    assert (c.warmup_steps, c.epsilon_decay_steps, c.total_steps) == (50_000, 1_000_000, 12_500_000)
    assert (c.steps_per_update, c.gamma, c.learning_rate) == (4, 0.99, 2.5e-4)
    assert c.target_update_period_updates == 2_500


def test_presets_validate():
    for config in PRESETS.values():
        config.validate()


@pytest.mark.parametrize("changes, fragment", [
    ({"learning_rate": -1e-4}, "learning_rate must be positive"),
    ({"batch_size": 2_000_000}, "larger than replay_capacity"),
    ({"warmup_steps": 16}, "warmup_steps (16) must be at least batch_size"),
    ({"gamma": 1.5}, "gamma must be in [0, 1]"),
    ({"n_step": 11}, "n_step must be in 1..10"),
    ({"n_step": 0}, "n_step must be positive"),
    ({"num_envs": 0}, "num_envs must be positive"),
    ({"num_envs": 3}, "must be a multiple of num_envs"),
    ({"num_envs": 6, "replay_capacity": 600_000}, "must divide one another"),
    ({"epsilon_end": 1.2}, "epsilon_end must be in [0, 1]"),
    ({"target": "triple"}, "target must be one of"),
    ({"loss": "l1"}, "loss must be one of"),
    ({"optimizer": "sgd"}, "optimizer must be one of"),
    ({"replay": "fifo"}, "replay must be one of"),
    ({"engine": "fuse"}, "engine must be one of auto, host, fused; got 'fuse' (did you mean "),
    ({"update_trigger": "episode"}, "update_trigger must be one of steps, episodes;"),
    ({"target_update_period": 10_001}, "multiple of steps_per_update"),
    ({"soft_tau": 0.0}, "soft_tau must be in (0, 1]"),
    ({"warmup_steps": 2_000_000}, "exceeds replay_capacity"),
    ({"total_steps": 10_000}, "must be below total_steps"),
    ({"eval_episodes": 0}, "eval_episodes must be positive"),
    ({"mlp_hidden": (64, 0)}, "mlp_hidden sizes must be positive"),
    ({"eval_num_envs": 40}, "exceeds eval_episodes"),
    ({"seeds": (1, 1)}, "seeds must be distinct"),
])
def test_each_impossible_value_has_a_clear_error(changes, fragment):
    with pytest.raises(ConfigError) as info:
        NATURE.replace(**changes).validate()
    message = str(info.value)
    assert fragment in message
    assert "\n" not in message


def test_round_trip_through_dict():
    assert Config.from_dict(CARTPOLE.to_dict()) == CARTPOLE
    with pytest.raises(ConfigError, match="unknown config field"):
        Config.from_dict({"batchsize": 3})


def test_presets_are_variants_on_nature():
    assert PRESETS["double"].target == "double" and PRESETS["double"].dueling is False
    assert PRESETS["dueling"].dueling and PRESETS["prioritized"].replay == "prioritized"
    rainbow = PRESETS["rainbow-lite"]
    assert (rainbow.target, rainbow.dueling, rainbow.n_step, rainbow.replay) == (
        "double", True, 3, "prioritized")
    cleanrl = PRESETS["cleanrl"]
    assert (cleanrl.optimizer, cleanrl.learning_rate, cleanrl.loss) == ("adam", 1e-4, "mse")
    assert (cleanrl.target_update_period, cleanrl.epsilon_end) == (1_000, 0.01)
    assert cleanrl.epsilon_decay_steps == 1_250_000 and cleanrl.warmup_steps == 80_000


def test_every_variant_applies_to_both_scales():
    for name in VARIANTS:
        apply_variant(NATURE, name).validate()
        apply_variant(CARTPOLE, name).validate()
    with pytest.raises(ConfigError, match="unknown variant"):
        apply_variant(NATURE, "triple")


def test_every_field_has_help():
    from purejaxdqn.config import fields_by_name
    from purejaxdqn.settings import help_of

    FIELD_HELP = {name: help_of(field) for name, field in fields_by_name().items()}
    fields = set(Config().to_dict())
    assert set(FIELD_HELP) == fields, sorted(fields ^ set(FIELD_HELP))
    assert all(text and "\n" not in text for text in FIELD_HELP.values())


@pytest.mark.parametrize("changes, fragment", [
    ({"replay_capacity": 2**24 + 8}, "exceeds 2^24 = 16,777,216: the sum tree"),
    ({"seed": 2048}, "seeds must be at most 2047"),
    ({"checkpoint_minutes": -1.0}, "checkpoint_minutes must be >= 0"),
])
def test_limits_are_explained(changes, fragment):
    with pytest.raises(ConfigError, match=None) as info:
        NATURE.replace(**changes).validate()
    assert fragment in str(info.value)


def test_choices_are_declared_once_with_the_setting():
    """A setting declared with one_of gives its choices to validate, argparse and --help
    (FIELD_CHOICES) from that one declaration, a component's own settings included."""
    from purejaxdqn.config import FIELD_CHOICES

    assert FIELD_CHOICES["engine"] == ("auto", "host", "fused")
    assert FIELD_CHOICES["obs_transform_on"] == ("device", "host")
    assert FIELD_CHOICES["conv_impl"] == ("auto", "im2col", "xla")  # a component's setting
    assert "huber" in FIELD_CHOICES["loss"]  # a registry's names


def test_a_config_json_from_before_the_head_setting_loads_as_the_same_network():
    """Before `head` and `objective` existed, config.json chose the head by "dueling": it
    loads as head plain with dueling streams (the same parameters: test_objectives) and the
    TD objective. The files are committed runs' own."""
    import json
    import os

    runs = os.path.join(os.path.dirname(__file__), "..", "experiments", "results", "cartpole",
                        "runs", "CartPole-v1")
    for variant, dueling in (("dueling", True), ("nature", False)):
        with open(f"{runs}/{variant}/config.json") as f:
            old = json.load(f)
        assert "head" not in old and old["dueling"] is dueling
        config = Config.from_dict(old).validate()
        assert (config.head, config.dueling, config.objective) == ("plain", dueling, "td")
