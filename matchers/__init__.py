"""Pure library: the record-matching engine (blocking, comparisons, Fellegi–Sunter scoring, clustering). No Dagster.

The Vietnamese normalization it relies on lives in :mod:`normalize`.
"""
