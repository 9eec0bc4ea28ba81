"""``rfwatch analyze`` on bad input: one line on stderr, exit 2, no traceback.

Every case of issue 9's list ("bad input still ends in tracebacks") runs the real
console script in a subprocess on a file written here, and the line must name the
file and the field at fault.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow

RFWATCH = Path(sys.executable).with_name("rfwatch")
RNG = np.random.default_rng(9)


def _noise_cu8(n_samples: int) -> np.ndarray:
    return RNG.integers(96, 160, 2 * n_samples, dtype=np.uint8)


def _sigmf(tmp: Path, name: str, *, glob: dict | None = None, capture: dict | None = None,
           data: np.ndarray | None = None) -> Path:
    g = {"core:datatype": "cu8", "core:sample_rate": 2.4e6, "core:version": "1.0.0"}
    g.update(glob or {})
    c = {"core:sample_start": 0, "core:frequency": 100e6}
    c.update(capture or {})
    meta = tmp / f"{name}.sigmf-meta"
    meta.write_text(json.dumps({"global": g, "captures": [c], "annotations": []}))
    (_noise_cu8(20_000) if data is None else data).tofile(tmp / f"{name}.sigmf-data")
    return meta


def _cf32_with(tmp: Path, name: str, bad: complex) -> Path:
    x = (RNG.normal(size=20_000) + 1j * RNG.normal(size=20_000)).astype(np.complex64) * 0.05
    x[1234] = bad
    path = tmp / name
    x.tofile(path)
    return path


def _survey_with(tmp: Path, name: str, bad: str) -> Path:
    values = ["-28.00"] * 129
    values[17] = bad
    row = "2018-11-18, 12:31:45, 88050000, 88150000, 781.25, 12544, " + ", ".join(values)
    good = row.replace(bad, "-28.00")
    path = tmp / name
    path.write_text(f"{good}\n{row}\n")
    return path


def _deep_json(tmp: Path, depth: int) -> Path:
    meta = tmp / f"deep{depth}.sigmf-meta"
    inner = "[" * depth + "]" * depth
    meta.write_text('{"global": {"core:datatype": "cu8", "core:sample_rate": 2400000, '
                    f'"core:version": "1.0.0", "x": {inner}}}, '
                    '"captures": [{"core:sample_start": 0, "core:frequency": 1e8}], '
                    '"annotations": []}')
    _noise_cu8(1000).tofile(tmp / f"deep{depth}.sigmf-data")
    return meta


def _case(tmp: Path, case: str) -> tuple[Path, list[str], tuple[str, ...]]:
    """(file, extra CLI arguments, words the error line must hold) of one case."""
    if case == "short_raw":
        path = tmp / "short.cu8"
        _noise_cu8(50).tofile(path)
        return path, ["--rate", "2.4M", "--freq", "100M"], ("samples", "64")
    if case == "short_sigmf":
        return _sigmf(tmp, "short", data=_noise_cu8(63)), [], ("samples", "64")
    if case == "nan_samples":
        return (_cf32_with(tmp, "nan.cf32", complex(np.nan, 0)),
                ["--rate", "2.4M", "--freq", "100M"], ("samples", "1234", "NaN"))
    if case == "inf_samples":
        return (_cf32_with(tmp, "inf.cf32", complex(0, np.inf)),
                ["--rate", "2.4M", "--freq", "100M"], ("samples", "1234"))
    if case == "nan_sigmf_cf32":
        x = np.zeros(2000, np.float32)
        x[2 * 700 + 1] = np.nan
        return (_sigmf(tmp, "nanf", glob={"core:datatype": "cf32_le"}, data=x), [],
                ("samples", "700"))
    if case == "nan_db":
        return _survey_with(tmp, "nan.csv", "nan"), [], ("line 2", "dB", "#18")
    if case == "inf_db":
        return _survey_with(tmp, "inf.csv", "-inf"), [], ("line 2", "dB", "#18")
    if case == "tiny_rate_raw":
        path = tmp / "tiny.cu8"
        _noise_cu8(10_000).tofile(path)
        return path, ["--rate", "1e-300", "--freq", "100M"], ("rate", "1e-300")
    if case == "tiny_rate_sigmf":
        return (_sigmf(tmp, "tiny", glob={"core:sample_rate": 1e-300}), [],
                ("core:sample_rate", "1e-300"))
    if case == "huge_rate_sigmf":
        return (_sigmf(tmp, "huge", glob={"core:sample_rate": 1e300}), [],
                ("core:sample_rate",))
    if case == "freq_zero":
        return _sigmf(tmp, "f0", capture={"core:frequency": 0}), [], ("core:frequency",)
    if case == "freq_negative":
        return (_sigmf(tmp, "fneg", capture={"core:frequency": -100e6}), [],
                ("core:frequency", "-100000000"))
    if case == "span_below_zero":
        return (_sigmf(tmp, "flow", capture={"core:frequency": 1e6}), [],
                ("core:frequency", "below 0 Hz"))
    if case == "freq_zero_raw":
        path = tmp / "f0.cu8"
        _noise_cu8(10_000).tofile(path)
        return path, ["--rate", "2.4M", "--freq", "0"], ("freq",)
    if case == "sample_start_past":
        return (_sigmf(tmp, "past", capture={"core:sample_start": 10**9}), [],
                ("core:sample_start", "20000 samples"))
    if case == "deep_json":
        return _deep_json(tmp, 100_000), [], ("nested",)
    if case == "deep_json_moderate":  # under Python's limit but deeper than SigMF needs
        return _deep_json(tmp, 500), [], ("nested",)
    raise AssertionError(case)


CASES = ["short_raw", "short_sigmf", "nan_samples", "inf_samples", "nan_sigmf_cf32",
         "nan_db", "inf_db",
         "tiny_rate_raw", "tiny_rate_sigmf", "huge_rate_sigmf", "freq_zero", "freq_negative",
         "span_below_zero", "freq_zero_raw", "sample_start_past", "deep_json",
         "deep_json_moderate"]


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, case: str) -> None:
    path, args, words = _case(tmp_path, case)
    proc = subprocess.run([str(RFWATCH), "analyze", str(path), "--json", *args],
                          capture_output=True, text=True, timeout=120, check=False)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("Lỗi / Error: ")
    assert path.name in lines[0]
    for word in words:
        assert word in lines[0], (word, lines[0])


def test_markup_in_a_file_name_is_printed_as_is(tmp_path: Path) -> None:
    path = tmp_path / "[bold]x[/].cu8"
    proc = subprocess.run([str(RFWATCH), "analyze", str(path)], capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 2
    assert path.name in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
