"""Name -> constructor tables, one per swappable kind of component.

Each kind's module owns its table (`losses.LOSSES`, `targets.TARGETS`,
`optimizers.OPTIMIZERS`, `target_updates.TARGET_UPDATES`,
`exploration.SCHEDULES`, `networks.TORSOS`, `networks.HEADS`,
`augmentation.AUGMENTATIONS`, `sampling.SAMPLING`), and the Config field that
names the component reads its allowed values from it (`config.FIELD_CHOICES`).
Adding a component is one function and one line:

    @LOSSES.register("log_cosh")
    def log_cosh(delta): ...

What an entry is depends on the kind (see the table's module): the component
itself where it has no settings (a loss, a TD rule), else a function of the
Config that builds it.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from purejaxdqn.config import check_choice

T = TypeVar("T")


class Registry(Generic[T]):
    """An ordered name -> entry table for the Config field `field` (used in errors)."""

    def __init__(self, field: str):
        self.field = field
        self._entries: dict[str, T] = {}

    def register(self, name: str, entry: T | None = None):
        """`register(name, entry)`, or `@register(name)` as a decorator; returns the entry.

        A name registers once: a second entry under it would silently change a run."""
        if entry is None:
            return lambda e: self.register(name, e)
        if name in self._entries:
            raise ValueError(f"{self.field} {name!r} is already registered")
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

    def __contains__(self, name: object) -> bool:
        return name in self._entries

