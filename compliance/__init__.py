"""compliance package (see docs/ARCHITECTURE.md)."""
