#!/usr/bin/env python3
"""Extract the Vietnam–China boundary near Lạng Sơn from Natural Earth (world-atlas).

Reproduces ``compliance/data/border_vn_cn.json`` from the npm package ``world-atlas``
2.0.2 (``countries-10m.json``: Natural Earth 1:10m admin-0 countries, public domain,
as TopoJSON quantised by Mike Bostock, ISC licence)::

    npm pack world-atlas@2.0.2 && tar xzf world-atlas-2.0.2.tgz
    python3 scripts/border_from_world_atlas.py package/countries-10m.json \
        > compliance/data/border_vn_cn.json

It writes Vietnam's mainland outline inside a box around Lạng Sơn (a closed ring, for
"which side is this point on") and the boundary line Vietnam shares with China inside
the same box (for "how far is this site from the border"). Only the arcs' decoding is
done here: TopoJSON stores each arc as delta-encoded integers scaled by ``transform``.
"""

from __future__ import annotations

import json
import sys

#: lon/lat box kept around Lạng Sơn province (degrees).
BOX = (105.9, 20.9, 108.2, 22.9)


def _decode_arcs(topo: dict) -> list[list[tuple[float, float]]]:
    sx, sy = topo["transform"]["scale"]
    tx, ty = topo["transform"]["translate"]
    out = []
    for arc in topo["arcs"]:
        x = y = 0
        pts = []
        for dx, dy in arc:
            x += dx
            y += dy
            pts.append((round(x * sx + tx, 6), round(y * sy + ty, 6)))
        out.append(pts)
    return out


def _arc(arcs: list, index: int) -> list[tuple[float, float]]:
    return arcs[index] if index >= 0 else arcs[~index][::-1]


def _ring(arcs: list, indices: list[int]) -> list[tuple[float, float]]:
    ring: list[tuple[float, float]] = []
    for i in indices:
        pts = _arc(arcs, i)
        ring.extend(pts if not ring else pts[1:])
    return ring


def _inside_box(p: tuple[float, float]) -> bool:
    return BOX[0] <= p[0] <= BOX[2] and BOX[1] <= p[1] <= BOX[3]


def main(path: str) -> None:
    topo = json.load(open(path, encoding="utf-8"))
    arcs = _decode_arcs(topo)
    geoms = {g["properties"]["name"]: g for g in topo["objects"]["countries"]["geometries"]}
    vn, cn = geoms["Vietnam"], geoms["China"]
    # mainland = the polygon with the most points
    vn_rings = [_ring(arcs, poly[0]) for poly in vn["arcs"]]
    mainland = max(vn_rings, key=len)
    vn_arc_ids = {a if a >= 0 else ~a for poly in vn["arcs"] for ring in poly for a in ring}
    cn_arc_ids = {a if a >= 0 else ~a for poly in cn["arcs"] for ring in poly for a in ring}
    shared = sorted(vn_arc_ids & cn_arc_ids)
    lines = [[p for p in arcs[i]] for i in shared]
    lines = [[list(p) for p in line if _inside_box(p)] for line in lines]
    doc = {
        "provenance": {
            "source": "Natural Earth 1:10m Cultural Vectors, Admin 0 - Countries (public domain)"
                      " via the npm package world-atlas 2.0.2, countries-10m.json",
            "url": "https://www.naturalearthdata.com/downloads/10m-cultural-vectors/",
            "package": "https://www.npmjs.com/package/world-atlas (ISC)",
            "extracted_by": "scripts/border_from_world_atlas.py",
            "accuracy_note": (
                "Natural Earth 1:10m is generalised for maps at 1:10,000,000; world-atlas "
                "quantises it to 0.0036 deg of longitude (~370 m) and 0.0017 deg of "
                "latitude (~190 m). Take the line as good to about 1 km: a verdict within "
                "that distance of it must come from the official demarcation (the 1999 "
                "land border treaty and its 2009 demarcation protocols), not from this file."
            ),
            "box_lon_lat": list(BOX),
        },
        "vietnam_mainland_ring_lon_lat": [list(p) for p in mainland],
        "vn_cn_boundary_lon_lat": [line for line in lines if len(line) >= 2],
    }
    json.dump(doc, sys.stdout, ensure_ascii=False, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
