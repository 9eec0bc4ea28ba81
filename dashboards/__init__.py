"""dashboards package (see docs/ARCHITECTURE.md)."""
