"""The Vietnam–China boundary near Lạng Sơn, loaded from the shipped data file.

``compliance/data/border_vn_cn.json`` is Natural Earth's 1:10m admin-0 outline of
Vietnam and the boundary line it shares with China inside a box around Lạng Sơn
(public domain; extracted by ``scripts/border_from_world_atlas.py``; its
``provenance`` says where from and how accurate: about 1 km). An operator may replace
it with a more accurate line of the same shape (``RFWATCH_BORDER_FILE`` or the
``path`` argument).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from dsp.border import Boundary
from dsp.errors import InputFormatError

__all__ = ["DEFAULT_BORDER_FILE", "load_boundary"]

DEFAULT_BORDER_FILE = Path(__file__).with_name("data") / "border_vn_cn.json"


@lru_cache(maxsize=4)
def load_boundary(path: Path | None = None) -> Boundary:
    """Read a boundary file (see the module notes); errors name the file and key."""
    path = Path(path) if path is not None else DEFAULT_BORDER_FILE
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise InputFormatError(f"cannot read the boundary: {err}", source=str(path)) from err
    try:
        ring = np.asarray(doc["vietnam_mainland_ring_lon_lat"], dtype=np.float64)
        lines = tuple(np.asarray(line, dtype=np.float64) for line in doc["vn_cn_boundary_lon_lat"])
    except (KeyError, TypeError, ValueError) as err:
        raise InputFormatError(f"missing or malformed key: {err}", source=str(path)) from err
    if ring.ndim != 2 or ring.shape[1] != 2 or ring.shape[0] < 4:
        raise InputFormatError("needs a ring of at least 4 [lon, lat] points",
                               source=str(path), field="vietnam_mainland_ring_lon_lat")
    if not (np.isfinite(ring).all() and (np.abs(ring[:, 1]) <= 90).all()
            and (np.abs(ring[:, 0]) <= 180).all()):
        raise InputFormatError("coordinates out of range", source=str(path),
                               field="vietnam_mainland_ring_lon_lat")
    return Boundary(ring, lines)
