"""The simulator's ground truth agrees with its own IQ, measured with scipy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import cumulative_trapezoid
from scipy.signal import welch

from tests_unit_simulator_helpers import RATE_HZ  # noqa: F401  (see conftest)
