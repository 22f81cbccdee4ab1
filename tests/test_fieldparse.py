"""purejaxdqn.tools.fieldparse: the one text -> Config field value parser of every script."""

import pytest

from purejaxdqn.config import ConfigError
from purejaxdqn.tools.cli import build_parser
from purejaxdqn.tools.fieldparse import field_name, parse_field, parse_int


def test_values_take_the_type_of_the_fields_default():
    assert parse_field("dueling", "ON") is True and parse_field("dueling", "0") is False
    assert parse_field("total_steps", "6e4") == 60_000
    assert parse_field("total_steps", " 60_000 ") == 60_000
    assert parse_field("learning_rate", "1e-3") == 1e-3
    assert parse_field("mlp_hidden", "64, 64") == (64, 64)
    assert parse_field("target", "double") == "double"


@pytest.mark.parametrize("name, text, message", [
    ("dueling", "maybe", "dueling: expected true or false, got 'maybe'"),
    ("seeds", "", "seeds: expected comma-separated integers, got an empty value"),
    ("seeds", " , ", "seeds: expected comma-separated integers, got an empty value"),
    ("batch_size", "3.5", "batch_size must be an integer, got '3.5'"),
    ("mlp_hidden", "64,x", "mlp_hidden must be an integer, got 'x'"),
    ("gamma", "high", "gamma: expected a number, got 'high'"),
])
def test_a_bad_value_is_a_one_line_config_error(name, text, message):
    with pytest.raises(ConfigError) as info:
        parse_field(name, text)
    assert str(info.value) == message


def test_parse_int_and_field_names():
    assert parse_int(7, "n") == 7 and parse_int("1e3", "n") == 1000
    for bad in (True, "1.5", "many"):
        with pytest.raises(ConfigError, match="n must be an integer"):
            parse_int(bad, "n")
    assert field_name("learning-rate") == "learning_rate"
    with pytest.raises(ConfigError, match="did you mean warmup_steps"):
        field_name("warmup")


def test_the_cli_flags_parse_through_it():
    args = build_parser().parse_args(["train", "--total-steps", "6e4", "--dueling", "yes",
                                      "--mlp-hidden", "32,32"])
    assert (args.total_steps, args.dueling, args.mlp_hidden) == (60_000, True, (32, 32))
