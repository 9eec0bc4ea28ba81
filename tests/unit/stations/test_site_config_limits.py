"""A site-file value the station cannot honour is refused, naming the field."""

from __future__ import annotations

import pytest

from dsp.errors import InputFormatError
from stations.config import parse_site_config, rbw_range_hz
from stations.tasks import fft_size_for_rbw

SITE = """
station: {id: ls-r, name: r, kind: fixed, position: {lat_deg: 21.9, lon_deg: 106.7}}
receivers: [{id: rx0, spec: "simulator:lang_son_demo", sample_rate_hz: 2.4e6}]
tasks:
  - {type: sweep, name: fm, f_start_hz: 87.5 MHz, f_stop_hz: 108 MHz, rbw_hz: 10 kHz,
     every_s: 10}
  - {type: sweep, name: wide, f_start_hz: 470 MHz, f_stop_hz: 700 MHz, rbw_hz: RBW,
     every_s: 60}
"""


@pytest.mark.parametrize("rbw", ["5 MHz", "57 kHz", "10 Hz"])
def test_rbw_out_of_reach_is_refused_with_the_field(rbw: str) -> None:
    with pytest.raises(InputFormatError) as err:
        parse_site_config(SITE.replace("RBW", rbw), source="site.yaml")
    text = str(err.value)
    assert "tasks.1.rbw_hz" in text and "site.yaml" in text and "56250 Hz" in text


@pytest.mark.parametrize("rbw", ["56 kHz", "100 Hz", "25 kHz"])
def test_rbw_within_reach_is_taken(rbw: str) -> None:
    cfg = parse_site_config(SITE.replace("RBW", rbw))
    assert cfg.tasks[1].rbw_hz > 0


@pytest.mark.parametrize("fs", [2.4e6, 1.024e6, 3.2e6])
def test_the_limits_are_those_the_sweep_uses(fs: float) -> None:
    low, high = rbw_range_hz(fs)
    # The sweep's own FFT sizing at the bounds: the coarsest and the finest it can do.
    assert fft_size_for_rbw(high, fs) == 64 and fft_size_for_rbw(high * 4, fs) == 64
    assert fft_size_for_rbw(low, fs) == 65536 and fft_size_for_rbw(low / 4, fs) == 65536
