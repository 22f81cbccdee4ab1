"""Name -> component tables, one per swappable kind of component.

Each kind's module owns its table (`losses.LOSSES`, `targets.TARGETS`,
`optimizers.OPTIMIZERS`, `target_updates.TARGET_UPDATES`,
`exploration.SCHEDULES`, `networks.TORSOS`, `networks.HEADS`,
`augmentation.AUGMENTATIONS`, `sampling.SAMPLING`; `components.REGISTRIES` lists them);
the Config field named by `Registry.field` chooses an entry, and its allowed values are
the table's names (`FieldChoices`). The settings the entries declare
(`declared_settings`) are the Config's settings too.

An entry is either the component itself, where it has no settings (a loss, a TD
rule), or a frozen dataclass of its settings (`settings.Settings` fields, each with
its default, help and check) whose `build(...)` returns the component. Those fields
become Config settings and CLI flags (`--soft-tau`) with nothing else to edit.
Adding a component is one class (or function) and one decorator:

    @SCHEDULES.register("cosine")
    @dataclasses.dataclass(frozen=True)
    class Cosine(StartEnd):
        epsilon_cycles: int = setting(1, "cosine periods over the decay", positive)
        def build(self, warmup_steps): ...
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Generic, TypeVar

from purejaxdqn.settings import check_choice, choices_of

T = TypeVar("T")


class Registry(Generic[T]):
    """An ordered name -> entry table for the Config field `field` (used in errors)."""

    def __init__(self, field: str):
        self.field = field
        self._entries: dict[str, T] = {}

    def register(self, name: str, entry: T | None = None):
        """`register(name, entry)`, or `@register(name)` as a decorator; returns the entry.

        A name registers once: a second entry under it would silently change a run. A
        setting name means one thing: entries may share it only through the same
        declaration (a common base class), never declare it twice."""
        if entry is None:
            return lambda e: self.register(name, e)
        if name in self._entries:
            raise ValueError(f"{self.field} {name!r} is already registered")
        declared = self.settings()
        for field in _settings_of(entry):
            if field.name in declared and declared[field.name] is not field:
                raise ValueError(f"setting {field.name!r} of {self.field} {name!r} is already "
                                 "declared by another entry: share its declaration")
        self._entries[name] = entry
        return entry

    def unregister(self, name: str) -> None:
        del self._entries[name]

    def names(self) -> tuple[str, ...]:
        return tuple(self._entries)

    def get(self, name: str) -> T:
        """The entry for `name`; a ConfigError naming the choices (and a close match) if none."""
        check_choice(self.field, name, self.names())
        return self._entries[name]

    def settings(self) -> dict[str, dataclasses.Field]:
        """name -> declaration of every setting the entries declare, in registration order."""
        return {f.name: f for entry in self._entries.values() for f in _settings_of(entry)}

    def configured(self, name: str, values: Any) -> Any:
        """Entry `name` with its settings read from `values` (a Config, or anything with
        those attributes); an entry without settings is returned as it is."""
        entry = self.get(name)
        if not _is_settings_class(entry):
            return entry
        return entry(**{f.name: getattr(values, f.name) for f in dataclasses.fields(entry)})

    def __contains__(self, name: object) -> bool:
        return name in self._entries


def _is_settings_class(entry: Any) -> bool:
    return isinstance(entry, type) and dataclasses.is_dataclass(entry)


def _settings_of(entry: Any) -> tuple[dataclasses.Field, ...]:
    return dataclasses.fields(entry) if _is_settings_class(entry) else ()


def declared_settings(registries: Iterable[Registry]) -> dict[str, dataclasses.Field]:
    """name -> declaration of every setting the registries' entries declare. A name two
    kinds declare is refused: a Config holds one value per name."""
    found: dict[str, dataclasses.Field] = {}
    for registry in registries:
        for name, field in registry.settings().items():
            if name in found and found[name] is not field:
                raise ValueError(f"setting {name!r} is declared by two kinds of component")
            found[name] = field
    return found


class FieldChoices(Mapping):
    """field -> allowed values, of the fields `fields()` declares: a component field's are
    its registry's names, read when asked, so a component registered later (from outside
    the package) counts; any other setting's are those its declaration lists
    (`settings.one_of`)."""

    def __init__(self, fields: Callable[[], dict[str, dataclasses.Field]],
                 registries: tuple[Registry, ...]):
        self._fields, self._registries = fields, registries

    def _all(self) -> dict[str, tuple[str, ...]]:
        fields = self._fields()
        declared = {name: choices_of(f) for name, f in fields.items() if choices_of(f)}
        return {**{r.field: r.names() for r in self._registries if r.field in fields},
                **declared}

    def __getitem__(self, name: str) -> tuple[str, ...]:
        return self._all()[name]

    def __iter__(self):
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())
