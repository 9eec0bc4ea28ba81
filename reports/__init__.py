"""reports package (see docs/ARCHITECTURE.md)."""
