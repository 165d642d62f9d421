"""Weights files: a state dict plus a model card, loaded without executing code.

A weights file is a ``torch.save`` of ``{"format": …, "card": {…}, "state_dict": {…}}``
holding only tensors, strings, numbers, lists and dicts. Loading uses
``torch.load(weights_only=True)``, whose restricted unpickler refuses any other object,
so a crafted file cannot run code. The card says what the weights are for (method,
hyper-parameters, bands, wavelengths, ratio, training) and is checked against the inputs
before a model is built.
"""
from __future__ import annotations

import datetime
import os
import pickle
import zipfile

from .errors import UserInputError
from .files import atomic_path
from .torch_support import require_torch

FORMAT = "hyperfuse-weights/1"
WAVELENGTH_TOLERANCE_NM = 5.0      # HS band centres: the same sensor, different processing versions
MS_WAVELENGTH_TOLERANCE_NM = 15.0  # MS band centres: Sentinel-2A against 2B; not Landsat's NIR, 32 nm off B8


def _wavelength_range(values) -> str:
    return f"{len(values)} bands at {min(values):.0f}–{max(values):.0f} nm"


def plugin_version() -> str:
    path = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "metadata.txt")
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("version="):
                    return line.split("=", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def make_card(method_id: str, hyperparameters: dict, hs_bands: int, hs_wavelengths, ms_bands: int,
              ms_description: str, ratio: int, training: dict, validation: dict, seed: int,
              ms_wavelengths=None) -> dict:
    """The model card: what the weights are for and how they were obtained (DESIGN.md "Weights")."""
    return {
        "method": method_id,
        "hyperparameters": dict(hyperparameters),
        "hs_bands": int(hs_bands),
        "hs_wavelengths_nm": None if hs_wavelengths is None else [float(w) for w in hs_wavelengths],
        "ms_bands": int(ms_bands),
        "ms_description": ms_description,
        "ms_wavelengths_nm": None if ms_wavelengths is None else [float(w) for w in ms_wavelengths],
        "ratio": int(ratio),
        "training": training,
        "validation": validation,
        "seed": int(seed),
        "plugin_version": plugin_version(),
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def save_weights(path: str, model, card: dict) -> None:
    """Write atomically: a temporary file next to ``path`` renamed when complete."""
    torch = require_torch()
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    with atomic_path(path) as temp:
        torch.save({"format": FORMAT, "card": card, "state_dict": state}, temp)


def load_weights(path: str) -> tuple[dict, dict]:
    """(state_dict, card) of a weights file; never unpickles arbitrary objects."""
    torch = require_torch()
    if not path or not os.path.isfile(path):
        raise UserInputError(f"The weights file '{path}' does not exist. Choose a file written by HyperFuse "
                             "(OUTPUT_WEIGHTS of a fusion or the training algorithm).")
    try:
        content = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise UserInputError(
            f"The weights file '{path}' was refused: it holds objects other than tensors and plain data, which "
            "could run code when loaded. Only use weights files written by HyperFuse.") from exc
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UserInputError(f"The weights file '{path}' is truncated or corrupt ({exc}). Write it again, or "
                             "choose another file.") from exc
    if not isinstance(content, dict) or content.get("format") != FORMAT or "state_dict" not in content:
        raise UserInputError(f"'{path}' is not a HyperFuse weights file (format {FORMAT}).")
    return content["state_dict"], content["card"]


def check_card(card: dict, method_id: str, hs_bands: int, ms_bands: int, ratio: int, hs_wavelengths=None,
               ms_wavelengths=None) -> None:
    """Refuse weights that were trained for something else, naming expected against actual."""
    problems = []
    if card.get("method") != method_id:
        problems.append(f"method: the file is for {card.get('method')}, this algorithm is {method_id}")
    if card.get("hs_bands") != hs_bands:
        problems.append(f"HS bands: the file expects {card.get('hs_bands')}, the LR-HSI has {hs_bands} usable bands")
    if card.get("ms_bands") != ms_bands:
        problems.append(f"MS bands: the file expects {card.get('ms_bands')}, the HR-MSI has {ms_bands}")
    if card.get("ratio") != ratio:
        problems.append(f"ratio: the file expects {card.get('ratio')}, the inputs have ratio {ratio}")
    for kind, expected, actual, tolerance in (("HS", card.get("hs_wavelengths_nm"), hs_wavelengths,
                                               WAVELENGTH_TOLERANCE_NM),
                                              ("MS", card.get("ms_wavelengths_nm"), ms_wavelengths,
                                               MS_WAVELENGTH_TOLERANCE_NM)):
        if problems or not expected or actual is None:
            continue
        worst = max(abs(a - b) for a, b in zip(expected, actual))
        if worst > tolerance:
            problems.append(f"{kind} wavelengths differ by up to {worst:.1f} nm (the file expects "
                            f"{_wavelength_range(expected)}, the inputs have {_wavelength_range(actual)}; "
                            f"tolerance {tolerance:g} nm)")
    if problems:
        raise UserInputError("The weights file does not fit the inputs: " + "; ".join(problems) +
                             ". Use weights trained for these inputs, or choose MODEL = train on the inputs.")


def build_model(method, path: str, hs_bands: int, ms_bands: int, ratio: int, hs_wavelengths=None,
                ms_wavelengths=None):
    """(model, card) from a weights file whose card has been checked against the inputs."""
    from ..nets.blocks import FusionModel

    state, card = load_weights(path)
    check_card(card, method.id, hs_bands, ms_bands, ratio, hs_wavelengths, ms_wavelengths)
    net = method.build(hs_bands, ms_bands, ratio, **card.get("hyperparameters", {}))
    model = FusionModel(net, hs_bands, ms_bands)
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise UserInputError(f"The weights in '{path}' do not fit the {method.name} network they claim to be for "
                             f"({str(exc).splitlines()[0]}). The file may be damaged; write it again.") from exc
    return model, card
