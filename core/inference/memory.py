"""What a tiled run's blocks cost in memory, and what the system has left.

The automatic block size (tiling.py) needs the memory one block takes. A rule of thumb per band misjudges it both
ways: the generic models work on a few spectral components through a 48-channel network at 4/3 of the HR grid, so
their working memory hardly depends on the bands, while a sensor-specific model's does. The run therefore measures
it: one trial of the block computation on a small window, its peak resident memory read from the kernel
(:func:`peak_bytes_during`). Where the kernel does not say, the rule of thumb stands in.
"""
from __future__ import annotations

import ctypes
import functools
import os
from dataclasses import dataclass

# Float32 images of a block's HS + MS bands alive at once, per HR pixel of the block with its halo: the rule of
# thumb where the working memory cannot be measured. Whole-image runs of 600² × 218 bands (one block, projection
# and writing included) peaked 3.3 (DeepSen3) to 5.1 (MHF-net) such images above the process's own 0.75 GB.
WORKING_IMAGES = 6
# The output block a writer thread still holds while the next block is computed: the block's centre (a view of a
# part that is the block's own, its centre and the projection's halo, or a copy), and the validity test of every
# value before GDAL takes it (float32 images of the output bands).
OUTPUT_IMAGES = 1.5


def release_freed_memory(above: int | None = None) -> None:
    """Hand the heap's freed pages back to the system (glibc's ``malloc_trim``; nothing elsewhere); with ``above``,
    only once the resident size exceeds ``above`` bytes.

    A block's arrays are freed when the next block starts, but glibc keeps freed heap memory for reuse, spread over
    the arenas of the computing, reading and writing threads: the resident size grew block after block while
    GDAL's cache stayed at its cap (docs/performance.md). Trimming after every block bounds it, but the next block
    then takes all its memory anew from the kernel, which zeroes it page by page: a 1500² × 218-band DeepSen3
    fusion took 1.5 million page faults and 49–53 s, and without trimming 0.6 million and 37–44 s (tiling.py trims
    past a limit instead)."""
    if above is not None:
        resident = own_status("VmRSS:")
        if resident is not None and resident <= above:
            return
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.lru_cache(maxsize=1)
def _malloc_trim():
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (Linux's MemAvailable), or None where that is not known."""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def own_status(key: str) -> int | None:
    """A size from /proc/self/status (``VmRSS:``, ``VmHWM:``) in bytes, or None."""
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith(key):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


# The process's peak (VmHWM) before peak_bytes_during last reset it, so that process_peak_bytes still counts it.
_peak_before_reset = 0


def process_peak_bytes() -> int | None:
    """This process's peak resident memory in bytes since it started, the peaks before :func:`peak_bytes_during`'s
    resets included; None where the kernel cannot say."""
    peak = own_status("VmHWM:")
    return None if peak is None else max(peak, _peak_before_reset)


def peak_bytes_during(function) -> tuple:
    """(result, bytes): ``function()``'s result and how far the process's resident memory rose above its size
    before the call, at the highest; None for the bytes where the kernel cannot say (not Linux, or no
    /proc/self/clear_refs). Writing 5 to clear_refs resets the peak (VmHWM) to the current size, and freed heap
    memory is handed back first, so that the rise is the call's own."""
    global _peak_before_reset
    release_freed_memory()
    _peak_before_reset = max(_peak_before_reset, own_status("VmHWM:") or 0)
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
            handle.write("5")
    except OSError:
        return function(), None
    before = own_status("VmRSS:")
    result = function()
    peak = own_status("VmHWM:")
    return result, (None if before is None or peak is None else max(0, peak - before))


@dataclass(frozen=True)
class WorkingMemory:
    """Bytes a block takes: ``per_window_pixel`` for every HR pixel the block computes (itself and its halo),
    ``per_block_pixel`` for every pixel it writes (the output it hands to the writer), and ``per_held_column`` for
    every HR column of its window that a streamed network holds between two blocks down a column (streamed.py)."""

    per_window_pixel: float
    per_block_pixel: float = 0.0
    measured_on: int = 0            # HR pixels of the trial window, 0 for the rule of thumb
    per_held_column: float = 0.0

    @staticmethod
    def estimated(bands: int) -> "WorkingMemory":
        """The rule of thumb: WORKING_IMAGES float32 images of the ``bands`` (HS + MS) per computed pixel."""
        return WorkingMemory(WORKING_IMAGES * max(bands, 1) * 4)

    @staticmethod
    def measured(trial_peak: int, trial_pixels: int, output_bands: int,
                 held_per_column: float = 0.0) -> "WorkingMemory":
        """From a trial: the peak of one block computation over ``trial_pixels`` HR pixels, the output's bands and
        what a streamed network holds per column. A small trial tends to overstate the share per pixel (buffers of
        fixed size count in it)."""
        return WorkingMemory(trial_peak / max(trial_pixels, 1), OUTPUT_IMAGES * max(output_bands, 1) * 4,
                             trial_pixels, held_per_column)

    def bytes_for(self, window_pixels: int, block_pixels: int, window_columns: int = 0) -> float:
        return (window_pixels * self.per_window_pixel + block_pixels * self.per_block_pixel
                + window_columns * self.per_held_column)

    def describe(self) -> str:
        if not self.measured_on:
            return f"estimated at {self.per_window_pixel / 1024:.1f} KiB per HR pixel"
        output = f"{self.per_block_pixel / 1024:.1f} KiB per pixel of output"
        held = (f", {output} and {self.per_held_column / 1024:.0f} KiB per column held between blocks"
                if self.per_held_column else f" and {output}")
        return (f"measured at {self.per_window_pixel / 1024:.1f} KiB per HR pixel on a trial of "
                f"{self.measured_on} HR pixels{held}")
