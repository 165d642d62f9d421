"""Quality assessment of fused rasters against a reference (PROTOCOL.md "Metrics")."""
from __future__ import annotations

import json
import os

from . import metrics
from .errors import UserInputError
from .grids import check_same_grid
from .raster_io import open_raster, read_raster

SUMMARY_KEYS = ("PSNR", "SAM", "ERGAS", "SSIM", "RMSE", "CC")


def assess_files(reference_path: str, fused_path: str, ratio: int, border: int = 0) -> dict:
    """Metrics of one fused raster; bands bad in either raster are excluded and listed."""
    if ratio < 2:
        raise UserInputError(f"RATIO must be the integer resolution ratio of the fusion, at least 2 (got {ratio}).")
    reference, fused = open_raster(reference_path), open_raster(fused_path)
    if reference.count != fused.count:
        raise UserInputError(f"The reference has {reference.count} bands and the fused raster {fused.count}; "
                             "compare a fusion with the reference of the same HS image.")
    check_same_grid(reference, fused)
    bands = [b for b in reference.good_bands if b in set(fused.good_bands)]
    excluded = sorted(set(range(reference.count)) - set(bands))
    ref_values, ref_valid = read_raster(reference, bands)
    fused_values, fused_valid = read_raster(fused, bands)
    valid = ref_valid & fused_valid
    if not valid.any():
        raise UserInputError("The reference and the fused raster have no valid pixel in common.")
    result = metrics.assess(ref_values, fused_values, valid, ratio, border)
    result.update({"reference": reference_path, "fused": fused_path, "ratio": ratio, "border": border,
                   "bands_used": [b + 1 for b in bands], "bands_excluded": [b + 1 for b in excluded],
                   "invalid_pixels": int(valid.size - valid.sum())})
    return result


def write_json(path: str, content) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder) or not os.access(folder, os.W_OK):
        raise UserInputError(f"Cannot write '{path}': the folder is missing or not writable.")
    temp = path + ".partial"
    with open(temp, "w", encoding="utf-8") as handle:
        json.dump(content, handle, indent=2, default=float)
    os.replace(temp, path)
