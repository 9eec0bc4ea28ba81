"""stations package (see docs/ARCHITECTURE.md)."""
