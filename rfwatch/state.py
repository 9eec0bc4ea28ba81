"""Process-wide state of the CLI: the settings, built once in the root callback."""

from __future__ import annotations

from rfwatch.settings import Settings, load_settings

_settings: Settings | None = None


def set_settings(settings: Settings) -> None:
    global _settings
    _settings = settings


def get_settings() -> Settings:
    """The settings of this process (built on first use if the root callback did not)."""
    global _settings
    if _settings is None:
        _settings = load_settings()
    return _settings
