"""HyperFuse QGIS plugin: hyperspectral/multispectral image fusion as Processing algorithms.

``classFactory`` is what QGIS calls; it works with ``iface=None`` (``qgis_process``) and
imports nothing heavy: torch is loaded only when a network runs.
"""


def classFactory(iface):  # noqa: N802 (QGIS API name)
    from qgis.core import QgsApplication

    from .core.environment import add_site_packages

    # PyTorch lives in the QGIS profile, which plugin upgrades leave alone (core/environment.py).
    add_site_packages(QgsApplication.qgisSettingsDirPath() or None)
    from .plugin import HyperFusePlugin

    return HyperFusePlugin(iface)
