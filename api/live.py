"""The live hub lives in :mod:`centre.live`; this name stays for the API's routes."""

from centre.live import LiveHub, SpectrumFrame, Subscription

__all__ = ["LiveHub", "SpectrumFrame", "Subscription"]
