"""The benchmark of every method (`make bench`): writes docs/benchmark.md and prints it.

One table per scene and sensor preset. The inputs are simulated from a development scene
in ../shared/data by the protocol (PROTOCOL.md: Gaussian PSF with MTF gain 0.25, no noise,
seed 0), as for the bundled models (tools/weights_recipe.py), and every row is run through the
same code as the Processing algorithms:

- the five networks with MODEL = auto (the bundled model the card matches), in the tables of a
  bundled preset;
- the five networks trained on the inputs (MODEL = train on the inputs, the default
  budget of 300 steps, seed 0);
- the classical baselines and bicubic, with their default settings.

Scenes are read as the bundled models were trained (tools/weights_recipe.py): AVIRIS, stored as
reflectance × 10⁴ without a GDAL scale, as reflectance; the MUUFL crop's corner outside the
flight strip, which the file fills with one constant spectrum, as nodata.

Metrics come from the quality-assessment core on the part of the scene held out from the
bundled models' training (the last fifth of the longer side, core/training/trainer.py), so every
row is judged on pixels no model was fitted to. Wall time is the whole fusion run (reading,
training where there is any, inference and writing the GeoTIFF).
"""
from __future__ import annotations

import argparse
import datetime
import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUTPUT = os.path.join(ROOT, "docs", "benchmark.md")
SEED = 0
# (row label, classical registry id, options): SFIM is GLP with the box low-pass.
CLASSICAL_RUNS = (("GSA", "gsa", {}), ("MTF-GLP-HS", "glp", {"lowpass": "mtf"}), ("SFIM-HS", "glp", {"lowpass": "box"}),
                  ("CNMF", "cnmf", {}), ("HySure", "hysure", {}), ("bicubic", "bicubic", {}))


def tables():
    """(scene, bundled preset or None, title): the scenes each preset was trained on, and AVIRIS as itself."""
    import weights_recipe

    for recipe in weights_recipe.RECIPES:
        for scene in recipe.scenes:
            yield scene, recipe.preset, f"{scene}: {recipe.preset.label}"
    yield "aviris_santa_barbara.tif", None, ("aviris_santa_barbara.tif: its own 224 bands + Sentinel-2A 10 m "
                                             "(B2, B3, B4, B8), ratio 3 (no bundled model)")


def simulate(scene_path: str, preset, work: str):
    import weights_recipe
    from hyperfuse.core.protocol import simulation, srf

    lr, ms, ref = (os.path.join(work, f"{n}.tif") for n in ("lr", "ms", "ref"))
    if preset is None:
        ratio, ms_response, hs_response = 3, srf.preset("s2a_10m").load(), None
    else:
        ratio, ms_response = preset.ratio, preset.ms_response()
        hs_response = preset.hs_response()
    # Read as the bundled models were trained: in reflectance, fill spectra as nodata (tools/weights_recipe.py).
    scene = weights_recipe.development_scene(scene_path, work)
    settings = simulation.SimulationSettings(ratio=ratio, srf=ms_response, seed=SEED, hs_response=hs_response)
    simulation.simulate(scene, settings, lr, ms, ref)
    return lr, ms, ref, ratio


def held_out_window(lr_path: str, ratio: int):
    """The HR window the trainer holds out of this scene (the same rule for every row)."""
    from hyperfuse.core.storage.raster_io import open_raster
    from hyperfuse.core.training.trainer import TrainingConfig, validation_window

    lr = open_raster(lr_path)
    row0, col0, rows, cols = validation_window(lr.height, lr.width, TrainingConfig.validation_fraction)
    return row0 * ratio, col0 * ratio, rows * ratio, cols * ratio


