"""The examples in the API modules' docstrings run (``--doctest-modules`` covers only
``dsp`` and ``tests``)."""

from __future__ import annotations

import doctest

import pytest

import api.live_frames
import api.security


@pytest.mark.parametrize("module", [api.live_frames, api.security])
def test_docstring_examples(module) -> None:  # noqa: ANN001
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
