"""Accuracy report: every accuracy test adds rows; the table is printed at the end.

Run ``pytest tests/accuracy -s`` or look at the terminal summary: the table
"rfwatch detection accuracy" lists, per scene and emitter, the true SNR (in the
emission's own bandwidth), whether it was found, and the frequency, power and
bandwidth errors; a line per scene gives the probability of detection and the
false alarms per sweep.
"""

from __future__ import annotations

import pytest

_ROWS: list[dict] = []
_SUMMARY: list[str] = []


@pytest.fixture(scope="session")
def accuracy_report() -> tuple[list[dict], list[str]]:
    """(rows, summary lines) shared by the accuracy tests."""
    return _ROWS, _SUMMARY


def _fmt(value: object, spec: str) -> str:
    if value is None:
        return "-"
    return format(value, spec)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _ROWS and not _SUMMARY:
        return
    tr = terminalreporter
    tr.section("rfwatch detection accuracy")
    tr.write_line(
        f"{'scene':<10} {'emitter':<10} {'mod':<6} {'SNR dB':>7} {'found':>5} "
        f"{'df Hz':>8} {'dP dB':>6} {'BW99 true':>10} {'BW99 meas':>10} {'dBW %':>6}"
    )
    for r in _ROWS:
        tr.write_line(
            f"{r['scene']:<10} {r['emitter']:<10} {r['mod']:<6} {r['snr_db']:>7.1f} "
            f"{'yes' if r['found'] else 'no':>5} {_fmt(r['df_hz'], '8.0f'):>8} "
            f"{_fmt(r['dp_db'], '6.2f'):>6} {r['bw_true_hz']:>10.0f} "
            f"{_fmt(r['bw_meas_hz'], '10.0f'):>10} {_fmt(r['dbw_pct'], '6.1f'):>6}"
        )
    for line in _SUMMARY:
        tr.write_line(line)
