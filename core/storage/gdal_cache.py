"""A bound on GDAL's block cache for the length of a run.

GDAL keeps decoded input blocks and output blocks not yet compressed in one cache per process, 5 % of the RAM by
default (1.26 GB on a 24 GB machine). A run reads and writes every block once, so a large cache only holds memory:
the peak of a run grew with the raster until the cache was full, and the output's compression waited for the file
to close. During a run the cache is capped at RUN_CACHE_BYTES; the previous size comes back when the last run
ends (runs may overlap in QGIS's task manager, so the cap is counted).
"""
from __future__ import annotations

import contextlib
import threading

RUN_CACHE_BYTES = 256 * 2 ** 20

_lock = threading.Lock()
_runs = 0
_size_before = None


def _gdal():
    try:
        from osgeo import gdal
    except ImportError:         # rasterio alone: its GDAL keeps its own default
        return None
    return gdal


@contextlib.contextmanager
def bounded_gdal_cache(limit: int = RUN_CACHE_BYTES):
    """Cap GDAL's block cache at ``limit`` bytes (when it is larger) until the last overlapping run ends."""
    global _runs, _size_before
    gdal = _gdal()
    if gdal is None:
        yield
        return
    with _lock:
        if _runs == 0:
            _size_before = gdal.GetCacheMax()
            if _size_before > limit:
                gdal.SetCacheMax(limit)
        _runs += 1
    try:
        yield
    finally:
        with _lock:
            _runs -= 1
            if _runs == 0 and _size_before is not None:
                gdal.SetCacheMax(_size_before)
                _size_before = None
