"""storage package (see docs/ARCHITECTURE.md)."""
