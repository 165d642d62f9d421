"""Quality assessment of fused rasters (PROTOCOL.md "Metrics"): files in, tables out.

With a reference, every fused raster gets the reference-based metrics; with the LR-HSI and
HR-MSI it was fused from, it also gets the no-reference QNR. Several fused rasters are
ranked on every metric. Outputs: a JSON of everything, a per-band CSV, a georeferenced
per-pixel SAM raster and the HTML report (:mod:`.report`).
"""
from __future__ import annotations

import csv
import json
import os
from dataclasses import replace

import numpy as np

from ..errors import UserInputError
from ..protocol import metrics
from ..protocol.degradation import DEFAULT_MTF_GAIN, PointSpread
from ..protocol.grids import check_grids, check_same_grid
from ..storage.files import atomic_path, write_text
from ..storage.raster_io import OUTPUT_NODATA, RasterInfo, open_raster, read_block, read_raster, write_raster

SUMMARY_KEYS = ("PSNR", "SAM", "ERGAS", "SSIM", "RMSE", "CC", "UIQI", "Q2n")
NO_REFERENCE_KEYS = ("QNR", "D_lambda", "D_s")


def assess_files(reference_path: str, fused_path: str, ratio: int, border: int = 0, window=None) -> dict:
    """Reference-based metrics of one fused raster; bands bad in either raster are excluded and listed.

    ``window`` (first row, first column, rows, columns) limits the comparison to part of the
    grid, such as the part of a scene held out from training.
    """
    if ratio < 2:
        raise UserInputError(f"RATIO must be the integer resolution ratio of the fusion, at least 2 (got {ratio}).")
    reference, fused = open_raster(reference_path), open_raster(fused_path)
    bands, excluded = _shared_bands(reference, fused)
    ref_values, ref_valid = read_raster(reference, bands)
    fused_values, fused_valid = read_raster(fused, bands)
    valid = ref_valid & fused_valid
    if window is not None:
        row0, col0, rows, cols = window
        part = (slice(row0, row0 + rows), slice(col0, col0 + cols))
        ref_values, fused_values, valid = ref_values[(slice(None),) + part], fused_values[(slice(None),) + part], \
            valid[part]
    if not valid.any():
        raise UserInputError("The reference and the fused raster have no valid pixel in common.")
    result = metrics.assess(ref_values, fused_values, valid, ratio, border)
    result.update({"reference": reference_path, "fused": fused_path, "ratio": ratio, "border": border,
                   "window": window,
                   "bands_used": [b + 1 for b in bands], "bands_excluded": [b + 1 for b in excluded],
                   "invalid_pixels": int(valid.size - valid.sum())})
    return result


def _shared_bands(reference: RasterInfo, fused: RasterInfo) -> tuple[list, list]:
    if reference.count != fused.count:
        raise UserInputError(f"The reference has {reference.count} bands and the fused raster '{fused.path}' "
                             f"{fused.count}; compare a fusion with the reference of the same HS image.")
    check_same_grid(reference, fused)
    bands = [b for b in reference.good_bands if b in set(fused.good_bands)]
    return bands, sorted(set(range(reference.count)) - set(bands))


def assess_no_reference(fused_path: str, lr_path: str, hr_path: str, mtf_gain: float = DEFAULT_MTF_GAIN) -> dict:
    """QNR of a fused raster against the LR-HSI and HR-MSI it was fused from."""
    fused, lr, hr = open_raster(fused_path), open_raster(lr_path), open_raster(hr_path)
    pair = check_grids(lr, hr)
    check_same_grid(_window_info(hr, pair.hr_window, pair.transform), fused, "fused raster")
    bands = [b for b in lr.good_bands if b in set(fused.good_bands)]
    fused_values, fused_valid = read_raster(fused, bands)
    lr_values, lr_valid = read_block(lr, *pair.lr_window, bands)
    hr_values, hr_valid = read_block(hr, *pair.hr_window)
    result = metrics.qnr(fused_values, fused_valid & hr_valid, lr_values, lr_valid, hr_values, pair.ratio,
                         PointSpread.gaussian(pair.ratio, mtf_gain))
    result["ratio"] = pair.ratio
    return result


def _window_info(info: RasterInfo, window: tuple, transform: tuple) -> RasterInfo:
    """``info`` as if cropped to ``window`` (row0, col0, rows, cols) with ``transform``."""
    return replace(info, height=window[2], width=window[3], transform=transform)


def infer_ratio(lr_path: str, hr_path: str) -> int:
    return check_grids(open_raster(lr_path), open_raster(hr_path)).ratio


def checked_ratio(ratio: int, lr_path: str | None, hr_path: str | None, fused_paths: list) -> int:
    """RATIO as given, or inferred when 0; one that contradicts the grids is refused.

    The grids' ratio comes from core/protocol/grids.py: LR_HSI against HR_MSI when both are given,
    otherwise LR_HSI against each fused raster (a fusion is on a grid r times finer).
    """
    if not lr_path:
        if ratio == 0:
            raise UserInputError("RATIO is 0 (infer it), which needs LR_HSI and HR_MSI; give the ratio instead.")
        return ratio
    lr = open_raster(lr_path, scan_bad_bands=False)
    if hr_path:
        grids = [("the LR_HSI and HR_MSI grids", check_grids(lr, open_raster(hr_path, scan_bad_bands=False)).ratio)]
    else:
        grids = [(f"the LR_HSI grid and the grid of the fused raster '{path}'", _fused_ratio(lr, path))
                 for path in fused_paths]
    if ratio == 0:
        return grids[0][1]
    for what, grid_ratio in grids:
        if grid_ratio != ratio:
            raise UserInputError(f"RATIO is {ratio}, but {what} give a ratio of {grid_ratio}. Set RATIO to 0 to "
                                 f"infer it, or to {grid_ratio}.")
    return ratio


