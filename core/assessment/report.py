"""The self-contained HTML quality report: tables, plots and maps as embedded PNG images.

matplotlib (Debian's python3-matplotlib) draws the plots as plain ``Figure`` objects
rendered by Agg, without pyplot, so the report never changes the backend or state of a
QGIS session that also uses matplotlib. The maps are images of their own pixels in matplotlib's colour map,
encoded by Pillow (which python3-matplotlib depends on), with an HTML colour bar. Every image is embedded as
base64, so the report is one file that opens in any browser and can be mailed or archived as is.
"""
from __future__ import annotations

import base64
import datetime
import html
import io

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from PIL import Image

from ..feedback import Feedback
from ..protocol import metrics
from ..storage.files import ensure_writable, write_text
from ..storage.raster_io import RasterInfo, open_raster, read_block
from . import blockwise

SPECTRA_PIXELS = 3
MAP_SIDE = 720              # pixels of a map image's longer side at most (larger maps are averaged down)
MAP_DISPLAY_WIDTH = 400     # CSS pixels a map is shown at


def figure_png(figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def image_tag(png: str, alt: str) -> str:
    return f'<figure><img alt="{html.escape(alt)}" src="data:image/png;base64,{png}"/><figcaption>{html.escape(alt)}</figcaption></figure>'


def _summary_table(assessment: dict) -> str:
    layers, ranking = assessment["layers"], assessment["ranking"]
    keys = [k for k in ("PSNR", "SAM", "ERGAS", "SSIM", "RMSE", "CC", "UIQI", "Q2n", "QNR", "D_lambda", "D_s")
            if all(k in layer for layer in layers)]
    arrows = {k: ("↑" if metrics.HIGHER_IS_BETTER[k] else "↓") for k in keys}
    head = "".join(f"<th>{k} {arrows[k]}</th>" for k in keys)
    if "mean rank" in ranking:
        head += "<th>mean rank</th>"
    rows = []
    for i, layer in enumerate(layers):
        cells = []
        for k in keys:
            value, reason = layer[k], layer.get(f"{k}_reason")
            rank = ranking.get(k, [None] * len(layers))[i]
            text = f"{value:.4f}" if np.isfinite(value) else (
                "∞" if value == float("inf") else "not computed" if reason else "n/a")
            text = f"<b>{text}</b>" if rank == 1 and len(layers) > 1 else text
            title = f' title="{html.escape(reason)}"' if reason else ""       # the list below the table says it too
            cells.append(f"<td{title}>{text}{f' ({rank})' if rank and len(layers) > 1 else ''}</td>")
        if "mean rank" in ranking:
            cells.append(f"<td>{ranking['mean rank'][i]:.2f}</td>")
        rows.append(f"<tr><td>{html.escape(layer['name'])}</td>{''.join(cells)}</tr>")
    return (f'<table class="summary"><thead><tr><th>fused layer</th>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>" + _reasons(layers))


def _reasons(layers: list) -> str:
    """Why QNR or ERGAS is "not computed" in the table, in the words of the core (D_λ and D_s are in QNR's)."""
    items = [f"<li>{html.escape(layer['name'])}: {html.escape(layer[key])}</li>" for layer in layers
             for key in ("QNR_reason", "ERGAS_reason") if layer.get(key)]
    return f'<ul class="reasons">{"".join(items)}</ul>' if items else ""


def _per_band_plot(assessment: dict, key: str, wavelengths) -> str:
    figure = Figure(figsize=(7, 3))
    axis = figure.subplots()
    for layer in assessment["layers"]:
        x = [wavelengths[b - 1] if wavelengths is not None else b for b in layer["bands_used"]]
        axis.plot(x, layer["per_band"][key], label=layer["name"], linewidth=1)
    axis.set_xlabel("wavelength (nm)" if wavelengths is not None else "band")
    axis.set_ylabel(key)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    return figure_png(figure)


def _map_figure(image: np.ndarray, title: str, unit: str) -> str:
    """A per-pixel map as an image of its own pixels, averaged down to at most MAP_SIDE a side, in magma from 0 to
    the 99th percentile of its values (white where it has none), with an HTML colour bar: drawn as a matplotlib
    figure, a 240² map took 0.2 s, most of it laying out the axes' text."""
    finite = image[np.isfinite(image)]
    top = (float(np.percentile(finite, 99)) if finite.size else 1.0) or 1.0
    shown = _averaged_down(image, MAP_SIDE)
    with np.errstate(invalid="ignore"):
        colours = colormaps["magma"](np.clip(shown / top, 0.0, 1.0), bytes=True)
    colours[~np.isfinite(shown)] = 255
    buffer = io.BytesIO()
    Image.fromarray(colours[..., :3]).save(buffer, format="png")
    png = base64.b64encode(buffer.getvalue()).decode("ascii")
    stops = ", ".join("#{:02x}{:02x}{:02x}".format(*colormaps["magma"](f, bytes=True)[:3])
                      for f in np.linspace(0.0, 1.0, 9))
    width = MAP_DISPLAY_WIDTH
    height = round(width * shown.shape[0] / shown.shape[1])
    return (f'<figure><img alt="{html.escape(title)}" width="{width}" height="{height}" '
            f'style="image-rendering:pixelated" src="data:image/png;base64,{png}"/>'
            f'<div class="colourbar" style="width:{width}px;background:linear-gradient(to right, {stops})"></div>'
            f'<div class="scale" style="width:{width}px"><span>0</span><span>{top:.4g} {html.escape(unit)} and above '
            f"(the 99th percentile)</span></div>"
            f"<figcaption>{html.escape(title)}</figcaption></figure>")


def _averaged_down(image: np.ndarray, side: int) -> np.ndarray:
    """``image`` averaged over square blocks of pixels so that neither side exceeds ``side`` (NaN, no value, is left
    out of a block's mean; a block without a value is NaN)."""
    factor = -(-max(image.shape) // side)
    if factor <= 1:
        return image
    rows, cols = (-(-n // factor) * factor for n in image.shape)
    padded = np.full((rows, cols), np.nan)
    padded[:image.shape[0], :image.shape[1]] = image
    blocks = padded.reshape(rows // factor, factor, cols // factor, factor)
    counts = np.isfinite(blocks).sum(axis=(1, 3))
    sums = np.where(np.isfinite(blocks), blocks, 0.0).sum(axis=(1, 3))
    return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def _spectra_plot(reference: RasterInfo, layers: list, bands: list, first_maps: dict, wavelengths) -> str:
    """Reference against fused spectra at the pixels of lowest, median and highest SAM of the first layer.

    ``layers`` holds (name, RasterInfo) pairs; only the three pixels' spectra are read.
    """
    sam_first, valid = first_maps["sam"], first_maps["valid"]
    finite = np.flatnonzero(np.isfinite(sam_first.ravel()) & valid.ravel())
    order = finite[np.argsort(sam_first.ravel()[finite])]
    picks = [order[0], order[len(order) // 2], order[-1]][:SPECTRA_PIXELS]
    labels = ["lowest SAM", "median SAM", "highest SAM"]
    x = wavelengths if wavelengths is not None else np.arange(1, len(bands) + 1)
    figure = Figure(figsize=(11, 3))
    axes = figure.subplots(1, len(picks))
    for axis, pick, label in zip(np.atleast_1d(axes), picks, labels):
        row, col = divmod(int(pick), valid.shape[1])
        axis.plot(x, read_block(reference, row, col, 1, 1, bands)[0][:, 0, 0], color="black", linewidth=1.5,
                  label="reference")
        for name, info in layers:
            axis.plot(x, read_block(info, row, col, 1, 1, bands)[0][:, 0, 0], linewidth=1, label=name)
        axis.set_title(f"pixel ({row}, {col}), {label}", fontsize=9)
        axis.grid(alpha=0.3)
    np.atleast_1d(axes)[0].legend(fontsize=7)
    return figure_png(figure)


def write_html(path: str, assessment: dict, feedback: Feedback | None = None, first_maps: dict | None = None) -> None:
    """Write the report for an :func:`assessment.assess_layers` result.

    ``first_maps``, :func:`.blockwise.pixel_maps` of the first layer when the caller has them,
    saves reading it again.
    """
    feedback = feedback or Feedback()
    ensure_writable(path)
    parts = [f"<h1>HyperFuse quality report</h1><p>{html.escape(datetime.datetime.now().isoformat(timespec='seconds'))}"
             f" · ratio {assessment['ratio'] or 'not known'} · border {assessment['border']} px</p>",
             "<h2>Summary</h2>", _summary_table(assessment)]
    if assessment.get("reference"):
        parts += _reference_sections(assessment, feedback, first_maps)
    feedback.check_cancelled()
    write_text(path, html_document("HyperFuse quality report", parts))
    feedback.progress(1.0)


def _reference_sections(assessment: dict, feedback: Feedback, first_maps: dict | None) -> list:
    """Per-band plots, the SAM and error maps of every layer and the spectra, read strip by strip."""
    reference = open_raster(assessment["reference"])
    layers = assessment["layers"]
    bands = [b - 1 for b in layers[0]["bands_used"]]
    wavelengths = reference.wavelengths_nm
    parts = []
    if layers[0]["bands_excluded"]:
        parts.append(f"<p>Bands excluded (nodata everywhere): {layers[0]['bands_excluded']}</p>")
    parts.append("<h2>Per band</h2>")
    for key in ("PSNR", "SSIM"):
        feedback.check_cancelled()
        parts.append(image_tag(_per_band_plot(assessment, key, wavelengths), f"{key} per band"))
    parts.append("<h2>Maps</h2>")
    infos = []
    for index, layer in enumerate(layers):
        part = feedback.span(0.05 + 0.85 * index / len(layers), 0.05 + 0.85 * (index + 1) / len(layers))
        infos.append((layer["name"], open_raster(layer["fused"], scan_bad_bands=False)))
        maps = first_maps if index == 0 and first_maps is not None else \
            blockwise.pixel_maps(reference, infos[-1][1], bands, part.span(0.0, 0.7))
        first_maps = maps if index == 0 else first_maps
        part.progress(0.7)
        part.check_cancelled()
        parts.append(_map_figure(maps["sam"], f"SAM map of {layer['name']}", "degrees"))
        part.progress(0.85)
        part.check_cancelled()
        parts.append(_map_figure(maps["error"], f"Error map (RMSE over bands) of {layer['name']}", "data units"))
        part.progress(1.0)
    feedback.check_cancelled()
    parts.append("<h2>Spectra</h2>")
    band_wavelengths = None if wavelengths is None else [wavelengths[b] for b in bands]
    parts.append(image_tag(_spectra_plot(reference, infos, bands, first_maps, band_wavelengths),
                           "Reference and fused spectra"))
    return parts


STYLE = ("body{font-family:sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse}"
         "td,th{border:1px solid #bbb;padding:4px 8px;text-align:right}td:first-child{text-align:left}"
         "figure{display:inline-block;margin:0.5em;vertical-align:top}figcaption{font-size:small;color:#555}"
         ".colourbar{height:10px;margin-top:4px}.scale{display:flex;justify-content:space-between;font-size:small}")


def html_document(title: str, parts: list) -> str:
    """One self-contained HTML page from body fragments, in the style of every HyperFuse report."""
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head><body>{''.join(parts)}</body></html>")
