"""Declaring a setting: its default, one line of help and its own check, in one place.

A setting is a dataclass field made by `setting(default, help, check)`. The run's own
settings are `config.Config`'s fields; a component's are the fields of the small frozen
dataclass its registry entry is (`exploration.Linear`, `optimizers.Adam`, ...), next to
the code that uses them. The CLI flags, `--help`, config.json and the checks are all
read from these declarations, so adding a setting is writing one field.

This module sits under everything else in the package and imports none of it.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from typing import Any, Callable, NamedTuple


class ConfigError(ValueError):
    """An impossible configuration; its message is one line meant for the user."""


class Check(NamedTuple):
    """`ok(value)` is False for a bad value; the error then reads '<name> <rule>, got <value>'
    (a string value quoted). A check made by `one_of` also lists its `choices`: argparse,
    `--help` and the error's "did you mean" read them from there."""

    ok: Callable[[Any], bool]
    rule: str
    choices: tuple[str, ...] = ()


positive = Check(lambda v: v > 0, "must be positive")
non_negative = Check(lambda v: v >= 0, "must be >= 0")
probability = Check(lambda v: 0.0 <= v <= 1.0, "must be in [0, 1]")
decay_factor = Check(lambda v: 0.0 < v <= 1.0, "must be in (0, 1]")
below_one = Check(lambda v: 0.0 <= v < 1.0, "must be in [0, 1)")
all_positive = Check(lambda v: all(x > 0 for x in v), "sizes must be positive")


def one_of(*choices: str) -> Check:
    """A string setting that takes one of `choices`."""
    return Check(lambda v: v in choices, f"must be one of {', '.join(choices)}", choices)


def choices_of(field: dataclasses.Field) -> tuple[str, ...]:
    """The values a setting declared with `one_of` takes; () for any other setting."""
    check = field.metadata.get("check")
    return check.choices if check is not None else ()


def setting(default: Any, help: str, check: Check | None = None) -> Any:
    """A dataclass field declaring a setting (`help`: one line for `--help`)."""
    assert help and "\n" not in help, "a setting's help is one line"
    return dataclasses.field(default=default, metadata={"help": help, "check": check})


def help_of(field: dataclasses.Field) -> str:
    return field.metadata.get("help", "")


def check_value(field: dataclasses.Field, value: Any) -> None:
    """ConfigError '<name> <rule>, got <value>' when the field's own check refuses `value`;
    a float that is not finite (nan, inf) is refused for every setting."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{field.name} must be a finite number, got {value}")
    check = field.metadata.get("check")
    if check is not None and check.choices:
        check_choice(field.name, value, check.choices)
    elif check is not None and not check.ok(value):
        shown = repr(value) if isinstance(value, str) else value  # quoted: blanks in it show
        raise ConfigError(f"{field.name} {check.rule}, got {shown}")


def check_fields(obj: Any) -> None:
    """Run every field's own check on a dataclass instance."""
    for field in dataclasses.fields(obj):
        check_value(field, getattr(obj, field.name))


def check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        close = difflib.get_close_matches(str(value), choices, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ConfigError(f"{name} must be one of {', '.join(choices)}; got {value!r}{hint}")


class Settings:
    """Base of a component's settings dataclass: its fields' checks run on construction,
    so an entry built with bad values fails with one line (as Config.validate would)."""

    def __post_init__(self):
        check_fields(self)