def _fused_ratio(lr: RasterInfo, fused_path: str) -> int:
    try:
        return check_grids(lr, open_raster(fused_path, scan_bad_bands=False)).ratio
    except UserInputError as error:
        raise UserInputError(f"The fused raster '{fused_path}' does not line up with the LR_HSI grid, so RATIO "
                             f"cannot be checked against it: {error}") from error


def rank(results: list, keys=SUMMARY_KEYS + NO_REFERENCE_KEYS) -> dict:
    """Rank (1 = best) of every result on every metric it has; ties share a rank."""
    ranks = {}
    for key in keys:
        values = [r.get(key) for r in results]
        if any(v is None or np.isnan(v) for v in values):     # +inf (a perfect PSNR) still ranks
            continue
        ordered = sorted(set(values), reverse=metrics.HIGHER_IS_BETTER[key])
        ranks[key] = [ordered.index(v) + 1 for v in values]
    if ranks:
        ranks["mean rank"] = [float(np.mean([ranks[k][i] for k in ranks])) for i in range(len(results))]
    return ranks


def assess_layers(fused_paths: list, reference_path: str | None = None, lr_path: str | None = None,
                  hr_path: str | None = None, ratio: int = 0, border: int = 0,
                  mtf_gain: float = DEFAULT_MTF_GAIN) -> dict:
    """Every fused raster against the reference and/or the inputs, with a ranking table."""
    if not fused_paths:
        raise UserInputError("FUSED: give at least one fused raster.")
    has_inputs = bool(lr_path and hr_path)
    if not reference_path and not has_inputs:
        raise UserInputError("Give a REFERENCE for reference-based metrics, or the LR_HSI and HR_MSI the fusion used "
                             "for the no-reference QNR (or all three).")
    ratio = checked_ratio(ratio, lr_path, hr_path, fused_paths)
    layers = []
    for path in fused_paths:
        entry = {"fused": path, "name": os.path.splitext(os.path.basename(path))[0]}
        if reference_path:
            entry.update(assess_files(reference_path, path, ratio, border))
        if has_inputs:
            entry.update(assess_no_reference(path, lr_path, hr_path, mtf_gain))
        layers.append(entry)
    return {"reference": reference_path, "lr_hsi": lr_path, "hr_msi": hr_path, "ratio": ratio, "border": border,
            "layers": layers, "ranking": rank(layers)}


def write_json(path: str, content) -> None:
    """``content`` as JSON; an index that could not be computed is null next to its ``<key>_reason``."""
    if isinstance(content, dict) and "layers" in content:
        content = {**content, "layers": [{k: None if f"{k}_reason" in layer else v for k, v in layer.items()}
                                         for layer in content["layers"]]}
    write_text(path, json.dumps(content, indent=2, default=float))


def write_band_csv(path: str, assessment: dict, wavelengths) -> None:
    """One row per band of the reference: wavelength, then PSNR, SSIM, CC, UIQI and RMSE of every layer."""
    layers = [layer for layer in assessment["layers"] if "per_band" in layer]
    if not layers:
        raise UserInputError("OUTPUT_CSV needs a REFERENCE: per-band metrics compare bands with it.")
    keys = ("PSNR", "SSIM", "CC", "UIQI", "RMSE")
    with atomic_path(path) as temp, open(temp, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["band", "wavelength_nm"] + [f"{layer['name']}:{k}" for layer in layers for k in keys])
        for i, band in enumerate(layers[0]["bands_used"]):
            wavelength = "" if wavelengths is None else f"{wavelengths[band - 1]:.2f}"
            row = [band, wavelength]
            for layer in layers:
                row += ["" if not np.isfinite(layer["per_band"][k][i]) else f"{layer['per_band'][k][i]:.6g}"
                        for k in keys]
            writer.writerow(row)


def write_sam_map(path: str, reference_path: str, fused_path: str) -> np.ndarray:
    """Georeferenced per-pixel SAM (degrees) of ``fused_path``; nodata where either is invalid."""
    reference, fused = open_raster(reference_path), open_raster(fused_path)
    bands, _ = _shared_bands(reference, fused)
    ref_values, ref_valid = read_raster(reference, bands)
    fused_values, fused_valid = read_raster(fused, bands)
    angles = metrics.sam_map(ref_values, fused_values, ref_valid & fused_valid)
    values = np.where(np.isfinite(angles), angles, OUTPUT_NODATA).astype(np.float32)[None]
    write_raster(path, values, reference.transform, reference.crs_wkt, band_names=["SAM (degrees)"],
                 dataset_tags={"hyperfuse_fused": fused_path, "hyperfuse_reference": reference_path})
    return angles
