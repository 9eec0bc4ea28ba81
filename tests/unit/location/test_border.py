"""The boundary data, the side of a point, the verdict and the demo's sites."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

from compliance.boundary import DEFAULT_BORDER_FILE, load_boundary
from dsp.border import Boundary, border_verdict
from dsp.errors import InputFormatError, ParameterError
from dsp.geolocation import LevelObservation, locate
from dsp.types import GeoPosition
from firmware_bridge.simulator import scene_path


def test_shipped_line_has_provenance_and_accuracy():
    doc = json.loads(DEFAULT_BORDER_FILE.read_text(encoding="utf-8"))
    prov = doc["provenance"]
    assert "Natural Earth" in prov["source"] and "public domain" in prov["source"]
    assert "km" in prov["accuracy_note"]


@pytest.mark.parametrize(("lat", "lon", "vietnam"), [
    (21.853, 106.761, True),   # Lạng Sơn city
    (22.110, 106.740, False),  # Pingxiang (Bằng Tường), Guangxi
    (21.830, 107.020, False),  # the first demo's "Chi Ma" point: ~2.7 km inside China
    (21.540, 107.100, True),   # Đình Lập town
])
def test_side_of_known_places(lat, lon, vietnam):
    b = load_boundary()
    assert bool(b.inside(np.array([lat]), np.array([lon]))[0]) is vietnam


def test_every_demo_site_and_emitter_is_where_its_label_says():
    b = load_boundary()
    scene = yaml.safe_load(scene_path("lang_son_demo").read_text(encoding="utf-8"))
    for item in scene["receivers"] + scene["emitters"]:
        p = item["position"]
        inside = bool(b.inside(np.array([p["lat"]]), np.array([p["lon"]]))[0])
        foreign = item["id"].startswith("cn-")
        assert inside is not foreign, item["id"]
        # a site of ours further than the line's ~1 km accuracy from it
        if item in scene["receivers"]:
            assert b.distance_m(p["lat"], p["lon"]) > 1200.0, item["id"]


def test_verdict_thresholds_and_no_estimate():
    b = Boundary(np.array([[106.0, 21.0], [107.0, 21.0], [107.0, 22.0], [106.0, 22.0]]), ())
    far_inside = [LevelObservation(GeoPosition(21.5 + 0.05 * np.cos(a), 106.5 + 0.05 * np.sin(a)),
                                   -60.0 - 10 * (k % 2), True)
                  for k, a in enumerate(np.linspace(0, 6, 6))]
    est = locate(far_inside)
    v = border_verdict(est, b)
    assert v.verdict == "vietnam" and v.p_vietnam > 0.95
    v = border_verdict(locate(far_inside[:2]), b)
    assert v.verdict == "undetermined" and np.isnan(v.p_vietnam) and "two places" in v.note
    with pytest.raises(ParameterError):
        border_verdict(est, b, p_vietnam_min=0.4, p_foreign_max=0.5)


def test_bad_boundary_file_names_the_file(tmp_path):
    bad = tmp_path / "line.json"
    bad.write_text('{"vietnam_mainland_ring_lon_lat": [[1, 2]], "vn_cn_boundary_lon_lat": []}')
    with pytest.raises(InputFormatError, match="line.json"):
        load_boundary(bad)
