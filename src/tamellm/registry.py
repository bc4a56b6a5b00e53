"""One way to register an implementation under a name: tasks, strategies, explainers, compressors, ...

Each table is a ``Registry`` built on ``catalogue`` (the registry library spaCy uses), so
a separate package can add entries through an entry point group without tamellm
importing it: ``[project.entry-points.tamellm_strategies] my-strategy = "pkg.mod:MyStrategy"``.
Built-in entries register with the ``@REGISTRY.register("name")`` decorator when their
package's ``__init__`` imports them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

import catalogue

from tamellm.errors import InputError, did_you_mean

T = TypeVar("T")


class Registry(Generic[T]):
    """A name -> implementation table with entry points and errors that list the accepted names."""

    def __init__(self, kind: str, what: str, name_attr: str | None = None) -> None:
        self.kind = kind
        self.what = what
        self.name_attr = name_attr  # set on a registered class, so it knows the name it is found by
        self._table = catalogue.create("tamellm", kind, entry_points=True)

    def register(self, name: str, item: T | None = None) -> Callable[[T], T] | T:
        """Register ``item`` under ``name``; without ``item``, a decorator that does so."""

        def add(obj: T) -> T:
            if self.name_attr and isinstance(obj, type):
                setattr(obj, self.name_attr, name)
            self._table.register(name, func=obj)
            return obj

        return add(item) if item is not None else add

    def unregister(self, name: str) -> None:
        """Remove ``name`` (tests that register a toy entry clean up with this)."""
        catalogue.REGISTRY.pop(("tamellm", self.kind, name), None)

    def __getitem__(self, name: str) -> T:
        if name not in self:
            raise InputError(f"Unknown {self.what} '{name}'.{did_you_mean(name, self.names())}",
                             f"accepted: {', '.join(self.names()) or '(none registered)'}")
        return self._table.get(name)

    def get(self, name: str, default: T | None = None) -> T | None:
        """The entry called ``name``, or ``default``."""
        return self._table.get(name) if name in self else default

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._table

    def names(self) -> list[str]:
        """Every registered name, in registration order (entry points last)."""
        return list(self._table.get_all())

    def items(self) -> list[tuple[str, T]]:
        """(name, entry) pairs in registration order."""
        return list(self._table.get_all().items())

    def values(self) -> list[T]:
        """The entries in registration order."""
        return list(self._table.get_all().values())

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self.names())

    def __repr__(self) -> str:
        return f"<Registry {self.kind}: {', '.join(self.names())}>"
