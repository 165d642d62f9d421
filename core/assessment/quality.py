"""Quality assessment of fused rasters (PROTOCOL.md "Metrics"): files in, tables out.

With a reference, every fused raster gets the reference-based metrics; with the LR-HSI and
HR-MSI it was fused from, it also gets the no-reference QNR. Several fused rasters are
ranked on every metric. Outputs: a JSON of everything, a per-band CSV, a georeferenced
per-pixel SAM raster and the HTML report (:mod:`.report`).
"""
from __future__ import annotations

import contextlib
import csv
import json
import os
from dataclasses import replace

import numpy as np

from ..errors import UserInputError
from ..feedback import Feedback
from ..protocol import metrics
from ..protocol.degradation import DEFAULT_MTF_GAIN, PointSpread
from ..protocol.grids import check_grids, check_same_grid
from ..storage.files import atomic_path, write_text
from ..storage.raster_io import (OUTPUT_NODATA, RasterInfo, open_kept_together, open_raster, rasters_kept_open,
                                 write_raster)
from . import blockwise, blockwise_qnr

SUMMARY_KEYS = ("PSNR", "SAM", "ERGAS", "SSIM", "RMSE", "CC", "UIQI", "Q2n")
NO_REFERENCE_KEYS = ("QNR", "D_lambda", "D_s")


def assess_files(reference_path: str, fused_path: str, ratio: int, border: int = 0, window=None,
                 feedback: Feedback | None = None) -> dict:
    """Reference-based metrics of one fused raster; bands bad in either raster are excluded and listed.

    ``window`` (first row, first column, rows, columns) limits the comparison to part of the
    grid, such as the part of a scene held out from training. The rasters are read in strips
    (:mod:`.blockwise`), so memory does not grow with the raster. ``ratio`` 0 (not known)
    leaves ERGAS out with ``ERGAS_reason``.
    """
    if ratio != 0 and ratio < 2:
        raise UserInputError(f"RATIO must be the integer resolution ratio of the fusion, at least 2 (got {ratio}).")
    reference, fused = open_raster(reference_path), open_raster(fused_path)
    bands, excluded = _shared_bands(reference, fused)
    result = blockwise.assess_blocks(reference, fused, bands, ratio, border, window, feedback)
    result.update({"reference": reference_path, "fused": fused_path, "ratio": ratio, "border": border,
                   "window": window,
                   "bands_used": [b + 1 for b in bands], "bands_excluded": [b + 1 for b in excluded]})
    return result


def _shared_bands(reference: RasterInfo, fused: RasterInfo) -> tuple[list, list]:
    if reference.count != fused.count:
        raise UserInputError(f"The reference has {reference.count} bands and the fused raster '{fused.path}' "
                             f"{fused.count}; compare a fusion with the reference of the same HS image.")
    check_same_grid(reference, fused)
    bands = [b for b in reference.good_bands if b in set(fused.good_bands)]
    return bands, sorted(set(range(reference.count)) - set(bands))


def assess_no_reference(fused_path: str, lr_path: str, hr_path: str, mtf_gain: float = DEFAULT_MTF_GAIN,
                        feedback: Feedback | None = None) -> dict:
    """QNR of a fused raster against the LR-HSI and HR-MSI it was fused from, read strip by strip
    (:mod:`.blockwise_qnr`)."""
    fused, lr, hr = open_raster(fused_path), open_raster(lr_path), open_raster(hr_path)
    pair = check_grids(lr, hr)
    check_same_grid(_window_info(hr, pair.hr_window, pair.transform), fused, "fused raster")
    bands = [b for b in lr.good_bands if b in set(fused.good_bands)]
    result = blockwise_qnr.assess_qnr(fused, bands, lr, hr, pair, PointSpread.gaussian(pair.ratio, mtf_gain),
                                      feedback)
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
    otherwise LR_HSI against each fused raster (a fusion is on a grid r times finer). Without
    LR_HSI no grid says r: 0 stays 0, and ERGAS, the one metric scaled by r, is left out with a
    reason rather than failing a run that has everything else it needs.
    """
    if not lr_path:
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


def layer_names(paths: list) -> list:
    """The names the ranking shows: each file's name, or where two share one (the outputs of a Processing model
    are all 'OUTPUT.tif' in their own folders) the fusion method its metadata names, then the file's name."""
    stems = [os.path.splitext(os.path.basename(path))[0] for path in paths]
    if len(set(stems)) == len(stems):
        return stems
    import rasterio

    names = []
    for path, stem in zip(paths, stems):
        with rasterio.open(path) as dataset:
            method = dataset.tags().get("hyperfuse_method")
        names.append(f"{method} ({stem})" if method else stem)
    counts = {name: names.count(name) for name in names}
    seen = {}
    for i, name in enumerate(names):           # still the same: number them in the order given
        if counts[name] > 1:
            seen[name] = seen.get(name, 0) + 1
            names[i] = f"{name} #{seen[name]}"
    return names


