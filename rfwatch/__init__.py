"""rfwatch: radio-spectrum compliance monitoring with RTL-SDR receivers.

This package is the composition root: the CLI, the settings and the demo wiring.
It holds no domain logic, and nothing imports it.
"""

from typing import Any


def __getattr__(name: str) -> Any:
    # ``__version__`` is looked up on first use: importlib.metadata is slow to import,
    # and ``rfwatch --help`` should not pay for it.
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            value = version("rfwatch")
        except PackageNotFoundError:  # running from a source tree that was not installed
            value = "0.0.0+unknown"
        globals()["__version__"] = value
        return value
    raise AttributeError(f"module 'rfwatch' has no attribute {name!r}")
