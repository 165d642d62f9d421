"""HyperFuse QGIS plugin: hyperspectral/multispectral image fusion as Processing algorithms.

``classFactory`` is what QGIS calls; it works with ``iface=None`` (``qgis_process``) and
imports nothing heavy: torch is loaded only when a network runs.
"""
import os

# Read by torch once, when it loads (torch is loaded only when a network runs), unless set already:
# - large tensors in transparent huge pages: a block's tensors are allocated afresh block after block, and
#   faulting them in 4 KiB pages took a 1500² × 218-band DeepSen3 run 6.3 million page faults;
# - idle OpenMP threads sleep instead of spinning, which took CPU from the threads that read and write the
#   rasters. Together: 52.9 → 46.1–47.9 s for that run (docs/performance.md).
os.environ.setdefault("THP_MEM_ALLOC_ENABLE", "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def classFactory(iface):  # noqa: N802 (QGIS API name)
    from qgis.core import QgsApplication

    from .core.environment import add_site_packages

    # PyTorch lives in the QGIS profile, which plugin upgrades leave alone (core/environment.py).
    add_site_packages(QgsApplication.qgisSettingsDirPath() or None)
    from .plugin import HyperFusePlugin

    return HyperFusePlugin(iface)
