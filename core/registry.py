"""The one registry of fusion methods.

The provider, the algorithms, training, weights and benchmarks all read this list:
adding a method is one entry here and one module in ``nets/``. Nothing here imports torch;
:meth:`Method.build` imports the network module only when a network is needed.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Method:
    id: str                       # algorithm id suffix: hyperfuse:fuse_<id>
    name: str                     # display name
    module: str                   # module in hyperfuse.nets
    class_name: str
    paper: str
    paper_file: str               # in shared/papers
    summary: str
    hyperparameters: dict = field(default_factory=dict)
    # Paper training settings; patch_size is in HR pixels of the (reduced) training grid.
    training: dict = field(default_factory=dict)
    ratios: str = "any integer ≥ 2"

    def network_class(self):
        package = __name__.rsplit(".", 2)[0]
        return getattr(importlib.import_module(f"{package}.nets.{self.module}"), self.class_name)

    def build(self, hs_bands: int, ms_bands: int, ratio: int, **hyperparameters):
        """The bare network (torch is imported here, not before)."""
        params = {**self.hyperparameters, **hyperparameters}
        return self.network_class()(hs_bands, ms_bands, ratio, **params)


METHODS = {
    "deepsen3": Method(
        id="deepsen3", name="DeepSen3", module="deepsen3", class_name="DeepSen3",
        paper="DeepSen3: Deep multi-scale learning model for spatial-spectral fusion of Sentinel-2 and "
              "Sentinel-3 remote sensing images",
        paper_file="004_d2cd3407ca29f6ed.txt",
        summary="Bicubic-upsampled LR-HSI stacked with the HR-MSI, three multi-scale inception residual "
                "modules (3×3 and 5×5 branches) and a global residual; MSE loss.",
        hyperparameters={"width": 48, "modules": 3},
        training={"learning_rate": 3e-4, "betas": (0.92, 0.95), "batch_size": 16, "patch_size": 32,
                  "paper_patch_size": 64},
    ),
}


def method(method_id: str) -> Method:
    try:
        return METHODS[method_id]
    except KeyError:
        raise KeyError(f"unknown method '{method_id}'; known: {', '.join(METHODS)}") from None