def run_rows(lr: str, ms: str, ref: str, ratio: int, window, work: str, with_bundled: bool,
             with_training: bool = True) -> list:
    from bench_common import measure_row
    from hyperfuse.core import registry
    from hyperfuse.core.classical.run import fuse_classical
    from hyperfuse.core.inference import fusion
    from hyperfuse.core.inference.adaptation import PROJECTION_BOTH, PROJECTION_NONE

    rows = []

    def measure(group: str, label: str, run) -> None:
        measure_row(rows, group, label, run, work=work, ref=ref, ratio=ratio, window=window)

    for group, projection in (("bundled model", PROJECTION_BOTH), ("bundled model, no projection", PROJECTION_NONE)):
        for method in registry.METHODS.values() if with_bundled else ():
            def bundled_run(output, method=method, projection=projection):
                result = fusion.fuse_with_network(method, lr, ms, output, settings=fusion.NetworkFusionSettings(
                    model=fusion.MODEL_AUTO, seed=SEED, device="cpu", projection=projection))
                return result.model_source
            measure(group, method.name, bundled_run)
    for method in registry.METHODS.values() if with_training else ():
        def trained_run(output, method=method):
            result = fusion.fuse_with_network(method, lr, ms, output, settings=fusion.NetworkFusionSettings(
                model=fusion.MODEL_TRAIN, seed=SEED, device="cpu"))
            return f"{result.training['steps']} steps"
        measure("trained on the inputs", method.name, trained_run)
    for label, method_id, options in CLASSICAL_RUNS:
        measure("classical" if method_id != "bicubic" else "baseline", label,
                lambda output, method_id=method_id, options=options: fuse_classical(method_id, lr, ms, output,
                                                                                    **options) and None)
    for label, method_id, options in CLASSICAL_RUNS:
        measure("classical + projection", label,
                lambda output, method_id=method_id, options=options: fuse_classical(
                    method_id, lr, ms, output, projection=PROJECTION_BOTH, **options) and None)
    return rows


NETWORK_GROUPS = ("bundled model", "trained on the inputs")
CLASSICAL_GROUPS = ("classical",)    # the published baselines with their defaults (no projection)


def scored(rows: list, groups) -> list:
    return [r for r in rows if r["group"] in groups and r["seconds"] is not None]


def best_row(rows: list) -> dict:
    return max(rows, key=lambda r: r["PSNR"])


