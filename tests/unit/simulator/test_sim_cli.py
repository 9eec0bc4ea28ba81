"""`rfwatch simulate`: a SigMF recording that sigmf validates, with its truth beside it."""

from __future__ import annotations

import json

import numpy as np
import pytest
import sigmf
import typer
from typer.testing import CliRunner

from dsp.errors import RfwatchError
from firmware_bridge.simulator import scene_path
from rfwatch.commands import simulate


def _app() -> typer.Typer:
    app = typer.Typer()
    simulate.register(app)

    @app.callback()
    def _root() -> None:  # keeps "simulate" a sub-command
        pass

    return app


def test_simulate_writes_valid_sigmf_and_truth(tmp_path):
    out = tmp_path / "cap.sigmf-meta"
    result = CliRunner().invoke(
        _app(),
        ["simulate", str(scene_path("basic")), "--out", str(out), "--seconds", "0.25",
         "--freq", "100.1e6", "--rate", "2.048e6", "--seed", "4"],
    )
    assert result.exit_code == 0, result.output
    handle = sigmf.sigmffile.fromfile(str(out))
    handle.validate()
    assert handle.get_global_field("core:datatype") == "cu8"
    assert handle.get_global_field("core:sample_rate") == 2.048e6
    assert handle.get_captures()[0]["core:frequency"] == 100.1e6
    raw = np.fromfile(tmp_path / "cap.sigmf-data", dtype=np.uint8)
    assert raw.size == 2 * round(0.25 * 2.048e6)
    truth = json.loads((tmp_path / "cap.truth.json").read_text(encoding="utf-8"))
    assert truth["sample_rate_hz"] == 2.048e6
    ids = {e["emitter_id"]: e for e in truth["emitters"]}
    assert ids["nbfm-100-3"]["in_band"] is True
    assert ids["tv-ch30"]["in_band"] is False and ids["tv-ch30"]["power_dbfs"] is None
    assert truth["noise"]["total_dbfs_hz"] < -100
    assert ids["nbfm-100-3"]["on_intervals_ns"] == [
        [truth["t_start_ns"], truth["t_start_ns"] + 250_000_000]]


def test_simulate_bad_output_name_is_a_one_line_error(tmp_path):
    result = CliRunner().invoke(
        _app(), ["simulate", "basic", "--out", str(tmp_path / "x.wav"), "--seconds", "0.01"]
    )
    assert result.exit_code != 0
    assert isinstance(result.exception, RfwatchError)
    assert "sigmf-meta" in str(result.exception)


def test_simulate_unknown_receiver(tmp_path):
    result = CliRunner().invoke(
        _app(),
        ["simulate", "basic", "--out", str(tmp_path / "x.sigmf-meta"), "--receiver", "zz"],
    )
    assert isinstance(result.exception, RfwatchError)
    with pytest.raises(RfwatchError, match="no receiver 'zz'"):
        raise result.exception
