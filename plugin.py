"""Plugin entry: registers the HyperFuse Processing provider (desktop and qgis_process)."""
from qgis.core import QgsApplication

from .processing_provider.provider import HyperFuseProvider


class HyperFusePlugin:
    def __init__(self, iface=None):
        self.iface = iface
        self.provider = None  # keep a reference, or Python frees it while QGIS still uses it

    def initProcessing(self):  # noqa: N802 (QGIS API name)
        if self.provider is None:
            self.provider = HyperFuseProvider()
            QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self):  # noqa: N802 (QGIS API name)
        self.initProcessing()

    def unload(self):
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
