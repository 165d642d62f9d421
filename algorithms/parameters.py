"""Names, labels, help texts and groups of the parameters that several algorithms share.

Parameter names are public (qgis_process arguments, modeler inputs, scripts): never
change one. A parameter that only one algorithm has is declared in that algorithm's module.
"""
from __future__ import annotations

from typing import NamedTuple

from ..core.i18n import QT_TRANSLATE_NOOP


class Group(NamedTuple):
    """A Processing Toolbox group: ``id`` is public, ``name`` is translated."""

    id: str
    name: str


FUSION_GROUP = Group("fusion", QT_TRANSLATE_NOOP("HyperFuse", "Fusion"))
SIMULATION_GROUP = Group("simulation", QT_TRANSLATE_NOOP("HyperFuse", "Simulation and assessment"))
TRAINING_GROUP = Group("training", QT_TRANSLATE_NOOP("HyperFuse", "Training"))
TOOLS_GROUP = Group("tools", QT_TRANSLATE_NOOP("HyperFuse", "Tools"))

# Names
LR_HSI = "LR_HSI"
HR_MSI = "HR_MSI"
REFERENCE = "REFERENCE"
OUTPUT = "OUTPUT"
BLOCK_SIZE = "BLOCK_SIZE"
DEVICE = "DEVICE"
SEED = "SEED"
SRF_FILE = "SRF_FILE"
MTF_GAIN = "MTF_GAIN"
OUTPUT_WEIGHTS = "OUTPUT_WEIGHTS"
OUTPUT_JSON = "OUTPUT_JSON"
OUTPUT_SRF = "OUTPUT_SRF"
PROJECTION = "PROJECTION"
PROJECTION_MTF_GAIN = "PROJECTION_MTF_GAIN"
ADAPT_STEPS = "ADAPT_STEPS"
DASK_SCHEDULER = "DASK_SCHEDULER"
OUTPUT_COMPRESSION = "OUTPUT_COMPRESSION"

# Labels (HyperFuseAlgorithm.add translates them)
LR_HSI_LABEL = QT_TRANSLATE_NOOP("HyperFuse", "Low-resolution hyperspectral image (LR-HSI)")
HR_MSI_LABEL = QT_TRANSLATE_NOOP("HyperFuse", "High-resolution multispectral image (HR-MSI)")
BLOCK_SIZE_LABEL = QT_TRANSLATE_NOOP("HyperFuse", "Block size (HR pixels)")
DEVICE_LABEL = QT_TRANSLATE_NOOP("HyperFuse", "Device")
SEED_LABEL = QT_TRANSLATE_NOOP("HyperFuse", "Random seed")
DASK_SCHEDULER_LABEL = QT_TRANSLATE_NOOP("HyperFuse", "Dask scheduler (empty = this process)")
OUTPUT_COMPRESSION_LABEL = QT_TRANSLATE_NOOP("HyperFuse", "Output compression")
FUSED_OUTPUT_LABEL = QT_TRANSLATE_NOOP("HyperFuse", "Fused HR-HSI")

# Help texts
LR_HSI_HELP = QT_TRANSLATE_NOOP(
    "HyperFuse", "Low-resolution hyperspectral raster (S bands). Its grid must line up with the HR-MSI: the LR "
                 "pixel is an integer multiple r ≥ 2 of the HR pixel, from an origin on the HR grid.")
HR_MSI_HELP = QT_TRANSLATE_NOOP("HyperFuse", "High-resolution multispectral raster (s < S bands) of the same scene.")
BLOCK_SIZE_HELP = QT_TRANSLATE_NOOP(
    "HyperFuse", "Side of the square blocks processed at a time, in HR pixels (rounded to whole LR pixels, or to "
                 "the alignment a network's strided layers need). 0, the default, sizes the blocks from the available "
                 "memory and from the working memory measured on a small trial block (at most 768 MiB per block): the "
                 "largest square blocks that fit, or strips as wide as "
                 "the area where those recompute less halo; the log says which. A network runs down such strips in "
                 "steps that keep the rows the next strip needs, so a strip recomputes only its steps' margins. "
                 "Smaller blocks need less memory, larger ones recompute less halo; the result does not depend on "
                 "it.")
