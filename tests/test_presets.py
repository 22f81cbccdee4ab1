"""The Rainbow family presets (rainbow, der, minatar-rainbow) and the Rainbow ablation
variants: they validate, are listed, hold their sources' values, and the ablations
remove exactly one component each. (Rainbow's components solve CartPole in
tests/test_cartpole.py.)"""


import pytest

from purejaxdqn.presets import (CARTPOLE, DATA_EFFICIENT, MINATAR, NATURE, PRESETS, VARIANTS,
                                apply_variant)

NEW_PRESETS = ("rainbow", "der", "minatar-rainbow")

# What each ablation changes relative to `rainbow`, written out by hand (Hessel et al.
# 2018's design: one component removed; no-noisy falls back to the base's epsilon schedule).
ABLATED_FIELDS = {
    "rainbow-no-double": {"target"},
    "rainbow-no-prioritized": {"replay", "per_alpha"},
    "rainbow-no-dueling": {"dueling"},
    "rainbow-no-multistep": {"n_step"},
    "rainbow-no-distributional": {"objective", "head", "loss"},
    "rainbow-no-noisy": {"noisy", "epsilon_start", "epsilon_end"},
}
OFF = {"target": "q_learning", "replay": "uniform", "dueling": False, "n_step": 1,
       "objective": "td", "head": "plain", "noisy": False}


@pytest.mark.parametrize("name", NEW_PRESETS)
def test_new_presets_validate(name):
    PRESETS[name].validate()


def test_presets_command_lists_them(capsys):
    from purejaxdqn.tools import cli

    assert cli.main(["presets"]) == 0
    listed = [line.split(":")[0] for line in capsys.readouterr().out.splitlines()]
    assert set(NEW_PRESETS) <= set(listed)


def changed(a: dict, b: dict) -> set:
    return {k for k in set(a) | set(b) if a.get(k, "<absent>") != b.get(k, "<absent>")}


def test_rainbow_variant_is_the_six_components():
    assert VARIANTS["rainbow"] == {
        "target": "double", "replay": "prioritized", "per_alpha": 0.5, "dueling": True,
        "n_step": 3, "objective": "categorical", "head": "categorical", "noisy": True,
        "epsilon_start": 0.0, "epsilon_end": 0.0}
    # Table 1's values that are our components' defaults, so they stay out of the variant
    # (and `ablate --set` can change them)
    rainbow = apply_variant(NATURE, "rainbow")
    assert (rainbow.num_atoms, rainbow.v_min, rainbow.v_max) == (51, -10.0, 10.0)
    assert (rainbow.noisy_sigma0, rainbow.per_beta_start, rainbow.per_beta_end) == (0.5, 0.4, 1.0)


@pytest.mark.parametrize("variant", sorted(ABLATED_FIELDS))
def test_each_ablation_removes_exactly_its_component(variant):
    fields = ABLATED_FIELDS[variant]
    assert changed(VARIANTS[variant], VARIANTS["rainbow"]) == fields
    for field in fields & set(OFF):
        assert VARIANTS[variant][field] == OFF[field]
    for base in (NATURE, CARTPOLE, MINATAR):  # the ablation's bases: the same difference
        ablated, full = apply_variant(base, variant), apply_variant(base, "rainbow")
        ablated.validate()
        assert changed(ablated.to_dict(), full.to_dict()) <= fields
    if variant == "rainbow-no-noisy":  # epsilon-greedy with the base preset's schedule
        ablated = apply_variant(NATURE, variant)
        assert (ablated.epsilon_start, ablated.epsilon_end) == (1.0, 0.1)


def test_ablate_accepts_the_rainbow_variants(tmp_path):
    from experiments.ablate.plan import plan_ablation

    names = ["nature", "rainbow", *ABLATED_FIELDS]
    plan = plan_ablation("CartPole-v1", ",".join(names), "0,1", budget=5_000,
                         out_dir=str(tmp_path), overrides=["v_min=-100", "v_max=100"])
    assert [run.variant for run in plan] == names
    # the support is not in the variants, so --set rescales it for every distributional run
    assert all(run.config.v_max == 100.0 for run in plan)


def test_rainbow_is_table_1_on_nature():
    c = PRESETS["rainbow"]
    assert (c.objective, c.head, c.num_atoms, c.v_min, c.v_max) == (
        "categorical", "categorical", 51, -10.0, 10.0)
    assert (c.target, c.dueling, c.noisy, c.noisy_sigma0, c.n_step) == (
        "double", True, True, 0.5, 3)
    assert (c.replay, c.per_alpha, c.per_beta_start, c.per_beta_end) == (
        "prioritized", 0.5, 0.4, 1.0)
    assert (c.optimizer, c.learning_rate, c.adam_eps) == ("adam", 6.25e-5, 1.5e-4)
    assert c.warmup_steps * 4 == 80_000 and c.target_update_period * 4 == 32_000  # frames
    assert (c.epsilon_start, c.epsilon_end, c.eval_epsilon) == (0.0, 0.0, 0.001)
    protocol = ("env_id", "num_envs", "noop_max", "frame_stack", "total_steps",
                "replay_capacity", "batch_size", "steps_per_update", "gamma", "eval_every",
                "eval_episodes", "eval_max_episode_steps", "torso", "head_hidden")
    assert all(getattr(c, f) == getattr(NATURE, f) for f in protocol)


def test_der_is_dopamines_der_on_the_atari100k_protocol():
    c = PRESETS["der"]
    assert (c.n_step, c.target_update_period, c.target_update_period_updates) == (
        10, 2_000, 2_000)
    assert (c.objective, c.target, c.dueling, c.noisy, c.noisy_sigma0, c.replay) == (
        "categorical", "double", True, True, 0.1, "prioritized")
    assert (c.per_alpha, c.per_beta_start, c.per_beta_end) == (0.5, 0.5, 0.5)
    assert (c.augmentation, c.epsilon_start, c.epsilon_end) == ("none", 0.0, 0.0)
    assert (c.torso, c.head_hidden) == ("auto", 512)  # Dopamine's FullRainbowNetwork
    protocol = ("env_id", "num_envs", "noop_max", "sticky_action_prob", "life_loss_terminal",
                "total_steps", "warmup_steps", "replay_capacity", "batch_size",
                "steps_per_update", "gamma", "optimizer", "learning_rate", "adam_eps",
                "eval_every", "eval_episodes", "eval_epsilon", "eval_max_episode_steps")
    assert all(getattr(c, f) == getattr(DATA_EFFICIENT, f) for f in protocol)


def test_minatar_rainbow_is_revisiting_rainbow_on_our_minatar_protocol():
    c = PRESETS["minatar-rainbow"]
    assert (c.optimizer, c.learning_rate, c.adam_eps) == ("adam", 1e-4, 3.125e-4)
    assert (c.n_step, c.steps_per_update, c.target_update_period, c.warmup_steps) == (
        3, 4, 1_000, 1_000)
    assert (c.num_atoms, c.v_min, c.v_max, c.noisy_sigma0) == (51, -100.0, 100.0, 0.1)
    assert (c.epsilon_start, c.epsilon_end) == (0.01, 0.01)
    protocol = ("env_id", "num_envs", "sticky_action_prob", "full_action_space",
                "max_episode_steps", "reward_clip", "total_steps", "replay_capacity",
                "batch_size", "gamma", "torso", "head_hidden", "eval_every", "eval_epsilon")
    assert all(getattr(c, f) == getattr(MINATAR, f) for f in protocol)
