"""Wall-clock time and peak memory of an asset body, reported as asset metadata beside its row counts.

Peak memory: the nightly job runs every asset in one process (the in-process executor), so the process's own
high-water mark would only grow from asset to asset. Instead one sampler thread reads the resident set size
(``VmRSS`` in ``/proc/self/status``) every 20 ms and each stopwatch keeps the highest value seen while it was open:
the honest "peak RSS while this asset ran", including what earlier assets left allocated in the process. A spike
shorter than the sampling period can be missed; the benchmark also reports the whole run's peak from the OS.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import itertools
import threading
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg

from normalize.text import paused_gc

__all__ = ["Stopwatch", "collector_paused", "freeze_long_lived", "release_freed_memory", "resident_mb"]

_STATUS = Path("/proc/self/status")
_PERIOD = 0.02


def resident_mb() -> float | None:
    """The process's resident set size now, in MB (None where /proc is not available)."""
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _malloc_trim() -> ctypes._NamedFuncPointer | None:
    """glibc's ``malloc_trim`` (None elsewhere: musl, macOS)."""
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):
        return None


_TRIM = _malloc_trim()


def release_freed_memory() -> None:
    """Give the OS back what the process has freed: collect reference cycles, then ask glibc's allocator to return
    its free pages (``malloc_trim(0)``). What a finished asset allocated through glibc (Python objects, SQLite's and
    other libraries' buffers; polars has its own allocator) is freed into glibc's arenas, which otherwise keep it
    resident: the next asset's peak would include it."""
    gc.collect()
    if _TRIM is not None:
        _TRIM(0)


def freeze_long_lived() -> int:
    """Collect once, then move every object alive now to the collector's permanent generation (``gc.freeze``): the
    full collection each asset starts with (``release_freed_memory``) then walks only what was allocated since.

    For a process about to run a night: what is alive before the run (imported modules, classes, the definitions,
    the instance) lives as long as the process, and walking it is most of a full collection (at 100,000 people
    ~650,000 objects, 0.5 s of CPU per asset, 7 s a night). Frozen objects are still freed by reference counting;
    only a cycle among them would stay, and they are never garbage before the process ends. Returns the number of
    objects frozen."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


collector_paused = paused_gc
"""No automatic garbage collection inside (as it was after: on again if it was on, whatever is raised): the
normalizer's ``paused_gc``, for a step that allocates many small long-lived objects and frees none in cycles (a
first night's task drafts: 140,000 drafts and 316,000 snapshot dicts at 1,000,000 people): each generational
collection walks every object allocated so far, 0.7-1.4 s of the 4 s of CPU of ``build_drafts`` at 100,000 people.
Reference counting still frees everything; a cycle made inside is collected by the next collection after."""


class _Sampler:
    """One daemon thread for the process; windows record the highest RSS seen while they are open."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.peaks: dict[int, float] = {}
        self.ids = itertools.count()
        self.thread: threading.Thread | None = None

    def open(self) -> int:
        now = resident_mb() or 0.0
        with self.lock:
            window = next(self.ids)
            self.peaks[window] = now
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name="dancu-rss-sampler", daemon=True)
                self.thread.start()
        return window

    def peak(self, window: int) -> float:
        now = resident_mb() or 0.0
        with self.lock:
            self.peaks[window] = max(self.peaks.get(window, 0.0), now)
            return self.peaks[window]

    def close(self, window: int) -> None:
        with self.lock:
            self.peaks.pop(window, None)

    def _run(self) -> None:
        while True:
            time.sleep(_PERIOD)
            now = resident_mb()
            with self.lock:
                if not self.peaks:
                    self.thread = None
                    return
                if now is not None:
                    for window, peak in self.peaks.items():
                        if now > peak:
                            self.peaks[window] = now


_SAMPLER = _Sampler()


def _open_window() -> int:
    release_freed_memory()  # an asset starts: what earlier assets freed is not its memory
    return _SAMPLER.open()


@dataclass
class Stopwatch:
    """Started at the beginning of an asset body (after what earlier assets freed is given back to the OS)."""

    window: int = field(default_factory=_open_window)
    started: float = field(default_factory=time.perf_counter)

    def __post_init__(self) -> None:
        weakref.finalize(self, _SAMPLER.close, self.window)

    def metadata(self) -> dict[str, dg.MetadataValue]:
        """``{"seconds": …, "peak_rss_mb": …}`` measured up to now."""
        return {
            "seconds": dg.MetadataValue.float(round(time.perf_counter() - self.started, 3)),
            "peak_rss_mb": dg.MetadataValue.float(round(_SAMPLER.peak(self.window), 1)),
        }
