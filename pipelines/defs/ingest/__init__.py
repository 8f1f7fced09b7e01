"""Ingest stage: the night's extract files and the population base into the canonical person record."""
