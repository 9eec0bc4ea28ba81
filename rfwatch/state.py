"""Process-wide state of the CLI: the settings, built on first use.

The root callback only records its overrides (``--home``); the settings (pydantic)
are built when a command first asks for them, so commands that need none
(``rfwatch version``, ``--help``) start without importing pydantic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rfwatch.settings import Settings

_settings: Settings | None = None
_overrides: dict[str, Any] = {}


def set_settings(settings: Settings) -> None:
    global _settings
    _settings = settings


def set_overrides(**overrides: Any) -> None:
    """Forget the settings built so far; the next :func:`get_settings` uses these."""
    global _settings, _overrides
    _settings = None
    _overrides = dict(overrides)


def get_settings() -> Settings:
    """The settings of this process (built on first use from the recorded overrides)."""
    global _settings
    if _settings is None:
        from rfwatch.settings import load_settings

        _settings = load_settings(**_overrides)
    return _settings
