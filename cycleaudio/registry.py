"""Name -> component registries, so a recipe picks networks and tasks by name.

A recipe says ``generator: {name: cyclegan_vc2, args: {channels: 128}}``; the registry turns that into a
constructed module and checks ``args`` against the constructor's signature, so a typo is a one-line
error listing the accepted arguments instead of a ``TypeError`` deep inside PyTorch.
"""

from __future__ import annotations

import inspect
from typing import Any, Callable, Generic, TypeVar

from .errors import RecipeError

T = TypeVar("T")


class Registry(Generic[T]):
    """A named collection of factories of one kind (generators, discriminators, tasks...)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._factories: dict[str, Callable[..., T]] = {}

    def register(self, name: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
        """Decorator adding a class or function under ``name``."""

        def add(factory: Callable[..., T]) -> Callable[..., T]:
            if name in self._factories:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._factories[name] = factory
            return factory

        return add

    def names(self) -> list[str]:
        return sorted(self._factories)

    def get(self, name: str) -> Callable[..., T]:
        if name not in self._factories:
            raise RecipeError(f"unknown {self.kind} {name!r}; choose one of: {', '.join(self.names())}")
        return self._factories[name]

    def accepted_args(self, name: str) -> list[str]:
        params = inspect.signature(self.get(name)).parameters.values()
        return [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]

    def build(self, name: str, args: dict[str, Any] | None = None, **fixed: Any) -> T:
        """Construct ``name`` with recipe ``args`` plus ``fixed`` arguments supplied by the caller."""
        args = dict(args or {})
        accepted = self.accepted_args(name)
        unknown = sorted(set(args) - set(accepted))
        if unknown:
            raise RecipeError(
                f"{self.kind} {name!r} has no argument {', '.join(map(repr, unknown))}; "
                f"accepted: {', '.join(accepted)}"
            )
        for key, value in fixed.items():
            if key in accepted:
                args.setdefault(key, value)
        try:
            return self.get(name)(**args)
        except (TypeError, ValueError) as exc:
            raise RecipeError(f"{self.kind} {name!r}: {exc}") from exc


GENERATORS: Registry[Any] = Registry("generator")
DISCRIMINATORS: Registry[Any] = Registry("discriminator")
CLASSIFIERS: Registry[Any] = Registry("classifier")
