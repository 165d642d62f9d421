"""The one registry of fusion methods.

The provider, the algorithms, training, weights and benchmarks all read this list:
adding a method is one entry here and one module in ``nets/``. Nothing here imports torch;
:meth:`Method.build` imports the network module only when a network is needed.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class HyperParameter:
    """A method-specific setting, shown as an advanced Processing parameter ``name``."""

    name: str            # Processing parameter name, e.g. STAGES
    key: str             # keyword of the network constructor, e.g. stages
    label: str
    default: float
    minimum: float
    maximum: float | None = None
    kind: str = "int"    # int | float
    help: str = ""


@dataclass(frozen=True)
class Method:
    id: str                       # algorithm id suffix: hyperfuse:fuse_<id>
    name: str                     # display name
    module: str                   # module in hyperfuse.nets
    class_name: str
    paper: str
    paper_file: str               # in shared/papers
    summary: str
    parameters: tuple = ()        # HyperParameter, shown as advanced parameters
    fixed: dict = field(default_factory=dict)   # constructor settings that are not user parameters
    # Training settings (paper values where the paper gives them); patch_size is in HR
    # pixels of the reduced-resolution training grid.
    training: dict = field(default_factory=dict)
    ratios: str = "any integer ≥ 2"

    @property
    def hyperparameters(self) -> dict:
        """Default constructor settings: the fixed ones and every parameter's default."""
        return {**self.fixed, **{p.key: p.default for p in self.parameters}}

    def network_class(self):
        package = __name__.rsplit(".", 2)[0]
        return getattr(importlib.import_module(f"{package}.nets.{self.module}"), self.class_name)

    def build(self, hs_bands: int, ms_bands: int, ratio: int, **hyperparameters):
        """The bare network (torch is imported here, not before)."""
        params = {**self.hyperparameters, **hyperparameters}
        return self.network_class()(hs_bands, ms_bands, ratio, **params)


_ADAM = {"learning_rate": 3e-4, "betas": (0.9, 0.999), "batch_size": 16, "patch_size": 32}

