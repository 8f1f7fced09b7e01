"""The long-lived state of the nightly run (``var/state``): what one night leaves for the next.

Pure library (no Dagster). Every component is a table versioned by night (``state.tables``): the normalized base,
the match index, the scored base pairs, the person clusters, the findings and the register. A night reads the
previous night's version, computes what changed, and commits its own version; nothing of the unchanged base is
recomputed. The first night, a ``--full`` night, or a change of the code or settings that shaped a component builds
that component from scratch, with the same result.
"""

from state.tables import Part, TableStore, TableVersion, frame_digest

__all__ = ["Part", "TableStore", "TableVersion", "frame_digest"]