def render(title: str, rows: list, window, bundled_expected: bool) -> str:
    from bench_common import metric_cells

    bicubic = next(r for r in rows if r["method"] == "bicubic")
    lines = [f"## {title}", "",
             f"Held-out part: HR rows {window[0]}–{window[0] + window[2] - 1}, columns "
             f"{window[1]}–{window[1] + window[3] - 1}.", "",
             "| rows | method | PSNR dB ↑ | SAM ° ↓ | ERGAS ↓ | SSIM ↑ | wall s | model / note |",
             "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        seconds = "–" if row["seconds"] is None else f"{row['seconds']:.1f}"
        lines.append(f"| {row['group']} | {row['method']} | {metric_cells(row)} | {seconds} | {row['note']} |")
    lines.append("")
    if bundled_expected:
        bundled_rows = [r for r in rows if r["group"] == "bundled model"]
        losers = [r["method"] for r in bundled_rows
                  if r["seconds"] is None or not r["note"].endswith(".pt")
                  or not (r["PSNR"] > bicubic["PSNR"] and r["SAM"] < bicubic["SAM"])]
        lines.append(f"- Every bundled network beats bicubic on PSNR and SAM: "
                     f"{'**yes**' if not losers else '**no** (' + ', '.join(losers) + ')'}.")
    net, classic = best_row(scored(rows, NETWORK_GROUPS)), best_row(scored(rows, CLASSICAL_GROUPS))
    verdict = "beats" if net["PSNR"] > classic["PSNR"] else "does **not** beat"
    lines.append(f"- The best network ({net['method']}, {net['group']}, {net['PSNR']:.2f} dB) {verdict} the best "
                 f"classical baseline ({classic['method']}, {classic['PSNR']:.2f} dB) on PSNR in this scene.")
    return "\n".join(lines) + "\n"


def render_preset_summary(preset, scene_rows: list) -> str:
    """Each method's PSNR averaged over the held-out parts of every scene of a preset."""
    means = {}
    for rows in scene_rows:
        for row in rows:
            if row["seconds"] is not None:
                means.setdefault((row["group"], row["method"]), []).append(row["PSNR"])
    means = {key: sum(v) / len(v) for key, v in means.items() if len(v) == len(scene_rows)}
    parts = f"{len(scene_rows)} held-out part" + ("s" if len(scene_rows) > 1 else "")
    lines = [f"### {preset.label}: mean over its {parts}", "",
             "| rows | method | mean PSNR dB ↑ |", "|---|---|---|"]
    lines += [f"| {group} | {method} | {value:.2f} |" for (group, method), value in means.items()]
    networks = {k: v for k, v in means.items() if k[0] in NETWORK_GROUPS}
    classical = {k: v for k, v in means.items() if k[0] in CLASSICAL_GROUPS}
    net, classic = max(networks, key=networks.get), max(classical, key=classical.get)
    verdict = "beats" if networks[net] > classical[classic] else "does **not** beat"
    lines += ["", f"- Over the preset, the best network ({net[1]}, {net[0]}, {networks[net]:.2f} dB) {verdict} the "
              f"best classical baseline ({classic[1]}, {classical[classic]:.2f} dB) on PSNR."]
    return "\n".join(lines) + "\n"


def replace_section(path: str, section: str) -> None:
    """Put ``section`` (starting with its "## " title) in place of the section of that title in ``path``, or at
    its end."""
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    title = section.split("\n", 1)[0] + "\n"
    start = text.find(title)
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + len(title))
        text = text[:start] + section + ("" if end < 0 else text[end:])
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    print(section)
    print(f"updated {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=OUTPUT)
    parser.add_argument("--no-training", action="store_true",
                        help="leave out the rows trained on the inputs (most of the run time)")
    parser.add_argument("--only-generalisation", action="store_true",
                        help="rerun only the Generalisation section and replace it in --output")
    args = parser.parse_args()
    import torch
    import weights_recipe
    from bench_common import hardware
    from bench_generalisation import generalisation_results, render as render_generalisation
    from bench_versions import render_versions, version_rows

    if args.only_generalisation:
        replace_section(args.output, render_generalisation(generalisation_results(weights_recipe.SHARED_DATA)))
        return

    sections, by_preset, versions = [], {}, []
    for scene, preset, title in tables():
        if preset is None and args.no_training:
            continue    # without a bundled model, only training gives network rows
        path = os.path.join(weights_recipe.SHARED_DATA, scene)
        if not os.path.exists(path):
            sys.exit(f"{path} is missing: this benchmark needs ../shared/data.")
        print(title, flush=True)
        work = tempfile.mkdtemp(prefix="hyperfuse-bench-")
        lr, ms, ref, ratio = simulate(path, preset, work)
        window = held_out_window(lr, ratio)
        rows = run_rows(lr, ms, ref, ratio, window, work, with_bundled=preset is not None,
                        with_training=not args.no_training)
        sections.append(render(title, rows, window, preset is not None))
        if preset is not None:
            by_preset.setdefault(preset.id, (preset, []))[1].append(rows)
            versions.append((f"{scene}: {preset.label}", version_rows(preset, lr, ms, ref, ratio, window, work)))
    sections.append("## Per preset\n")
    sections += [render_preset_summary(preset, scene_rows) for preset, scene_rows in by_preset.values()]
    sections.append(render_versions(versions))
    sections.append(render_generalisation(generalisation_results(weights_recipe.SHARED_DATA)))
    header = ["# Benchmark of every method", "",
              f"Generated by `make bench` (tools/bench.py) on {datetime.date.today().isoformat()}: "
              f"{hardware(torch.get_num_threads())}. Do not edit by hand.", "",
              "Inputs are simulated from the development scenes by PROTOCOL.md (Gaussian PSF, MTF gain 0.25, no "
              "noise, seed 0), with the spectral responses of each preset. Scenes are read as the bundled models "
              "were trained: AVIRIS counts as reflectance, and the corner of the MUUFL crop outside the flight "
              "strip (one constant spectrum in the file) as nodata. Metrics are PROTOCOL.md's, from the "
              "quality-assessment core, on the part of each scene that the bundled models never saw in training "
              "(the last fifth of its longer side). Rows: the five networks with their bundled model (MODEL = auto), "
              "the five trained on the inputs alone with the default budget (MODEL = train on the inputs, 300 "
              "steps), and the classical baselines with their default settings (R and the PSF estimated from the "
              "inputs where a method needs them). The networks' default projects every block onto both inputs "
              "(PROJECTION = both observations; R estimated from the pair, Gaussian PSF of MTF gain 0.25): the rows "
              "'bundled model, no projection' show the networks without it, and 'classical + projection' the "
              "classical methods with it. Wall time is the whole run, file input and output included.", ""]
    if args.no_training:
        header += ["This run used `--no-training`: the rows trained on the inputs, and the table of the pair "
                   "without a bundled model, were not run.", ""]
    text = "\n".join(header + sections)
    with open(args.output, "w", encoding="utf-8") as handle:
        handle.write(text)
    print(text)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
