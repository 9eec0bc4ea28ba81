"""Run the examples in the stations and api docstrings (pytest collects only tests/ and dsp/)."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "stations.config",
    "stations.scheduler",
    "stations.locate",
    "stations.batch",
    "centre.ingest",
    "stations.tasks",
    "centre.live",
    "firmware_bridge.simulator.nmea",
    "rfwatch.logs",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0
