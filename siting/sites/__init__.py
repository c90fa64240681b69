"""The reference data: loading it (services), reading it (site frame, counts, coverage), home and sources pages."""
