"""Scoring runs: start, execute in chunks, cancel and sweep (services); inputs and results (selectors); pages."""