METHODS = {m.id: m for m in [
    Method(
        id="mlpln", name="MLPLN", module="mlpln", class_name="MLPLN",
        paper="Multi-Level Propagation Learning Network for hyperspectral and multispectral image fusion",
        paper_file="000_da384f772880dcc3.txt",
        summary="An LSTM reads, for every HR pixel, a sequence of concentric patches (padding factor κ, scalability "
                "number η) of the HR-MSI and the up-sampled LR-HSI's leading SVD components, from the smallest patch "
                "to the largest, and regresses the pixel's HR components; the spectrum is restored from the SVD "
                "basis. RMSE loss.",
        parameters=(
            HyperParameter("KAPPA", "kappa", "Padding factor κ", 1, 1, 8,
                           help="Pixels cropped from every side of the patch from one sequence step to the next. "
                                "PATCH − 2·κ·(η − 1) must be at least 2."),
            HyperParameter("ETA", "eta", "Scalability number η", 4, 2, 10,
                           help="Concentric patches in each pixel's sequence (the paper's best: 3–4)."),
            HyperParameter("PATCH", "patch", "Largest patch size (HR pixels)", 12, 4, 64,
                           help="Side of the largest concentric patch A₀ (the paper's best: 8–20)."),
            HyperParameter("SVD_COMPONENTS", "components", "SVD components (0 = automatic)", 0, 0, 64,
                           help="Leading SVD components of the spectra the network predicts (the paper uses 6–20); "
                                "0 keeps min(12, HS bands)."),
        ),
        training={**_ADAM, "learning_rate": 1e-3},
    ),
    Method(
        id="ssjcn", name="SSJCN", module="ssjcn", class_name="SSJCN",
        paper="Spatial-Spectral Joint Correction Network for hyperspectral and multispectral image fusion",
        paper_file="001_dca8e27797b6892b.txt",
        summary="Starts from the bicubic LR-HSI and corrects it iteratively: learned spectral and spatial degradation "
                "blocks predict the HR-MSI and the LR-HSI, their error maps are fused with channel attention and "
                "reconstructed into a correction with spatial and spectral attention (Z¹ = Z⁰ + Ê¹, then Z²). "
                "L1 loss.",
        parameters=(HyperParameter("ITERATIONS", "iterations", "Correction iterations", 2, 1, 6,
                                   help="Spatial-spectral corrections Z^k → Z^(k+1) (the paper: two beat one by "
                                        "1.4 dB)."),),
        fixed={"width": 32},
        # The paper gives no training settings; 1e-3 reached 36.6 dB where 3e-4 reached 32.9 dB
        # after 150 steps on the synthetic test scene, with no instability.
        training={**_ADAM, "learning_rate": 1e-3},
    ),
    Method(
        id="mhfnet", name="MHF-net", module="mhfnet", class_name="MHFNet",
        paper="Multispectral and Hyperspectral Image Fusion by MS/HS Fusion Net",
        paper_file="002_7d83e47205f7c9d9.txt",
        summary="Unfolds a proximal-gradient algorithm for the model X = YA + ŶB into K stages with learned "
                "down-sampling, up-sampling and ResNet proximal operators, followed by a ResNet; loss of eq. 24 "
                "with per-stage terms.",
        parameters=(
            HyperParameter("STAGES", "stages", "Stages K", 8, 2, 30,
                           help="Unfolded proximal-gradient stages (the paper finds 13 best; 8 keeps CPU training "
                                "practical). More stages also widen the halo read around each block."),
            HyperParameter("RANK", "rank", "Rank (0 = automatic)", 0, 0, 256,
                           help="Rank of X = YA + ŶB: MS bands plus the number of learned bases Ŷ; 0 uses MS bands "
                                "+ 9 (the paper's 12 for 3 MS bands), at most the HS band count."),
        ),
        fixed={"levels": 1},
        training=dict(_ADAM),
    ),
    Method(
        id="msssfnet", name="MS-SSFNet", module="msssfnet", class_name="MSSSFNet",
        paper="Multi-level and Multi-scale Spatial and Spectral Fusion CNN for hyperspectral image super-resolution",
        paper_file="003_0bd591e26c4b3f07.txt",
        summary="A spectral pathway up-samples the LR-HSI one scale at a time while a spatial pathway max-pools the "
                "HR-MSI; features of equal size are stacked at every scale; multi-level MSE losses supervise "
                "intermediate resolutions.",
        parameters=(HyperParameter("LEVELS", "levels", "Loss levels", 2, 1, 6,
                                   help="Levels of the multi-level loss: 1 trains on the final output only; L adds "
                                        "L − 1 intermediate resolutions (needs a ratio with several prime "
                                        "factors, e.g. 4, 8, 16)."),),
        fixed={"width": 64},
        training=dict(_ADAM),
    ),
    Method(
        id="deepsen3", name="DeepSen3", module="deepsen3", class_name="DeepSen3",
        paper="DeepSen3: Deep multi-scale learning model for spatial-spectral fusion of Sentinel-2 and "
              "Sentinel-3 remote sensing images",
        paper_file="004_d2cd3407ca29f6ed.txt",
        summary="Bicubic-upsampled LR-HSI stacked with the HR-MSI, three multi-scale inception residual "
                "modules (3×3 and 5×5 branches) and a global residual; MSE loss.",
        fixed={"width": 48, "modules": 3},
        training={"learning_rate": 3e-4, "betas": (0.92, 0.95), "batch_size": 16, "patch_size": 32,
                  "paper_patch_size": 64},
    ),
]}


def method(method_id: str) -> Method:
    try:
        return METHODS[method_id]
    except KeyError:
        raise KeyError(f"unknown method '{method_id}'; known: {', '.join(METHODS)}") from None
