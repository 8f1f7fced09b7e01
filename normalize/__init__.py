"""Pure library: Vietnamese text, names, dates, IDs, addresses and administrative units. No Dagster here.

Used by ingest (:mod:`records`, legacy encodings), by the matching engine (:mod:`matchers`) and by the quality checks
(:mod:`checks`). :func:`normalize_records` adds every normalized column of :mod:`normalize.columns` to a canonical
person frame.
"""

from normalize.frame import normalize_records, normalize_sex, normalized_schema, summarize

__all__ = ["normalize_records", "normalize_sex", "normalized_schema", "summarize"]
