"""Plugin entry: registers the HyperFuse Processing provider (desktop and qgis_process)."""
from qgis.core import QgsApplication

from .algorithms.i18n import install_translator, remove_translator
from .processing_provider.provider import HyperFuseProvider


class HyperFusePlugin:
    def __init__(self, iface=None):
        self.iface = iface
        self.provider = None  # keep a reference, or Python frees it while QGIS still uses it
        # Before the provider exists: its algorithms translate their labels when they are loaded. Kept for
        # unload, and because Qt does not own it (Python would delete it, and the translation with it).
        self.translator = install_translator()

    def initProcessing(self):  # noqa: N802 (QGIS API name)
        if self.provider is None:
            self.provider = HyperFuseProvider()
            QgsApplication.processingRegistry().addProvider(self.provider)
            # The shipped model finds its child algorithms, and so its outputs, only once the provider is
            # registered: load the algorithms again now that it is.
            self.provider.refreshAlgorithms()

    def initGui(self):  # noqa: N802 (QGIS API name)
        self.initProcessing()

    def unload(self):
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
        remove_translator(self.translator)
        self.translator = None
