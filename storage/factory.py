"""Choosing and checking the stores by configuration.

:func:`open_timeseries` is the one place a time-series backend is picked; the
composition root (``rfwatch``) passes the values of its settings, since
``storage`` never imports ``rfwatch``. :func:`check_influx` and
:func:`check_database` give ``rfwatch doctor`` one bilingual line each.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from dsp.errors import StorageError
from storage.timeseries import TimeSeriesStore

__all__ = ["check_database", "check_influx", "open_timeseries"]


def open_timeseries(
    backend: Literal["embedded", "influx"],
    *,
    path: str | Path | None = None,
    influx_url: str | None = None,
    database: str = "rfwatch",
    retention_policy: str | None = None,
    username: str | None = None,
    password: str | None = None,
    token: str | None = None,
    batch_size: int = 5000,
    gzip: bool = True,
    create_database: bool = True,
    timeout_s: float = 10.0,
) -> TimeSeriesStore:
    """Open the time-series store of ``backend``.

    Parameters
    ----------
    backend:
        ``"embedded"`` (SQLite file at ``path``) or ``"influx"`` (InfluxDB at
        ``influx_url``, see :mod:`storage.influx` for 2.x/3.x).
    path:
        The embedded store's file (e.g. ``<home>/timeseries.sqlite``).
    influx_url, database, retention_policy, username, password, token, batch_size,
    gzip, create_database, timeout_s:
        Passed to :class:`storage.influx.InfluxTimeSeries`.

    Raises
    ------
    StorageError
        For an unknown backend or a missing path/URL.
    """
    if backend == "embedded":
        if path is None:
            raise StorageError("Thiếu đường dẫn kho nhúng / the embedded store needs a path")
        from storage.embedded import EmbeddedTimeSeries

        return EmbeddedTimeSeries(path)
    if backend == "influx":
        if not influx_url:
            raise StorageError("Thiếu URL InfluxDB / the influx backend needs a URL")
        from storage.influx import InfluxTimeSeries

        return InfluxTimeSeries(
            influx_url,
            database=database,
            retention_policy=retention_policy,
            username=username,
            password=password,
            token=token,
            batch_size=batch_size,
            gzip=gzip,
            create_database=create_database,
            timeout_s=timeout_s,
        )
    raise StorageError(
        f"Kho chuỗi thời gian không rõ / unknown time-series backend {backend!r} "
        "(embedded | influx)"
    )


def check_influx(
    url: str,
    *,
    database: str = "rfwatch",
    username: str | None = None,
    password: str | None = None,
    token: str | None = None,
    timeout_s: float = 3.0,
) -> tuple[bool, str]:
    """Is InfluxDB reachable at ``url``, and does ``database`` exist?

    Returns ``(ok, one bilingual line)``; never raises for a server that is down.
    """
    from storage.influx import InfluxTimeSeries

    store = InfluxTimeSeries(
        url,
        database=database,
        username=username,
        password=password,
        token=token,
        timeout_s=timeout_s,
        max_retries=0,
    )
    try:
        try:
            version = store.ping()
        except StorageError:
            return False, (
                f"InfluxDB không phản hồi tại {url} — hãy chạy influxd hoặc đặt "
                f"RFWATCH_INFLUX__URL / InfluxDB not reachable at {url}: start influxd "
                "or set RFWATCH_INFLUX__URL"
            )
        try:
            names = store.database_names()
        except StorageError as err:
            return False, (
                f"InfluxDB {version} tại {url} từ chối truy vấn — kiểm tra tài khoản/token / "
                f"InfluxDB {version} at {url} refused a query, check credentials: {err}"
            )
        if database not in names:
            return True, (
                f"InfluxDB {version} tại {url}: chưa có CSDL '{database}', sẽ tạo khi ghi lần "
                f"đầu / InfluxDB {version} at {url}: database '{database}' will be created "
                "on first write"
            )
        return True, (
            f"InfluxDB {version} tại {url}: sẵn sàng, CSDL '{database}' / "
            f"InfluxDB {version} at {url}: ready, database '{database}'"
        )
    finally:
        store.close()


def check_database(url: str) -> tuple[bool, str]:
    """Is the relational DB at ``url`` reachable and migrated to the newest revision?

    Returns ``(ok, one bilingual line)``; a missing SQLite file is reported, not created.
    """
    from sqlalchemy.engine import make_url

    from storage.migrations import current_revision, head_revision

    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - any unparsable URL is one message
        return False, f"URL CSDL không hợp lệ / invalid database URL: {url!r}"
    shown = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        if not Path(parsed.database).is_file():
            return False, (
                f"Chưa có CSDL {shown} — chạy `rfwatch db upgrade` / no database at {shown}: "
                "run `rfwatch db upgrade`"
            )
    try:
        current = current_revision(url)
    except StorageError as err:
        cause = str(err.__cause__ or err).strip().splitlines()
        return False, (
            f"Không kết nối được CSDL {shown} / cannot connect to the database {shown}: "
            f"{cause[0] if cause else type(err).__name__}"
        )
    head = head_revision()
    if current == head:
        return True, (
            f"CSDL {shown}: phiên bản {current} (mới nhất) / database at {current} (latest)"
        )
    return False, (
        f"CSDL {shown} ở phiên bản {current or 'trống'}, mới nhất là {head} — chạy "
        f"`rfwatch db upgrade` / database at {current or 'empty'}, latest is {head}: "
        "run `rfwatch db upgrade`"
    )
