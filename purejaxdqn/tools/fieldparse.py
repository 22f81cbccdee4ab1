"""Text -> typed Config field value: the one parser behind `purejaxdqn train --FIELD`,
`ablate --set FIELD=VALUE` and the other experiment scripts.

Why argparse and not tyro (checked with tyro 1.0.17): tyro builds the flags from the
dataclass well, but its bad-input report is a multi-line rich panel (`╭─ Value error ─╮`
with the argument's help inside), and our rule is ONE line on stderr and exit 2 before
any work, for flag errors and `Config.validate` errors alike. So the scripts keep
argparse (`cli.OneLineParser`), and this module is the only place that reads a field's
value from text; the field's type is its default's (bool, int, float, str, int tuple).
Allowed values (choices, ranges) are `Config.validate`'s job, not this module's.
"""

from __future__ import annotations

import difflib
from typing import Any

from purejaxdqn.config import ConfigError, fields_by_name

TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def parse_int(text: Any, what: str) -> int:
    """'60000', '60_000' and '6e4' are all 60000; anything else is a ConfigError
    '<what> must be an integer, got ...'."""
    if isinstance(text, bool):
        raise ConfigError(f"{what} must be an integer, got {text!r}")
    if isinstance(text, int):
        return text
    try:
        return int(str(text).strip())
    except ValueError:
        pass
    try:
        value = float(str(text).strip())
    except ValueError:
        raise ConfigError(f"{what} must be an integer, got {text!r}") from None
    if not value.is_integer():
        raise ConfigError(f"{what} must be an integer, got {text!r}")
    return int(value)


def field_name(name: str) -> str:
    """'learning-rate' -> 'learning_rate'; ConfigError naming the closest field if unknown."""
    name = name.strip().replace("-", "_")
    fields = fields_by_name()
    if name not in fields:
        close = difflib.get_close_matches(name, list(fields), n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        raise ConfigError(f"unknown config field {name!r}{hint}")
    return name


def field_kind(name: str) -> type:
    """The Python type a field's value has: bool, int, float, str or tuple (of ints)."""
    return type(fields_by_name()[name].default)


def parse_field(name: str, text: str, what: str | None = None) -> Any:
    """`text` as a value of Config field `name` ('true'/'off', '6e4', '1e-3', '64,64').
    ConfigError `<what>: expected ...` (what defaults to the field name) if it is not one."""
    kind, text, what = field_kind(name), text.strip(), what or name
    if kind is bool:
        if text.lower() in TRUE:
            return True
        if text.lower() in FALSE:
            return False
        raise ConfigError(f"{what}: expected true or false, got {text!r}")
    if kind is tuple:
        # An empty value would silently mean "the default" (no seeds: seed 0), never a list.
        if not text.strip(", "):
            raise ConfigError(f"{what}: expected comma-separated integers, got an empty value")
        return tuple(parse_int(part, what) for part in text.split(",") if part.strip())
    if kind is int:
        return parse_int(text, what)
    if kind is float:
        try:
            return float(text)
        except ValueError:
            raise ConfigError(f"{what}: expected a number, got {text!r}") from None
    return text
