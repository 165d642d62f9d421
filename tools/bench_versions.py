"""The "Earlier and current architectures" section of docs/benchmark.md (run by tools/bench.py).

MLPLN and MHF-net changed architecture or loss to follow their papers more closely
(docs/methods.md): MLPLN's default is now the paper's sequence of concentric patches with a
linear regression head (the earlier box-means network stays as VARIANT = box means), and
MHF-net's loss is eq. 24's sums. Both versions were trained by the same bundled recipe
(tools/weights_recipe.py) on the same development scenes; this section runs the earlier
bundled weights (read from git at EARLIER_WEIGHTS_COMMIT) and the current ones side by side on
the same held-out parts, through the same fusion code as MODEL = weights file, without the
projection onto the inputs (PROJECTION = none), so that the rows compare the networks alone.
"""
from __future__ import annotations

import os
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The last commit whose bundled MLPLN and MHF-net weights are the earlier architectures.
EARLIER_WEIGHTS_COMMIT = "30793b0"
COMPARED_METHODS = ("mlpln", "mhfnet")


def earlier_weights(file_name: str, work: str) -> str | None:
    """The earlier bundled weights file, written into ``work``; None where git or the commit is missing."""
    destination = os.path.join(work, f"earlier_{file_name}")
    try:
        blob = subprocess.run(["git", "-C", ROOT, "show", f"{EARLIER_WEIGHTS_COMMIT}:weights/{file_name}"],
                              check=True, capture_output=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    with open(destination, "wb") as handle:
        handle.write(blob)
    return destination


def version_rows(preset, lr: str, ms: str, ref: str, ratio: int, window, work: str) -> list:
    """One row per (method, version): PSNR, SAM, ERGAS, SSIM on the held-out ``window``."""
    from hyperfuse.core import registry
    from hyperfuse.core.assessment.quality import assess_files
    from hyperfuse.core.inference import bundled, fusion
    from hyperfuse.core.inference import weights as weights_io
    from hyperfuse.core.inference.adaptation import PROJECTION_NONE

    rows = []
    for method_id in COMPARED_METHODS:
        method = registry.method(method_id)
        current = bundled.weights_path(method, preset)
        for version, weights in (("earlier", earlier_weights(os.path.basename(current), work)),
                                 ("current", current)):
            if weights is None:
                rows.append({"method": method.name, "version": version, "seconds": None,
                             "note": f"not run: weights of {EARLIER_WEIGHTS_COMMIT} not found in git"})
                continue
            output = os.path.join(work, f"{method_id}_{version}.tif")
            started = time.perf_counter()
            fusion.fuse_with_network(method, lr, ms, output, settings=fusion.NetworkFusionSettings(
                model=fusion.MODEL_WEIGHTS, weights_path=weights, device="cpu", projection=PROJECTION_NONE))
            seconds = time.perf_counter() - started
            scores = assess_files(ref, output, ratio, window=window)
            rows.append({"method": method.name, "version": version, "seconds": seconds,
                         "note": architecture_note(weights_io.load_weights(weights)[1], version), **scores})
            print(f"  {method.name:<8} {version:<8} PSNR {scores['PSNR']:6.2f}  SAM {scores['SAM']:6.3f}", flush=True)
    return rows


def architecture_note(card: dict, version: str) -> str:
    """What network the weights file holds (the card's hyperparameters; MHF-net's loss by version)."""
    hyper = card.get("hyperparameters", {})
    if card.get("method") == "mlpln":
        return "paper: concentric patches, linear head" if hyper.get("variant", 0) == 1 else \
            "box means, bicubic residual"
    if card.get("method") == "mhfnet":
        loss = "eq. 24 loss (sums)" if version == "current" else "loss of means"
        return f"{loss}, K = {hyper.get('stages')}, L = {hyper.get('levels', 1)}"
    return ""


def render_versions(sections: list) -> str:
    """``sections``: (title, rows) per held-out part."""
    from bench_common import metric_cells

    lines = ["## Earlier and current architectures (MLPLN, MHF-net)", "",
             __doc__.split("\n\n", 1)[1].strip().replace("\n", " ").replace(
                 "EARLIER_WEIGHTS_COMMIT", f"commit {EARLIER_WEIGHTS_COMMIT}"), "",
             "| scene and preset | method | version | PSNR dB ↑ | SAM ° ↓ | ERGAS ↓ | SSIM ↑ | network |",
             "|---|---|---|---|---|---|---|---|"]
    for title, rows in sections:
        lines += [f"| {title} | {row['method']} | {row['version']} | {metric_cells(row)} | {row['note']} |"
                  for row in rows]
    return "\n".join(lines) + "\n"
