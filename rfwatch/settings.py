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

__all__ = ["CentreSettings", "InfluxSettings", "LogSettings", "Settings", "load_settings"]


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
# -- the centre and logging (issue 14) ------------------------------------------------


class CentreSettings(BaseModel):
    """The centre (``rfwatch central run``): limits, workers, tokens.

    ``workers`` > 1 needs PostgreSQL (and InfluxDB): the embedded stores are for one
    process. ``token_ttl_days``: tokens issued from now on expire after so many days
    (None: never).
    """

    host: str = "127.0.0.1"
    port: int = Field(default=8600, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    body_limit_bytes: int = Field(default=8 << 20, ge=64 << 10, le=1 << 30)
    token_ttl_days: float | None = Field(default=None, gt=0)
    registry_ttl_s: float = Field(default=30.0, ge=0)
    evidence_window_s: float = Field(default=3600.0, ge=0)


class LogSettings(BaseModel):
    """Logging, configured once by the CLI: ``format="json"`` writes JSON lines (services)."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "WARNING"
    format: Literal["text", "json"] = "text"


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

    centre: CentreSettings = Field(default_factory=CentreSettings)
    log: LogSettings = Field(default_factory=LogSettings)

    def timeseries_options(self) -> dict:
        """Keyword arguments of :func:`storage.open_timeseries` for these settings."""
        if self.timeseries_backend == "influx":
            inf = self.influx
            return {
                "backend": "influx",
                "influx_url": inf.url,
                "database": inf.database,
                "retention_policy": inf.retention_policy,
                "username": inf.username,
                "password": inf.password.get_secret_value() if inf.password else None,
                "token": inf.token.get_secret_value() if inf.token else None,
                "batch_size": inf.batch_size,
                "gzip": inf.gzip,
                "timeout_s": inf.timeout_s,
            }
        return {"backend": "embedded", "path": self.embedded_timeseries_path}

    def central_config(self):  # noqa: ANN201 - centre.config.CentralConfig
        """The centre's configuration (stores, limits) from these settings."""
        from centre.config import CentralConfig

        return CentralConfig(
            home=self.home,
            database_url=self.database_url,
            timeseries=self.timeseries_options(),
            body_limit_bytes=self.centre.body_limit_bytes,
            registry_ttl_s=self.centre.registry_ttl_s,
            evidence_window_s=self.centre.evidence_window_s,
        )

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
