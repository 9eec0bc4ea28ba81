"""Location on the simulated scene set: error, 95 % region coverage, border verdicts.

    .venv/bin/python bench/location.py [--n 200]

For three configurations (the three border sites only; with a field-kit drive; with
a drive and a rotator site) it prints the median location error, how often the truth
fell inside the 95 % region (goal 90-98 %) and inside the 95 % ellipse, how many
cases got no estimate (and why), and the share of decisive verdicts (``vietnam`` /
``foreign``) that were right (goal >= 95 %), with the share left ``undetermined``.
"""

from __future__ import annotations

import os
import sys

# bench/ is on sys.path when this file runs as a script, and bench/dsp.py would shadow
# the dsp package. Drop it.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]

import argparse  # noqa: E402
import collections  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from compliance.boundary import load_boundary  # noqa: E402
from dsp.border import border_verdict  # noqa: E402
from dsp.geo import distance_m  # noqa: E402
from dsp.geolocation import locate  # noqa: E402
from firmware_bridge.simulator.location_study import location_cases  # noqa: E402


def score(cases, boundary) -> dict:  # noqa: ANN001
    errs, in_region, in_ellipse, right, decisive, undetermined = [], 0, 0, 0, 0, 0
    reasons: collections.Counter[str] = collections.Counter()
    n_est = 0
    for c in cases:
        est = locate(c.levels, c.bearings)
        v = border_verdict(est, boundary)
        if v.verdict == "undetermined":
            undetermined += 1
        else:
            decisive += 1
            right += (v.verdict == "vietnam") == c.in_vietnam
        if est.position is None:
            reasons[est.reason or "?"] += 1
            continue
        n_est += 1
        errs.append(distance_m(est.position, c.truth))
        in_region += est.contains(c.truth)
        in_ellipse += est.ellipse_contains(c.truth)
    return {
        "n": len(cases), "estimates": n_est,
        "median_error_m": float(np.median(errs)) if errs else float("nan"),
        "region_coverage": in_region / n_est if n_est else float("nan"),
        "ellipse_coverage": in_ellipse / n_est if n_est else float("nan"),
        "decisive": decisive, "decisive_right": right / decisive if decisive else float("nan"),
        "undetermined": undetermined, "no_estimate": dict(reasons),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200)
    args = ap.parse_args()
    boundary = load_boundary()
    for name, kw in (("3 border sites", {}), ("+ field-kit drive", {"drive": True}),
                     ("+ drive + rotator", {"drive": True, "rotator": True}),
                     ("3 sites + rotator", {"rotator": True})):
        t = time.perf_counter()
        r = score(location_cases(args.n, boundary, seed=11, **kw), boundary)
        dt = time.perf_counter() - t
        print(f"{name:20s} n={r['n']} estimates={r['estimates']} "
              f"median error={r['median_error_m']:.0f} m "
              f"region coverage={r['region_coverage']:.3f} "
              f"ellipse coverage={r['ellipse_coverage']:.3f} "
              f"decisive={r['decisive']} right={r['decisive_right']:.3f} "
              f"undetermined={r['undetermined']} no estimate={r['no_estimate']} "
              f"({dt / r['n'] * 1e3:.0f} ms/case)")


if __name__ == "__main__":
    main()