def assess_layers(fused_paths: list, reference_path: str | None = None, lr_path: str | None = None,
                  hr_path: str | None = None, ratio: int = 0, border: int = 0,
                  mtf_gain: float = DEFAULT_MTF_GAIN, *, feedback: Feedback | None = None) -> dict:
    """Every fused raster against the reference and/or the inputs, with a ranking table."""
    if not fused_paths:
        raise UserInputError("FUSED: give at least one fused raster.")
    has_inputs = bool(lr_path and hr_path)
    if not reference_path and not has_inputs:
        raise UserInputError("Give a REFERENCE for reference-based metrics, or the LR_HSI and HR_MSI the fusion used "
                             "for the no-reference QNR (or all three).")
    feedback = feedback or Feedback()
    layers = []
    # QNR reads one raster and degrades it once; the reference metrics read two, twice, and window them.
    split = (0.75 if has_inputs else 1.0) if reference_path else 0.0
    with rasters_kept_open():         # the reference and the inputs are read for every layer
        ratio = checked_ratio(ratio, lr_path, hr_path, fused_paths)
        names = layer_names(fused_paths)
        open_kept_together([reference_path, *fused_paths, *((lr_path, hr_path) if has_inputs else ())])
        for index, path in enumerate(fused_paths):
            part = feedback.span(index / len(fused_paths), (index + 1) / len(fused_paths))
            entry = {"fused": path, "name": names[index]}
            if reference_path:
                entry.update(assess_files(reference_path, path, ratio, border, feedback=part.span(0.0, split)))
            if has_inputs:
                entry.update(assess_no_reference(path, lr_path, hr_path, mtf_gain, feedback=part.span(split, 1.0)))
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


def write_sam_map(path: str, reference_path: str, fused_path: str, feedback: Feedback | None = None,
                  angles: np.ndarray | None = None) -> np.ndarray:
    """Georeferenced per-pixel SAM (degrees) of ``fused_path``; nodata where either is invalid.

    ``angles``, the SAM map when the caller has already computed it, saves reading both rasters again.
    """
    reference = open_raster(reference_path)
    if angles is None:
        fused = open_raster(fused_path)
        bands, _ = _shared_bands(reference, fused)
        angles = blockwise.pixel_maps(reference, fused, bands, feedback or Feedback())["sam"]
    values = np.where(np.isfinite(angles), angles, OUTPUT_NODATA).astype(np.float32)[None]
    write_raster(path, values, reference.transform, reference.crs_wkt, band_names=["SAM (degrees)"],
                 dataset_tags={"hyperfuse_fused": fused_path, "hyperfuse_reference": reference_path})
    return angles


def write_outputs(assessment: dict, paths: dict, feedback: Feedback | None = None) -> dict:
    """Write the outputs of an :func:`assess_layers` result that ``paths`` asks for.

    ``paths`` maps "json", "csv", "html" and "sam_map" to a destination or None; the CSV and
    the SAM map need a reference and are left out without one. Every file is written to a
    temporary name and all are moved into place together at the end, so a cancel or an
    error while writing any of them leaves none of them behind. Returns the paths written.
    """
    from . import report  # matplotlib, only for runs that write a report

    feedback = feedback or Feedback()
    reference = assessment.get("reference")
    wanted = {key: path for key, path in paths.items() if path and (reference or key in ("json", "html"))}
    first = assessment["layers"][0]
    with contextlib.ExitStack() as stack:
        stack.enter_context(rasters_kept_open())       # the maps, the report and its spectra read the same rasters
        reference_info = open_raster(reference) if reference else None
        temporary = {key: stack.enter_context(atomic_path(path)) for key, path in wanted.items()}
        maps = None
        if reference and ("html" in wanted or "sam_map" in wanted):
            maps = blockwise.pixel_maps(reference_info, open_raster(first["fused"], scan_bad_bands=False),
                                        [b - 1 for b in first["bands_used"]], feedback.span(0.0, 0.3))
        feedback.check_cancelled()
        if "json" in wanted:
            write_json(temporary["json"], assessment)
        if "csv" in wanted:
            write_band_csv(temporary["csv"], assessment, reference_info.wavelengths_nm)
        if "sam_map" in wanted:
            feedback.check_cancelled()
            write_sam_map(temporary["sam_map"], reference, first["fused"], angles=maps["sam"])
        if "html" in wanted:
            report.write_html(temporary["html"], assessment, feedback.span(0.35, 1.0), maps)
        feedback.check_cancelled()
    return wanted
