"""Example site configurations and the demo's licence and foreign-station lists.

The ``*.yaml`` files are the four sites of ``rfwatch demo`` (three border stations and
a field kit on the ``lang_son_demo`` scene); copy one as the start of a real site's
configuration. ``demo_licences.csv`` / ``demo_foreign.csv`` are ILLUSTRATIVE records
matching the scene's emitters, in the import format of ``rfwatch licences import``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["site_path"]


def site_path(name: str) -> Path:
    """Path of a shipped file (``"huu_nghi.yaml"``, ``"demo_licences.csv"``)."""
    return Path(str(resources.files("stations.sites") / name))
