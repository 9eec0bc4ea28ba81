"""rfwatch: radio-spectrum compliance monitoring with RTL-SDR receivers.

This package is the composition root: the CLI, the settings and the demo wiring.
It holds no domain logic, and nothing imports it.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("rfwatch")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"
