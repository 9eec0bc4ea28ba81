"""api package (see docs/ARCHITECTURE.md)."""
