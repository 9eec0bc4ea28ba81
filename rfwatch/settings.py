"""Settings: ``RFWATCH_*`` environment variables over an optional ``rfwatch.toml``.

Built once in the composition root (the CLI) and passed down; nothing reads the
environment at import time. Nested values use ``__`` in the environment, e.g.
``RFWATCH_INFLUX__URL=http://127.0.0.1:8086``.

Order (first wins): explicit arguments, environment, ``rfwatch.toml`` (path from
``RFWATCH_CONFIG`` or ``./rfwatch.toml``), defaults.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

__all__ = ["InfluxSettings", "Settings", "load_settings"]


class InfluxSettings(BaseModel):
    """InfluxDB reached over its v1 HTTP API (``/write`` and ``/query``).

    For InfluxDB 2.x/3.x use the v1-compatibility endpoints: ``database`` (and
    ``retention_policy``) map to a bucket through a DBRP mapping, and the API token
    goes in ``password`` (any ``username``) or ``token``.
    """

    url: str = "http://127.0.0.1:8086"
    database: str = "rfwatch"
    retention_policy: str | None = None
    username: str | None = None
    password: SecretStr | None = None
    token: SecretStr | None = None
    timeout_s: float = 10.0
    batch_size: int = 5000
    gzip: bool = True


class LocationSettingsModel(BaseModel):
    """Where an emitter is and which side of the border (``[location]`` in rfwatch.toml).

    ``terrain``: the path-loss prior (``open``, ``rural``, ``hilly``, ``urban``; see
    ``dsp.geolocation.TERRAIN_PRIORS``); ``p_vietnam_min``/``p_foreign_max``: the
    verdict thresholds on P(emitter in Vietnam); ``window_s``: how far back a case's
    levels count; ``border_file``: a boundary file replacing the shipped one.
    """

    terrain: Literal["open", "rural", "hilly", "urban"] = "rural"
    p_vietnam_min: float = Field(default=0.975, gt=0.5, le=1.0)
    p_foreign_max: float = Field(default=0.025, ge=0.0, lt=0.5)
    window_s: float = Field(default=3600.0, gt=0)
    border_file: Path | None = None


class Settings(BaseSettings):
    """All of rfwatch's configuration."""

    model_config = SettingsConfigDict(
        env_prefix="RFWATCH_",
        env_nested_delimiter="__",
        extra="ignore",
    )

    home: Path = Field(default=Path("./var"), description="folder of the embedded stores")
    timeseries_backend: Literal["embedded", "influx"] = "embedded"
    influx: InfluxSettings = Field(default_factory=InfluxSettings)
    db_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default sqlite:///<home>/rfwatch.db"
    )
    location: LocationSettingsModel = Field(default_factory=LocationSettingsModel)
    timezone: str = Field(
        default="Asia/Ho_Chi_Minh",
        description="IANA time zone of local times without a zone (rtl_power CSV writes "
        "the station's local time); RFWATCH_TIMEZONE",
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as err:
            raise ValueError(f"unknown time zone {value!r} (an IANA name such as "
                             "Asia/Ho_Chi_Minh or UTC)") from err
        return value

    @property
    def database_url(self) -> str:
        """The relational DB URL, defaulting to a SQLite file in the home folder."""
        if self.db_url:
            return self.db_url
        return f"sqlite:///{(self.home / 'rfwatch.db').resolve()}"

    @property
    def embedded_timeseries_path(self) -> Path:
        return self.home / "timeseries.sqlite"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_path = Path(os.environ.get("RFWATCH_CONFIG", "rfwatch.toml"))
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_path.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_path))
        return tuple(sources)


def load_settings(**overrides: object) -> Settings:
    """Build the settings once (composition root); ``overrides`` win over everything.

    Raises
    ------
    dsp.errors.ConfigError
        Naming the setting (``RFWATCH_<NAME>``) whose value is not valid.
    """
    from pydantic import ValidationError

    from dsp.errors import ConfigError

    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as err:
        first = err.errors()[0]
        name = "__".join(str(p) for p in first["loc"]).upper()
        raise ConfigError(f"cấu hình không hợp lệ / invalid setting RFWATCH_{name}: "
                          f"{first['msg'].removeprefix('Value error, ')}") from err
