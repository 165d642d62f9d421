"""Lazy access to PyTorch and the choice of device.

The plugin loads without torch; only running a network needs it. :func:`require_torch`
imports it on first use and, when it is missing, raises an error that says how to install
it for the Python that QGIS runs.
"""
from __future__ import annotations

import os
import sys

from ..environment import PLUGIN_DIR
from ..errors import UserInputError

DEVICES = ["auto", "cpu", "cuda"]

INSTALL_HINT = (
    "PyTorch is not installed for the Python that QGIS uses ({python}). Install it into a virtual "
    "environment inside the plugin folder, which HyperFuse adds to QGIS's Python on load:\n"
    "  python3 -m venv --system-site-packages \"{plugin}/.venv\"\n"
    "  \"{plugin}/.venv/bin/pip\" install torch 'numpy<2'\n"
    "or point the HYPERFUSE_SITE_PACKAGES environment variable at a site-packages folder that holds torch, "
    "then restart QGIS. See the README, section 'PyTorch'.")


def require_torch():
    """Import torch, or raise a :class:`UserInputError` that says how to install it."""
    try:
        import torch
    except ImportError as exc:
        plugin = PLUGIN_DIR
        raise UserInputError(INSTALL_HINT.format(python=sys.version.split()[0], plugin=plugin)) from exc
    return torch


def select_device(name: str = "auto"):
    """A ``torch.device`` for ``auto`` (CUDA when available), ``cpu`` or ``cuda``."""
    torch = require_torch()
    if name not in DEVICES:
        raise UserInputError(f"Unknown device '{name}'; use one of {', '.join(DEVICES)}.")
    if name == "cuda" and not torch.cuda.is_available():
        raise UserInputError("DEVICE is cuda but PyTorch sees no CUDA GPU here. Choose auto or cpu, or install "
                             "a CUDA build of PyTorch that matches the GPU driver.")
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)


def numeric_platform(device) -> str:
    """What decides bit-level results of training: torch version, device and CPU instruction set.

    The same seed and inputs give identical weights on the same platform; other CPU kernels
    (AVX2 against AVX-512, say) round differently, and the differences grow over a run.
    """
    torch = require_torch()
    if getattr(device, "type", str(device)) == "cuda":
        return f"torch {torch.__version__}, CUDA {torch.version.cuda}, {torch.cuda.get_device_name(0)}"
    return (f"torch {torch.__version__}, CPU {torch.backends.cpu.get_cpu_capability()}, "
            f"{torch.get_num_threads()} threads")
