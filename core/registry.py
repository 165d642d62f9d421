"""The one registry of fusion methods: the networks and the classical methods.

The provider, the algorithms, training, weights and benchmarks all read it: adding a method
is one entry here and one module (in ``nets/`` for a network, in ``core/classical/`` for a
classical method). Nothing here imports torch or a method's module: :meth:`NetworkMethod.build`
and :class:`ClassicalMethod`'s properties import the module when it is first needed, which
also keeps this module free of import cycles.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import ClassVar

from .i18n import QT_TRANSLATE_NOOP, Text
from .protocol.degradation import DEFAULT_MTF_GAIN

_PACKAGE = __name__.rsplit(".", 2)[0]   # "hyperfuse", whatever the checkout folder is called


@dataclass(frozen=True)
class Setting:
    """A method setting, shown as the advanced Processing parameter ``name``.

    Its value reaches the method as the keyword ``key`` (of the network constructor, or of a
    classical method's ``predict``). An enum setting passes ``choices[i]`` for the option
    ``labels[i]`` the user picked; ``default`` is then one of the choices.
    """

    name: str                     # Processing parameter name, e.g. STAGES
    key: str                      # keyword of the method, e.g. stages
    label: str
    default: object
    kind: str = "int"             # int | float | enum
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple = ()           # enum: the values passed to the method, in the parameter's order
    labels: tuple = ()            # enum: what the user sees, in the same order
    help: str = ""


@dataclass(frozen=True, kw_only=True)
class FusionMethod:
    """What every fusion method declares; the algorithm ``hyperfuse:fuse_<id>`` is built from it."""

    kind: ClassVar[str]           # "network" | "classical"
    id: str                       # algorithm id suffix: hyperfuse:fuse_<id>
    name: str                     # display name
    paper: str                    # citation of the method's paper
    summary: str
    parameters: tuple = ()        # Setting, shown as advanced parameters

    @property
    def defaults(self) -> dict:
        """Every setting's default, by keyword."""
        return {p.key: p.default for p in self.parameters}


@dataclass(frozen=True, kw_only=True)
class NetworkMethod(FusionMethod):
    kind: ClassVar[str] = "network"
    module: str                   # module in hyperfuse.nets
    class_name: str
    fixed: dict = field(default_factory=dict)   # constructor settings that are not user parameters
    # Training settings: the paper's where it gives them, unless a measurement at our step
    # budgets showed a clear loss (MHF-net: docs/methods.md gives the numbers); patch_size is
    # in HR pixels of the reduced-resolution training grid.
    training: dict = field(default_factory=dict)
    # The one rule for model cards older than a constructor setting: a card without the key was
    # trained with the value here (the architecture before the setting existed), whatever a new
    # network gets from ``fixed`` or the parameters' defaults. Every build from a card goes
    # through :meth:`card_hyperparameters`.
    card_defaults: dict = field(default_factory=dict)

    @property
    def hyperparameters(self) -> dict:
        """Default constructor settings: the fixed ones and every parameter's default."""
        return {**self.fixed, **self.defaults}

    def card_hyperparameters(self, card_hyperparameters: dict) -> dict:
        """The settings a model card's network was built with: its own, then ``card_defaults``, then
        the current defaults."""
        return {**self.hyperparameters, **self.card_defaults, **card_hyperparameters}

    def network_class(self):
        return getattr(importlib.import_module(f"{_PACKAGE}.nets.{self.module}"), self.class_name)

    def build(self, hs_bands: int, ms_bands: int, ratio: int, **hyperparameters):
        """The bare network (torch is imported here, not before)."""
        params = {**self.hyperparameters, **hyperparameters}
        return self.network_class()(hs_bands, ms_bands, ratio, **params)


@dataclass(frozen=True, kw_only=True)
class ClassicalMethod(FusionMethod):
    """A NumPy/SciPy method; its module in ``core/classical/`` follows that package's contract."""

    kind: ClassVar[str] = "classical"
    module: str                   # module in hyperfuse.core.classical
    tiled: bool                   # True: the result at a pixel depends only on a neighbourhood
    uses_response: bool = True    # needs R (given as SRF_FILE or estimated)

    def _module(self):
        return importlib.import_module(f"{_PACKAGE}.core.classical.{self.module}")

    @property
    def predict(self):
        return self._module().predict

    @property
    def prepare(self):
        return getattr(self._module(), "prepare", None)

    def receptive_field(self, ratio: int, **options) -> int:
        return self._module().receptive_field(ratio, **options)

    @property
    def max_pixels(self) -> int | None:
        """Read from the module each time, so that a test can lower the module's MAX_PIXELS."""
        return None if self.tiled else self._module().MAX_PIXELS

    @property
    def windowed_steps(self) -> tuple | None:
        """(prepare, predict, receptive_field) with which a whole-image method runs block by block on a common area
        beyond ``max_pixels`` (core/classical/run.py): the area's shared settings, the method itself on every block
        with its overlap, and the overlap; None for a tiled method."""
        if self.tiled:
            return None
        from .classical import common

        return common.shared_block_settings, self.predict, common.block_overlap


_ADAM = {"learning_rate": 3e-4, "betas": (0.9, 0.999), "batch_size": 16, "patch_size": 32}

# The networks. Their order is public: it is train_model's METHOD enum.
METHODS = {m.id: m for m in [
    NetworkMethod(
        id="mlpln", name="MLPLN", module="mlpln", class_name="MLPLN",
        # The paper's text prints no venue or year, and none could be confirmed: its year
        # is not guessed. The LSTM it is built on is cited with its year.
        paper="Hyperspectral and multispectral image fusion using a multi-level propagation learning network "
              "(MLPLN; venue and year not printed in the paper), built on the LSTM of S. Hochreiter, "
              "J. Schmidhuber, Long short-term memory, Neural Computation, 1997",
        summary=QT_TRANSLATE_NOOP(
            "HyperFuse", "An LSTM reads, for every HR pixel, a sequence of concentric patches (padding factor κ, "
                         "scalability number η) of the HR-MSI and the up-sampled LR-HSI's leading SVD components, "
                         "from the smallest patch to the largest, and regresses the pixel's HR components; the "
                         "spectrum is restored from the SVD basis. RMSE loss."),
        parameters=(
            Setting("KAPPA", "kappa", QT_TRANSLATE_NOOP("HyperFuse", "Padding factor κ"), 1, "int", 1, 8,
                    help=QT_TRANSLATE_NOOP(
                        "HyperFuse", "Pixels cropped from every side of the patch from one sequence step to the "
                                     "next. PATCH − 2·κ·(η − 1) must be at least 2.")),
            Setting("ETA", "eta", QT_TRANSLATE_NOOP("HyperFuse", "Scalability number η"), 4, "int", 2, 10,
                    help=QT_TRANSLATE_NOOP(
                        "HyperFuse", "Concentric patches in each pixel's sequence (the paper's best: 3–4).")),
            Setting("PATCH", "patch", QT_TRANSLATE_NOOP("HyperFuse", "Largest patch size (HR pixels)"),
                    12, "int", 4, 64,
                    help=QT_TRANSLATE_NOOP(
                        "HyperFuse", "Side of the largest concentric patch A₀ (the paper's best: 8–20).")),
            Setting("SVD_COMPONENTS", "components", QT_TRANSLATE_NOOP("HyperFuse", "SVD components (0 = automatic)"),
                    0, "int", 0, 64,
                    help=QT_TRANSLATE_NOOP(
                        "HyperFuse", "Leading SVD components of the spectra the network predicts (the paper uses "
                                     "6–20); 0 keeps min(12, HS bands).")),
            Setting("VARIANT", "variant", QT_TRANSLATE_NOOP("HyperFuse", "Variant"), 1, "enum", choices=(1, 0),
                    labels=(QT_TRANSLATE_NOOP("HyperFuse", "paper: concentric patches, linear head"),
                            QT_TRANSLATE_NOOP("HyperFuse", "box means with bicubic residual")),
                    help=QT_TRANSLATE_NOOP(
                        "HyperFuse", "paper: concentric patches, linear head: every crop keeps its spatial content "
                                     "(area-resampled to the smallest crop, one shared linear encoder), LSTM, "
                                     "linear regression head. box means with bicubic residual: the network of the "
                                     "earlier bundled models (crop means, 256-unit ReLU layer, bicubic plus a "
                                     "correction).")),
        ),
        # Cards from before VARIANT existed hold the box-means network.
        card_defaults={"variant": 0},
        # The paper gives no optimiser settings. The paper variant, which starts from random outputs
        # rather than bicubic, learns slowly at 1e-3 (EnMAP held-out part, 300 steps: 24.05 dB against
        # 28.10 at 3e-3 and 29.47 at 1e-2; docs/methods.md).
        training={**_ADAM, "learning_rate": 1e-2},
    ),
    NetworkMethod(
        id="ssjcn", name="SSJCN", module="ssjcn", class_name="SSJCN",
        paper="T. Wang, Y. Xu, Z. Wu, Z. Wei, Spatial-Spectral Joint Correction Network for hyperspectral and "
              "multispectral image fusion, EasyChair preprint, 2021",
        summary=QT_TRANSLATE_NOOP(
            "HyperFuse", "Starts from the bicubic LR-HSI and corrects it iteratively: learned spectral and spatial "
                         "degradation blocks predict the HR-MSI and the LR-HSI, their error maps are fused with "
                         "channel attention and reconstructed into a correction with spatial and spectral attention "
                         "(Z¹ = Z⁰ + Ê¹, then Z²). L1 loss."),
        parameters=(Setting("ITERATIONS", "iterations", QT_TRANSLATE_NOOP("HyperFuse", "Correction iterations"),
                            2, "int", 1, 6,
                            help=QT_TRANSLATE_NOOP(
                                "HyperFuse", "Spatial-spectral corrections Z^k → Z^(k+1) (the paper: two beat one "
                                             "by 1.4 dB).")),),
        fixed={"width": 32},
        # The paper's only training setting is its 8 × 8 blocks ("we take 8*8 blocks", LR or HR
        # unstated): at its ratio 4 our 32-pixel HR patches are 8 × 8 LR blocks. It gives no
        # optimiser or learning rate: 1e-3 reached 36.6 dB where 3e-4 reached 32.9 dB after 150
        # steps on the synthetic test scene, with no instability.
        training={**_ADAM, "learning_rate": 1e-3},
    ),
    NetworkMethod(
        id="mhfnet", name="MHF-net", module="mhfnet", class_name="MHFNet",
        paper="Q. Xie, M. Zhou, Q. Zhao, D. Meng, W. Zuo, Z. Xu, Multispectral and hyperspectral image fusion by "
              "MS/HS Fusion Net, CVPR, 2019",
        summary=QT_TRANSLATE_NOOP(
            "HyperFuse", "Unfolds a proximal-gradient algorithm for the model X = YA + ŶB into K stages with "
                         "learned down-sampling, up-sampling and ResNet proximal operators, followed by a ResNet; "
                         "loss of eq. 24 with per-stage terms."),
        parameters=(
            Setting("STAGES", "stages", QT_TRANSLATE_NOOP("HyperFuse", "Stages K"), 8, "int", 2, 30,
                    help=QT_TRANSLATE_NOOP(
                        "HyperFuse", "Unfolded proximal-gradient stages (the paper finds 13 best; 8 keeps CPU "
                                     "training practical). More stages also widen the halo read around each block.")),
            Setting("RANK", "rank", QT_TRANSLATE_NOOP("HyperFuse", "Rank (0 = automatic)"), 0, "int", 0, 256,
                    help=QT_TRANSLATE_NOOP(
                        "HyperFuse", "Rank of X = YA + ŶB: MS bands plus the number of learned bases Ŷ; 0 uses MS "
                                     "bands + 9 (the authors' code's 12 for 3 MS bands; the paper gives no value), "
                                     "at most the HS band count.")),
            Setting("RESNET_LEVELS", "levels", QT_TRANSLATE_NOOP("HyperFuse", "ResNet levels L"), 1, "int", 1, 8,
                    help=QT_TRANSLATE_NOOP(
                        "HyperFuse", "Residual units in every proximal ResNet and in the final ResNet (the paper's "
                                     "L; its Table 1 finds (K, L) = (13, 2) best). Each level adds about 3 HR "
                                     "pixels per stage to the halo read around each block, and training time.")),
        ),
        card_defaults={"levels": 1},     # cards before RESNET_LEVELS existed: L was fixed at 1
        # Not the paper's Adam (lr 1e-4, batch 10, 50000 iterations): at 400 steps it lost 1.35 dB
        # to these on the OLCI development scenes' held-out parts (docs/methods.md).
        training=dict(_ADAM),
    ),
    NetworkMethod(
        id="msssfnet", name="MS-SSFNet", module="msssfnet", class_name="MSSSFNet",
        paper="X.-H. Han, Y. Zheng, Y.-W. Chen, Multi-level and multi-scale spatial and spectral fusion CNN for "
              "hyperspectral image super-resolution, ICCV Workshops, 2019",
        summary=QT_TRANSLATE_NOOP(
            "HyperFuse", "A spectral pathway up-samples the LR-HSI one scale at a time while a spatial pathway "
                         "max-pools the HR-MSI; features of equal size are stacked at every scale; multi-level MSE "
                         "losses supervise intermediate resolutions."),
        parameters=(Setting("LEVELS", "levels", QT_TRANSLATE_NOOP("HyperFuse", "Loss levels"), 2, "int", 1, 6,
                            help=QT_TRANSLATE_NOOP(
                                "HyperFuse", "Levels of the multi-level loss: 1 trains on the final output only; L "
                                             "adds L − 1 intermediate resolutions (needs a ratio with several prime "
                                             "factors, e.g. 4, 8, 16).")),),
        fixed={"width": 64},
        training=dict(_ADAM),
    ),
    NetworkMethod(
        id="deepsen3", name="DeepSen3", module="deepsen3", class_name="DeepSen3",
        paper="A. Alboody, M. Puigt, G. Roussel, V. Vantrepotte, C. Jamet, T.-K. Tran, DeepSen3: Deep multi-scale "
              "learning model for spatial-spectral fusion of Sentinel-2 and Sentinel-3 remote sensing images, "
              "IEEE WHISPERS, 2022",
        summary=QT_TRANSLATE_NOOP(
            "HyperFuse", "Bicubic-upsampled LR-HSI stacked with the HR-MSI, three multi-scale inception residual "
                         "modules (3×3 and 5×5 branches) and a global residual; MSE loss."),
        # learnable_slope 1: the paper's learnable Leaky ReLU slope (PReLU); cards from before it was
        # added have fixed slopes.
        fixed={"width": 48, "modules": 3, "learnable_slope": 1},
        card_defaults={"learnable_slope": 0},
        # The paper trains on 64 × 64 patches; 32 here, like the other networks. lr_decay: the
        # paper's Keras decay of the learning rate, lr₀ / (1 + 1e-9 · updates).
        training={"learning_rate": 3e-4, "betas": (0.92, 0.95), "batch_size": 16, "patch_size": 32,
                  "lr_decay": 1e-9},
    ),
]}


def _mtf_gain(default: float) -> Setting:
    note = (QT_TRANSLATE_NOOP("HyperFuse", "0 (the default) estimates σ from the inputs "
                                           "(core/protocol/responses.py)") if default == 0 else
            Text(QT_TRANSLATE_NOOP("HyperFuse", "0 estimates σ from the inputs (core/protocol/responses.py); "
                                                "{default:g} is the protocol's default"), default=default))
    label = QT_TRANSLATE_NOOP("HyperFuse", "MTF gain of the PSF at Nyquist (0 = estimate)")
    help_text = Text(QT_TRANSLATE_NOOP("HyperFuse", "Response of the Gaussian PSF at the LR Nyquist frequency, σ = "
                                                    "r·sqrt(−2 ln g)/π HR pixels; {note}."), note=note)
    return Setting("MTF_GAIN", "mtf_gain", label, default, "float", 0.0, 0.999, help=help_text)


CLASSICAL_METHODS = {m.id: m for m in [
    ClassicalMethod(
        id="bicubic", name=QT_TRANSLATE_NOOP("HyperFuse", "Bicubic upsampling"), module="bicubic", tiled=True,
        uses_response=False,
        paper="Cubic convolution, R. Keys, IEEE TASSP 29(6), 1981 (a = −0.75)",
        summary=QT_TRANSLATE_NOOP(
            "HyperFuse", "Up-samples the LR-HSI, ignoring the HR-MSI: the baseline every method must beat.")),
    ClassicalMethod(
        id="gsa", name="GSA (Gram-Schmidt adaptive)", module="gsa", tiled=True,
        paper="B. Aiazzi, S. Baronti, M. Selva, Improving component substitution pansharpening through multivariate "
              "regression of MS+Pan data, IEEE TGRS 45(10), 2007",
        summary=QT_TRANSLATE_NOOP(
            "HyperFuse", "Component substitution: each MS band sharpens the HS bands of its group; the intensity is "
                         "the non-negative regression of the group's up-sampled HS bands on the degraded MS band, "
                         "and each HS band gets the detail with the gain cov(HS, I)/var(I)."),
        parameters=(_mtf_gain(DEFAULT_MTF_GAIN),)),
    ClassicalMethod(
        id="glp", name="MTF-GLP-HS / SFIM-HS", module="glp", tiled=True,
        paper="B. Aiazzi, L. Alparone, S. Baronti, A. Garzelli, M. Selva, MTF-tailored multiscale fusion of "
              "high-resolution MS and Pan imagery, PE&RS 72(5), 2006; M. Selva et al., Hyper-sharpening: a first "
              "approach on SIM-GA data, IEEE JSTARS 8(6), 2015; SFIM: J. G. Liu, Smoothing filter-based intensity "
              "modulation: a spectral preserve image fusion technique for improving spatial details, IJRS 21(18), "
              "2000",
        summary=QT_TRANSLATE_NOOP(
            "HyperFuse", "Multi-resolution analysis: each HS band is modulated by the ratio of its group's MS band "
                         "to that band's low-pass (MTF-matched Gaussian, or a box for SFIM), decimated and "
                         "interpolated back."),
        parameters=(
            Setting("LOWPASS", "lowpass", QT_TRANSLATE_NOOP("HyperFuse", "Low-pass filter"),
                    "mtf", "enum", choices=("mtf", "box"),
                    labels=(QT_TRANSLATE_NOOP("HyperFuse", "MTF-matched Gaussian (MTF-GLP)"),
                            QT_TRANSLATE_NOOP("HyperFuse", "Box r × r (SFIM)")),
                    help=QT_TRANSLATE_NOOP(
                        "HyperFuse", "MTF-matched Gaussian (MTF-GLP): the Gaussian whose response at the LR Nyquist "
                                     "frequency is MTF_GAIN (MTF-GLP-HS); Box r × r (SFIM): the r × r box average "
                                     "(SFIM-HS).")),
            _mtf_gain(DEFAULT_MTF_GAIN),
        )),
    ClassicalMethod(
        id="cnmf", name="CNMF", module="cnmf", tiled=False,
        paper="N. Yokoya, T. Yairi, A. Iwasaki, Coupled nonnegative matrix factorization unmixing for hyperspectral "
              "and multispectral data fusion, IEEE TGRS 50(2), 2012",
        summary=QT_TRANSLATE_NOOP(
            "HyperFuse", "Alternating non-negative unmixing of both images with shared endmembers (MS endmembers = "
                         "R × HS endmembers) and abundances coupled through the PSF; fused = HS endmembers × HR "
                         "abundances."),
        parameters=(
            Setting("ENDMEMBERS", "endmembers", QT_TRANSLATE_NOOP("HyperFuse", "Endmembers"), 20, "int", 2, 100,
                    help=QT_TRANSLATE_NOOP(
                        "HyperFuse", "Number of endmembers M of the unmixing (initialised by the successive "
                                     "projection algorithm); more capture more materials but take longer.")),
            Setting("INNER_ITERATIONS", "inner", QT_TRANSLATE_NOOP("HyperFuse", "Inner iterations"),
                    200, "int", 1, 5000,
                    help=QT_TRANSLATE_NOOP(
                        "HyperFuse", "Multiplicative-update iterations of each NMF step (the paper runs to "
                                     "convergence).")),
            Setting("OUTER_ITERATIONS", "outer", QT_TRANSLATE_NOOP("HyperFuse", "Coupling rounds"), 2, "int", 1, 20,
                    help=QT_TRANSLATE_NOOP(
                        "HyperFuse", "Rounds of MS unmixing then HS unmixing that couple the two factorisations.")),
            _mtf_gain(0.0),
        )),
    ClassicalMethod(
        id="hysure", name="HySure", module="hysure", tiled=False,
        paper="M. Simões, J. Bioucas-Dias, L. B. Almeida, J. Chanussot, A convex formulation for hyperspectral image "
              "superresolution via subspace-based regularization, IEEE TGRS 53(6), 2015",
        summary=QT_TRANSLATE_NOOP(
            "HyperFuse", "Convex fusion in a p-dimensional spectral subspace with vector-total-variation "
                         "regularisation, solved by ADMM with FFT-based steps."),
        parameters=(
            Setting("SUBSPACE", "subspace", QT_TRANSLATE_NOOP("HyperFuse", "Subspace dimension p (0 = MS bands)"),
                    0, "int", 0, 100,
                    help=QT_TRANSLATE_NOOP(
                        "HyperFuse", "Dimension of the spectral subspace (SVD of the LR-HSI). 0 uses the number of "
                                     "MS bands, so that the HR-MSI observes every coefficient at high resolution; "
                                     "larger p keeps more spectral detail, reconstructed from the LR-HSI with the "
                                     "TV prior alone.")),
            Setting("LAMBDA_PHI", "lambda_phi", QT_TRANSLATE_NOOP("HyperFuse", "TV weight λφ"),
                    1e-3, "float", 0.0, 10.0,
                    help=QT_TRANSLATE_NOOP(
                        "HyperFuse", "Weight of the vector total variation, for data scaled to a mean of 1: larger "
                                     "values give smoother, less noisy results.")),
            Setting("LAMBDA_M", "lambda_m", QT_TRANSLATE_NOOP("HyperFuse", "MS data weight λm"),
                    10.0, "float", 1e-3, 1e4,
                    help=QT_TRANSLATE_NOOP("HyperFuse", "Weight of the HR-MSI fit relative to the LR-HSI fit.")),
            Setting("ITERATIONS", "iterations", QT_TRANSLATE_NOOP("HyperFuse", "ADMM iterations"), 200, "int", 1, 5000,
                    help=QT_TRANSLATE_NOOP(
                        "HyperFuse", "Iterations of the ADMM solver (each costs eight FFTs of p bands).")),
            _mtf_gain(0.0),
        )),
]}

# Every fusion method, networks first: the provider makes one algorithm hyperfuse:fuse_<id> of each.
FUSION_METHODS = {**METHODS, **CLASSICAL_METHODS}


def method(method_id: str) -> FusionMethod:
    """The fusion method ``method_id``, network or classical."""
    try:
        return FUSION_METHODS[method_id]
    except KeyError:
        raise KeyError(f"unknown method '{method_id}'; known: {', '.join(FUSION_METHODS)}") from None
