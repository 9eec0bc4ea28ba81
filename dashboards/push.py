"""Push the dashboards to a running Grafana through its HTTP API (grafana-client).

What it does, in Grafana HTTP API terms: ``GET /api/health`` (is this a Grafana,
which version), ``GET /api/folders`` and, when the
``rfwatch`` folder is missing, ``POST /api/folders``; then ``POST /api/dashboards/db``
per dashboard with ``overwrite: true`` into that folder, so pushing again updates
them in place (same uids). Authentication: a service-account token (Bearer).
grafana-client is held below 4.0: from 4.0 it uses niquests, whose urllib3-future
replaces the urllib3 package that requests-based tools installed beside it need.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlparse

from dsp.errors import ConfigError

__all__ = ["FOLDER_TITLE", "FOLDER_UID", "PushResult", "push_dashboards"]

FOLDER_UID = "rfwatch"
FOLDER_TITLE = "rfwatch"


@dataclass(frozen=True, slots=True)
class PushResult:
    grafana_version: str
    folder_created: bool
    dashboards: tuple[tuple[str, str, int], ...]  # (uid, url, version)


def _grafana(url: str, token: str | None, timeout_s: float):  # noqa: ANN202
    from grafana_client import GrafanaApi

    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ConfigError(f"--grafana phải là URL http(s) / --grafana must be an http(s) URL: "
                          f"{url!r}")
    if parsed.path not in ("", "/") and not url.endswith("/"):
        url += "/"  # a Grafana under a sub-path: grafana-client appends "api"
    return GrafanaApi.from_url(url, credential=token or None, timeout=timeout_s)


def push_dashboards(
    url: str, token: str | None, dashboards: Mapping[str, dict], *, timeout_s: float = 10.0,
) -> PushResult:
    """Create or update every dashboard in the ``rfwatch`` folder of the Grafana at ``url``.

    Raises
    ------
    ConfigError
        When Grafana cannot be reached, refuses the token, or refuses a dashboard
        (one line naming the cause).
    """
    import requests
    from grafana_client.client import GrafanaException, GrafanaUnauthorizedError

    api = _grafana(url, token, timeout_s)
    try:
        info = api.health.check() or {}
        folders = api.folder.get_all_folders()
        created = False
        if not any(f.get("uid") == FOLDER_UID for f in folders):
            api.folder.create_folder(FOLDER_TITLE, uid=FOLDER_UID)
            created = True
        pushed = []
        for dash in dashboards.values():
            body = {"dashboard": {**dash, "id": None}, "folderUid": FOLDER_UID,
                    "overwrite": True, "message": "rfwatch dashboards push"}
            answer = api.dashboard.update_dashboard(body)
            pushed.append((str(answer.get("uid", dash["uid"])), str(answer.get("url", "")),
                           int(answer.get("version", 0))))
    except GrafanaUnauthorizedError as err:
        raise ConfigError(f"Grafana từ chối token / Grafana refused the token (401) at {url}"
                          ) from err
    except GrafanaException as err:
        raise ConfigError(f"Grafana báo lỗi / Grafana answered an error at {url}: {err}"
                          ) from err
    except (requests.exceptions.RequestException, OSError) as err:
        raise ConfigError(f"không kết nối được Grafana / cannot reach Grafana at {url}: "
                          f"{type(err).__name__}") from err
    return PushResult(str(info.get("version", "")), created, tuple(pushed))
