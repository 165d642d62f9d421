"""Bundled models: the sensor pairs that weights/ covers, and MODEL = auto's choice among them.

Every file ``weights/<method>_<preset>.pt`` (and ``weights/<method>_generic.pt``, the generic
models of nets/generic.py) is trained by ``make weights`` (the recipe is in
tools/weights_recipe.py, a development tool the plugin never imports). ``make weights`` also
writes ``weights/index.json``: for every file, what matching needs (method, HS and MS band
counts and wavelengths, ratio, preset) and the file's SHA-256, taken from its model card.

MODEL = auto in the fusion algorithms matches the inputs against that index
(:func:`find_bundled_model`) with the rules a card is checked by (core/inference/weights.py:
method, band counts, wavelengths within tolerance, ratio), so no weights file is read
until one is chosen. The chosen file is then loaded, and validated, by weights.py.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass

from ..environment import PLUGIN_DIR
from ..errors import UserInputError
from ..feedback import Feedback
from ..protocol.srf import SpectralResponse
from ..protocol.srf import preset as srf_preset
from ..registry import NetworkMethod
from . import weights as weights_io

BUNDLED_DIR = os.path.join(PLUGIN_DIR, "weights")
INDEX_NAME = "index.json"
INDEX_FORMAT = "hyperfuse-bundled-index/1"
# What every index entry holds; matching reads the same fields a model card has.
INDEX_FIELDS = ("file", "method", "preset", "hs_bands", "ms_bands", "ratio", "hs_wavelengths_nm",
                "ms_wavelengths_nm", "sha256")
REINSTALL_ADVICE = ("Reinstall the plugin, or choose MODEL = train on the inputs or a weights file.")


@dataclass(frozen=True)
class BundledPreset:
    id: str                 # weights/<method>_<id>.pt
    label: str
    ratio: int
    ms_preset: str          # key of a spectral response preset (core/protocol/srf.py)
    ms_bands: tuple         # subset of its bands; empty keeps all
    hs_sensor: str | None   # a response preset key, or None: the training scenes' own bands

    def ms_response(self) -> SpectralResponse:
        response = srf_preset(self.ms_preset).load()
        return response.subset(list(self.ms_bands)) if self.ms_bands else response

    def hs_response(self) -> SpectralResponse | None:
        """The HS sensor as responses to simulate, or None when the training scenes are that sensor."""
        return None if self.hs_sensor is None else srf_preset(self.hs_sensor).load()


PRESETS = (
    BundledPreset("enmap_s2_r3", "EnMAP + Sentinel-2 10 m (B2, B3, B4, B8), ratio 3", 3, "s2a_10m", (), None),
    BundledPreset("olci_s2_r5", "Sentinel-3 OLCI 21 bands + Sentinel-2 (B2, B3, B4), ratio 5", 5, "s2a_all",
                  ("B2", "B3", "B4"), "s3a_olci"),
)


def preset(preset_id: str) -> BundledPreset:
    for candidate in PRESETS:
        if candidate.id == preset_id:
            return candidate
    raise KeyError(preset_id)


GENERIC_ID = "generic"


def weights_path(method: NetworkMethod, preset: BundledPreset) -> str:
    return os.path.join(BUNDLED_DIR, f"{method.id}_{preset.id}.pt")


def generic_weights_path(method: NetworkMethod) -> str:
    return os.path.join(BUNDLED_DIR, f"{method.id}_{GENERIC_ID}.pt")


def file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_index(folder: str = BUNDLED_DIR) -> list:
    """The entries of ``folder``/index.json; a clear error when it is missing or unreadable."""
    path = os.path.join(folder, INDEX_NAME)
    if not os.path.isfile(path):
        raise UserInputError(f"The bundled model index '{path}' is missing, so MODEL = auto cannot choose a bundled "
                             f"model: the installation is incomplete. {REINSTALL_ADVICE}")
    try:
        with open(path, encoding="utf-8") as handle:
            index = json.load(handle)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UserInputError(f"The bundled model index '{path}' cannot be read ({exc}). {REINSTALL_ADVICE}") from exc
    entries = index.get("models") if isinstance(index, dict) and index.get("format") == INDEX_FORMAT else None
    if not isinstance(entries, list) or not all(isinstance(e, dict) and set(INDEX_FIELDS) <= set(e)
                                                for e in entries):
        raise UserInputError(f"The bundled model index '{path}' is not a valid {INDEX_FORMAT} index: every entry "
                             f"needs {', '.join(INDEX_FIELDS)}. {REINSTALL_ADVICE}")
    return entries


def _fits(entry: dict, method: NetworkMethod, hs_bands: int, ms_bands: int, ratio: int, hs_wavelengths,
          ms_wavelengths) -> bool:
    try:
        weights_io.check_card(entry, method.id, hs_bands, ms_bands, ratio, hs_wavelengths, ms_wavelengths)
    except UserInputError:
        return False
    return True


def _verified(entry: dict, folder: str, feedback: Feedback) -> str | None:
    """The path of an index entry's file; None (with a note) when it is missing, an error when it is damaged."""
    path = os.path.join(folder, entry["file"])
    if not os.path.isfile(path):
        feedback.info(f"The bundled model {entry['file']} is listed in {INDEX_NAME} but missing from {folder}; skipped.")
        return None
    try:
        damaged = file_sha256(path) != entry["sha256"]
    except OSError as exc:
        raise weights_io.InvalidWeightsFile(f"The bundled weights file '{path}' cannot be read ({exc}). "
                                            f"{REINSTALL_ADVICE}") from exc
    if damaged:
        raise weights_io.InvalidWeightsFile(
            f"The bundled weights file '{path}' differs from the one installed (its SHA-256 does not match "
            f"{INDEX_NAME}): the installation is damaged. {REINSTALL_ADVICE}")
    return path


def find_bundled_model(method: NetworkMethod, hs_bands: int, ms_bands: int, ratio: int, hs_wavelengths,
                       ms_wavelengths=None, *, folder: str = BUNDLED_DIR,
                       feedback: Feedback | None = None) -> str | None:
    """The first sensor-specific bundled weights file whose index entry fits the inputs, if any; reads no
    weights file.

    A fitting file that is missing is skipped with a note; one whose SHA-256 differs from the
    index is a damaged installation, reported rather than skipped.
    """
    feedback = feedback or Feedback()
    for entry in read_index(folder):
        if entry.get("generic") or not _fits(entry, method, hs_bands, ms_bands, ratio, hs_wavelengths,
                                             ms_wavelengths):
            continue
        path = _verified(entry, folder, feedback)
        if path:
            return path
    return None


def find_generic_model(method: NetworkMethod, *, folder: str = BUNDLED_DIR,
                       feedback: Feedback | None = None) -> str | None:
    """The bundled generic model of ``method`` (nets/generic.py), if the installation has one."""
    feedback = feedback or Feedback()
    for entry in read_index(folder):
        if entry.get("generic") and entry["method"] == method.id:
            return _verified(entry, folder, feedback)
    return None
