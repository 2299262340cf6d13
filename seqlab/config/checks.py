"""Value checks shared by the config schemas: each raises ConfigError with the fix."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import TypeVar

from seqlab.errors import ConfigError

T = TypeVar("T")


class ConfigErrors:
    """The problems of several independent checks, reported together: a config with a bad
    model key and a bad training key names both in one message, not one per attempt."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def check(self, build: Callable[[], T]) -> T | None:
        """``build()``, or None with its ConfigError recorded."""
        try:
            return build()
        except ConfigError as error:
            self.messages.append(str(error))
            return None

    def raise_if_any(self) -> None:
        if len(self.messages) == 1:
            raise ConfigError(self.messages[0])
        if self.messages:
            listed = "".join(f"\n  - {message}" for message in self.messages)
            raise ConfigError(f"{len(self.messages)} problems in the config:{listed}")


def require_positive(group: str, **values: float | int | None) -> None:
    """Each value must be > 0."""
    for name, value in values.items():
        if value is None or value <= 0:
            raise ConfigError(f"{group}.{name} must be > 0, got {value} (set {group}.{name}=...)")


def require_at_least(group: str, minimum: int, **values: int) -> None:
    """Each value must be >= minimum."""
    for name, value in values.items():
        if value < minimum:
            raise ConfigError(f"{group}.{name} must be >= {minimum}, got {value}")


def require_at_least_or_null(group: str, minimum: int, **values: int | None) -> None:
    """Each value must be >= minimum, or None (the option left unset)."""
    for name, value in values.items():
        if value is not None and value < minimum:
            raise ConfigError(f"{group}.{name} must be >= {minimum} or null, got {value}")


def require_choice(key: str, value: str, choices: Iterable[str], example: str = "") -> None:
    """``value`` must be one of ``choices``."""
    choices = tuple(choices)
    if value not in choices:
        hint = f" (e.g. {key}={example})" if example else ""
        raise ConfigError(f"{key}={value!r} is unknown; choose one of {', '.join(choices)}{hint}")


def require_finite(key: str, value: float) -> None:
    if not math.isfinite(value):
        raise ConfigError(f"{key} must be finite, got {value}")
