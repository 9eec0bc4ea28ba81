"""Run the examples in the storage docstrings (storage/ is not in pytest's testpaths)."""

from __future__ import annotations

import doctest
import importlib

import pytest


@pytest.mark.parametrize("module", ["storage.lineprotocol", "storage.influxql"])
def test_docstring_examples(module: str) -> None:
    result = doctest.testmod(importlib.import_module(module), raise_on_error=False)
    assert result.attempted > 0
    assert result.failed == 0
