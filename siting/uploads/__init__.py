"""Analysts' uploads of site files (and headroom files): stage, confirm, withdraw; pages and preview maps."""
