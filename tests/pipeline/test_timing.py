"""``pipelines.timing``: what an asset's stopwatch measures, and the memory it gives back first."""

from __future__ import annotations

import pytest

from pipelines import timing


@pytest.mark.skipif(timing._TRIM is None or timing.resident_mb() is None, reason="glibc malloc_trim and /proc only")
def test_freed_memory_is_given_back_to_the_os() -> None:
    # 100 MB in blocks below glibc's mmap threshold (they come from the heap), the last one kept: freeing the others
    # leaves free pages under it, which the allocator keeps resident until trimmed.
    blocks = [bytearray(64 * 1024) for _ in range(1600)]
    kept = blocks[-1]
    del blocks
    before = timing.resident_mb()
    timing.release_freed_memory()
    after = timing.resident_mb()
    assert before is not None and after is not None
    assert before - after > 50, (before, after)
    assert len(kept) == 64 * 1024


def test_a_stopwatch_reports_seconds_and_peak() -> None:
    watch = timing.Stopwatch()
    metadata = watch.metadata()
    seconds, peak = metadata["seconds"].value, metadata["peak_rss_mb"].value
    assert isinstance(seconds, float) and seconds >= 0
    assert isinstance(peak, float) and peak > 0


def test_freezing_keeps_collecting_what_is_allocated_afterwards() -> None:
    import gc
    import weakref

    class Node:
        """An object that can hold a reference to itself (a cycle only a collection frees)."""

    old = Node()
    old.self = old  # type: ignore[attr-defined]
    old_ref = weakref.ref(old)
    try:
        frozen = timing.freeze_long_lived()
        # Other threads may free a frozen object at any moment: the count is only ever about as large.
        assert frozen > 0 and gc.get_freeze_count() > 0
        assert not any(o is old for o in gc.get_objects())  # frozen: no longer walked by a collection
        new = Node()
        new.self = new  # type: ignore[attr-defined]
        new_ref = weakref.ref(new)
        del new
        timing.release_freed_memory()
        assert new_ref() is None  # a cycle made after the freeze is still collected
        assert old_ref() is old
    finally:
        gc.unfreeze()
    del old
    gc.collect()
    assert old_ref() is None


def test_the_collector_is_paused_inside_and_restored_after() -> None:
    import gc

    assert gc.isenabled()
    with timing.collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), timing.collector_paused():
        raise RuntimeError("a failing step")
    assert gc.isenabled()  # on again after an error too
    gc.disable()
    try:
        with timing.collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # left as it was: off
    finally:
        gc.enable()