FUSION_INPUTS = QT_TRANSLATE_NOOP(
    "HyperFuse", "An LR-HSI and an HR-MSI of the same scene, in any band counts, as rasters GDAL can read: the LR "
                 "pixel is an integer multiple r ≥ 2 of the HR pixel, on a grid that starts on the HR grid; only "
                 "their common area is fused. Values are read in physical units (scale and offset applied); nodata, "
                 "NaN and Inf are masked.")
FUSED_OUTPUT_HELP = QT_TRANSLATE_NOOP(
    "HyperFuse", "Fused high-resolution hyperspectral GeoTIFF (float32) on the HR-MSI grid, with the LR-HSI's band "
                 "names and wavelengths. Pixels invalid in either input are nodata (-9999).")
PROJECTION_LABEL = QT_TRANSLATE_NOOP("HyperFuse", "Projection onto the inputs")
PROJECTION_MTF_GAIN_LABEL = QT_TRANSLATE_NOOP("HyperFuse", "MTF gain of the PSF (for the projection)")
ADAPT_STEPS_LABEL = QT_TRANSLATE_NOOP("HyperFuse", "Fine-tuning steps on the inputs at full resolution (0 = none)")
PROJECTION_HELP = QT_TRANSLATE_NOOP(
    "HyperFuse", "both observations: every block of the result is replaced by the nearest image that, blurred by "
                 "the PSF and decimated, gives back the LR-HSI and, through the spectral responses, gives back the "
                 "HR-MSI. The responses are estimated from the pair; the PSF is the Gaussian of "
                 "PROJECTION_MTF_GAIN. It corrects what a method gets wrong about these inputs (docs/benchmark.md) "
                 "and adds a few seconds. none: the method's result as it is. The log reports how far the result is "
                 "from reproducing the inputs, before and after.")
ADAPT_STEPS_HELP = QT_TRANSLATE_NOOP(
    "HyperFuse", "Before fusing, fine-tune the model on the pair itself for this many steps: the fused result, "
                 "blurred by the PSF and decimated, should give back the LR-HSI, and through the spectral responses "
                 "the HR-MSI (the same responses and PSF as the projection). 0, the default, skips it: followed by "
                 "the projection it changed the bundled models' PSNR by -0.31 to +0.04 dB on the development "
                 "scenes, at up to 5 minutes for 100 steps on 218 bands (docs/methods.md). Each step costs about as "
                 "much as a training step.")
PROJECTION_MTF_GAIN_HELP = QT_TRANSLATE_NOOP(
    "HyperFuse", "Response of the Gaussian PSF at the LR Nyquist frequency that the projection assumes: 0.25, the "
                 "protocol's, unless the sensor's is known (hyperfuse:estimate_responses estimates it from the "
                 "pair).")
DASK_SCHEDULER_HELP = QT_TRANSLATE_NOOP(
    "HyperFuse", "Where the blocks are computed. Empty, the default: in this process. local:N: N worker processes "
                 "started on this machine for the run. An address such as tcp://10.0.0.5:8786: the workers of a "
                 "running Dask cluster, which must read the inputs at the same paths and have HyperFuse, PyTorch and "
                 "dask[distributed] installed. The model, the responses and the block size are prepared here and "
                 "sent once to every worker; this process writes the result, which equals the in-process one. "
                 "Needs dask[distributed] (the message says how to install it). docs/scale-out.md.")
OUTPUT_COMPRESSION_HELP = QT_TRANSLATE_NOOP(
    "HyperFuse", "How the result's GeoTIFF is compressed, losslessly. zstd, the default, encodes about twice as fast "
                 "as deflate for files of the same size, and any GDAL-based software reads it (QGIS 3.4 and later); "
                 "deflate is read by almost every GeoTIFF reader; none writes fastest and largest.")
DEVICE_HELP = QT_TRANSLATE_NOOP(
    "HyperFuse", "auto: the GPU when PyTorch sees a CUDA GPU, else the CPU; cpu: the CPU; cuda: the GPU (refused "
                 "when PyTorch sees none).")
