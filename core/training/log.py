"""The HTML training log: loss curve, validation curve and metrics, and the model card.

One self-contained page (figures embedded as PNG, see :mod:`.report`), so a training run
can be checked, archived or sent along with its weights file.
"""
from __future__ import annotations

import html
import json

import numpy as np
from matplotlib.figure import Figure

from ..assessment.report import figure_png, html_document, image_tag
from ..storage.files import ensure_writable, write_text
from .trainer import VALIDATION_KEYS, TrainingReport


def _smoothed(values: list, window: int) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if values.size < window or window < 2:
        return values
    kernel = np.ones(window) / window
    return np.convolve(values, kernel, mode="valid")


def _curves_png(report: TrainingReport) -> str:
    figure = Figure(figsize=(10, 3.4))
    loss_axes, psnr_axes = figure.subplots(1, 2)
    steps = np.arange(1, len(report.losses) + 1)
    loss_axes.plot(steps, report.losses, color="#bbb", linewidth=0.7, label="per step")
    window = max(2, len(report.losses) // 25)
    smooth = _smoothed(report.losses, window)
    loss_axes.plot(steps[window - 1:] if smooth.size < steps.size else steps, smooth, color="C0",
                   label=f"mean of {window} steps")
    loss_axes.set_xlabel("step")
    loss_axes.set_ylabel("training loss (network's own loss)")
    loss_axes.set_yscale("log")
    loss_axes.legend(fontsize=7)
    curve_steps = [c["step"] for c in report.curve]
    psnr_axes.plot(curve_steps, [c["PSNR"] for c in report.curve], "o-", color="C1", markersize=3,
                   label="validation PSNR")
    if "bicubic_PSNR" in report.validation:
        psnr_axes.axhline(report.validation["bicubic_PSNR"], color="#888", linestyle="--", label="bicubic")
    psnr_axes.axvline(report.best_step, color="C2", linestyle=":", label=f"weights kept (step {report.best_step})")
    psnr_axes.set_xlabel("step")
    psnr_axes.set_ylabel("PSNR (dB)")
    sam_axes = psnr_axes.twinx()
    sam_axes.plot(curve_steps, [c["SAM"] for c in report.curve], "s--", color="C3", markersize=3, linewidth=0.8,
                  label="validation SAM")
    sam_axes.set_ylabel("SAM (°)")
    lines = psnr_axes.get_legend_handles_labels()
    more = sam_axes.get_legend_handles_labels()
    psnr_axes.legend(lines[0] + more[0], lines[1] + more[1], fontsize=7, loc="lower right")
    figure.tight_layout()
    return figure_png(figure)


def _metrics_table(report: TrainingReport) -> str:
    head = "".join(f"<th>{k}</th>" for k in VALIDATION_KEYS)
    rows = []
    for part in report.validation_parts:
        label = f"{part['name']} rows {part['window'][0]}–{part['window'][0] + part['window'][2] - 1}, " \
                f"columns {part['window'][1]}–{part['window'][1] + part['window'][3] - 1}"
        for prefix, who in (("", "trained network"), ("bicubic_", "bicubic")):
            cells = "".join(f"<td>{part[prefix + k]:.4f}</td>" for k in VALIDATION_KEYS)
            rows.append(f"<tr><td>{html.escape(label)}: {who}</td>{cells}</tr>")
    return f"<table><thead><tr><th>validation part</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def write_training_log(path: str, card: dict, report: TrainingReport) -> None:
    ensure_writable(path)
    parts = [f"<h1>HyperFuse training log: {html.escape(card['method'])}</h1>",
             f"<p>{report.steps} steps in {report.seconds:.1f} s; {html.escape(report.stopped_because)}. "
             f"The weights kept are those of step {report.best_step}, the best validation PSNR. "
             f"Validation on the {html.escape(report.validated_on)}.</p>",
             *([f"<p><strong>Warning: {html.escape(report.warning)}</strong></p>"] if report.warning else []),
             "<h2>Curves</h2>", image_tag(_curves_png(report), "Training loss and validation metrics"),
             "<h2>Validation metrics of the weights kept</h2>", _metrics_table(report),
             "<h2>Validation checks</h2>",
             "<table><thead><tr><th>step</th><th>mean training loss</th>"
             + "".join(f"<th>{k}</th>" for k in VALIDATION_KEYS) + "</tr></thead><tbody>"
             + "".join(f"<tr><td>{c['step']}</td><td>{c['loss']:.5f}</td>"
                       + "".join(f"<td>{c[k]:.4f}</td>" for k in VALIDATION_KEYS) + "</tr>" for c in report.curve)
             + "</tbody></table>",
             "<h2>Model card</h2>",
             f"<pre>{html.escape(json.dumps(card, indent=1, default=str))}</pre>"]
    write_text(path, html_document(f"HyperFuse training log: {card['method']}", parts))
