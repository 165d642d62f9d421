"""The "Generalisation" section of docs/benchmark.md (run by tools/bench.py): every method on sensor pairs
and responses that no bundled model was trained for.

Two kinds of test pair, each simulated from a development scene by PROTOCOL.md (Gaussian PSF, MTF gain
0.25, no noise, seed 0):

- sensor pairs without a preset: the networks have no sensor-specific model, so MODEL = auto takes their
  generic model (nets/generic.py). Scored on the whole scene: no model saw these sensor pairs.
- a preset's sensors with other responses than the preset's (Gaussian approximations with shifted
  centres and wider bands): MODEL = auto still picks the bundled model, whose card accepts MS centres
  within 15 nm. Scored on the part of the scene the bundled models never saw in training.

Rows: each network with MODEL = auto and every other setting at its default; the same model without
the projection; on the pairs without a preset, the network trained on the inputs (MODEL = train on the
inputs, 300 steps), and the generic model retrained without the test scene (leave-one-scene-out: the
bundled generic models saw all four development scenes, under other sensors); on the preset pairs, the
generic model instead of the sensor-specific one; for LOSO_METHODS, also MODEL = auto with
ADAPT_STEPS = 100 (fine-tuning on the inputs at full resolution). Then the classical methods with their
defaults and bicubic. The WorldView-2, RGB-camera and 4-band responses are Gaussian approximations of the
band edges their makers publish, not measured curves.
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass

SEED = 0
# ROSIS-03 as the Pavia file lacks wavelengths: 103 bands, given evenly spaced over its ≈ 430–860 nm.
PAVIA_WAVELENGTHS = [430.0 + i * (860.0 - 430.0) / 102 for i in range(103)]
SENTINEL2_10M = (("B2", 492.4, 66.0), ("B3", 559.8, 36.0), ("B4", 664.6, 31.0), ("B8", 832.8, 106.0))
# The mismatch of the "other responses" pairs: centres moved by this much, widths scaled by this factor.
CENTRE_SHIFT_NM, WIDTH_FACTOR = 8.0, 1.2


@dataclass(frozen=True)
class TestPair:
    title: str
    scene: str
    ratio: int
    ms_bands: tuple                     # (name, centre nm, FWHM nm) of Gaussian responses, or () for ms_preset
    ms_preset: tuple = ()               # (preset key, band subset) of core/protocol/srf.py
    hs_preset: str | None = None        # resample the scene to this HS sensor first
    wavelengths: tuple | None = None    # the scene's band centres, when its file has none
    bundled: bool = False               # a preset's sensors: scored on the held-out part

    def responses(self):
        from hyperfuse.core.protocol import srf

        if self.ms_preset:
            key, subset = self.ms_preset
            ms = srf.load_response(key, band_subset=subset)
        else:
            ms = srf.gaussian_response(self.title, [b for b, _, _ in self.ms_bands], [c for _, c, _ in self.ms_bands],
                                       [w for _, _, w in self.ms_bands], "Gaussian approximation")
        return ms, (srf.preset(self.hs_preset).load() if self.hs_preset else None)


def _shifted(bands) -> tuple:
    return tuple((name, centre + CENTRE_SHIFT_NM, width * WIDTH_FACTOR) for name, centre, width in bands)


PAIRS = (
    TestPair("EnMAP + Landsat 8 OLI (B1–B7), ratio 3", "enmap_potsdam.tif", 3, (),
             ms_preset=("l8_oli", "B1,B2,B3,B4,B5,B6,B7")),
    TestPair("AVIRIS + WorldView-2 (8 bands), ratio 4", "aviris_santa_barbara.tif", 4,
             (("coastal", 427, 45), ("blue", 478, 60), ("green", 546, 70), ("yellow", 608, 40), ("red", 659, 60),
              ("red edge", 724, 40), ("NIR1", 833, 125), ("NIR2", 949, 180))),
    TestPair("MUUFL CASI + RGB camera, ratio 4", "muufl_gulfport.tif", 4,
             (("red", 600, 80), ("green", 540, 80), ("blue", 465, 70))),
    TestPair("Pavia (ROSIS, wavelengths given) + 4-band MS (B, G, R, NIR), ratio 4", "pavia_university.tif", 4,
             (("blue", 485, 70), ("green", 560, 80), ("red", 660, 60), ("NIR", 800, 100)),
             wavelengths=tuple(PAVIA_WAVELENGTHS)),
    TestPair(f"EnMAP + Sentinel-2 10 m as Gaussians, centres +{CENTRE_SHIFT_NM:g} nm, widths ×{WIDTH_FACTOR:g}, "
             "ratio 3 (bundled EnMAP preset)", "enmap_potsdam.tif", 3, _shifted(SENTINEL2_10M), bundled=True),
    TestPair(f"AVIRIS as OLCI + Sentinel-2 B2–B4 as Gaussians, centres +{CENTRE_SHIFT_NM:g} nm, widths "
             f"×{WIDTH_FACTOR:g}, ratio 5 (bundled OLCI preset)", "aviris_santa_barbara.tif", 5,
             _shifted(SENTINEL2_10M[:3]), hs_preset="s3a_olci", bundled=True),
)

AUTO, AUTO_NO_PROJECTION = "MODEL = auto", "MODEL = auto, no projection"
TRAINED, GENERIC, LOSO = "MODEL = train on the inputs", "generic model", "generic model, scene left out"
ADAPTED = "MODEL = auto, ADAPT_STEPS = 100"
NETWORK_GROUP, CLASSICAL_GROUP = AUTO, "classical"
# The networks whose generic model is retrained without each test scene (a few minutes per scene each),
# and whose fine-tuning at full resolution is measured.
LOSO_METHODS = ("ssjcn",)
ADAPT_STEPS = 100


def simulate(pair: TestPair, data_dir: str, work: str):
    import weights_recipe
    from hyperfuse.core.protocol import simulation

    lr, ms, ref = (os.path.join(work, f"{n}.tif") for n in ("lr", "ms", "ref"))
    ms_response, hs_response = pair.responses()
    scene = weights_recipe.development_scene(os.path.join(data_dir, pair.scene), work)
    settings = simulation.SimulationSettings(ratio=pair.ratio, srf=ms_response, seed=SEED, hs_response=hs_response,
                                             wavelengths_nm=list(pair.wavelengths) if pair.wavelengths else None)
    simulation.simulate(scene, settings, lr, ms, ref)
    return lr, ms, ref


def _network_rows(pair: TestPair, method, lr: str, ms: str, work: str, data_dir: str, measure) -> None:
    """The rows of one network on one test pair (see the module docstring)."""
    from hyperfuse.core.errors import UserInputError
    from hyperfuse.core.inference import bundled, fusion
    from hyperfuse.core.inference.adaptation import PROJECTION_NONE

    auto_model = {}      # the weights file MODEL = auto took, for the row without the projection

    def run(output, note=None, **settings):
        result = fusion.fuse_with_network(method, lr, ms, output, settings=fusion.NetworkFusionSettings(
            seed=SEED, device="cpu", **settings))
        return note or result.model_source

    def auto_run(output):
        source = run(output)
        auto_model["path"] = os.path.join(bundled.BUNDLED_DIR, source)
        return source

    def same_model_run(output):
        if not os.path.exists(auto_model.get("path", "")):
            raise UserInputError("MODEL = auto did not run on these inputs with a bundled model (row above).")
        return run(output, "the model of the MODEL = auto row", model=fusion.MODEL_WEIGHTS,
                   weights_path=auto_model["path"], projection=PROJECTION_NONE)

    measure(AUTO, method.name, auto_run)
    measure(AUTO_NO_PROJECTION, method.name, same_model_run)
    if pair.bundled:
        measure(GENERIC, method.name, lambda output: run(output, model=fusion.MODEL_WEIGHTS,
                                                        weights_path=bundled.generic_weights_path(method)))
    else:
        measure(TRAINED, method.name, lambda output: run(output, model=fusion.MODEL_TRAIN))
        if method.id in LOSO_METHODS:
            left_out = _generic_without(method, pair.scene, work, data_dir)
            measure(LOSO, method.name, lambda output: run(output, f"generic model trained without {pair.scene}",
                                                         model=fusion.MODEL_WEIGHTS, weights_path=left_out))
    if method.id in LOSO_METHODS:
        measure(ADAPTED, method.name, lambda output: run(output, adapt_steps=ADAPT_STEPS))


def _generic_without(method, scene: str, work: str, data_dir: str) -> str:
    import generic_recipe

    path = os.path.join(work, f"{method.id}_generic_without_{os.path.splitext(scene)[0]}.pt")
    generic_recipe.train_generic_weights(method, path, data_dir, exclude=(scene,), log=lambda *_: None)
    return path


def run_pair(pair: TestPair, data_dir: str) -> tuple:
    """(rows, scoring window or None) of one test pair."""
    from bench import CLASSICAL_RUNS, held_out_window
    from bench_common import measure_row
    from hyperfuse.core import registry
    from hyperfuse.core.classical.run import fuse_classical

    work = tempfile.mkdtemp(prefix="hyperfuse-bench-generalisation-")
    lr, ms, ref = simulate(pair, data_dir, work)
    window = held_out_window(lr, pair.ratio) if pair.bundled else None
    rows = []

    def measure(group, label, run):
        measure_row(rows, group, label, run, work=work, ref=ref, ratio=pair.ratio, window=window)

    for method in registry.METHODS.values():
        _network_rows(pair, method, lr, ms, work, data_dir, measure)
    for label, method_id, options in CLASSICAL_RUNS:
        measure(CLASSICAL_GROUP if method_id != "bicubic" else "baseline", label,
                lambda output, method_id=method_id, options=options: fuse_classical(method_id, lr, ms, output,
                                                                                    **options) and None)
    return rows, window


def _best(rows, group):
    from bench import best_row, scored

    candidates = scored(rows, (group,))
    return best_row(candidates) if candidates else None


def render(results: tuple) -> str:
    """The section: one table per test pair, the verdicts over all of them, then the run-time table."""
    from bench_common import metric_cells

    results, run_times = results

    lines = ["## Generalisation", "", __doc__.split("\n\n", 1)[1].strip(), ""]
    margins, losers, missing = [], [], []
    for pair, rows, window in results:
        scope = ("whole scene" if window is None else
                 f"held-out part: HR rows {window[0]}–{window[0] + window[2] - 1}, columns "
                 f"{window[1]}–{window[1] + window[3] - 1}")
        lines += [f"### {pair.title}", "", f"Scene {pair.scene}; scored on the {scope}.", "",
                  "| rows | method | PSNR dB ↑ | SAM ° ↓ | ERGAS ↓ | SSIM ↑ | wall s | model / note |",
                  "|---|---|---|---|---|---|---|---|"]
        for row in rows:
            seconds = "–" if row["seconds"] is None else f"{row['seconds']:.1f}"
            note = row["note"].replace("|", "/").replace("\n", " ")
            lines.append(f"| {row['group']} | {row['method']} | {metric_cells(row)} | {seconds} | {note} |")
        bicubic = next(r for r in rows if r["method"] == "bicubic")
        for row in rows:
            if row["group"] == NETWORK_GROUP and (row["seconds"] is None or not (
                    row["PSNR"] > bicubic["PSNR"] and row["SAM"] < bicubic["SAM"])):
                losers.append(f"{row['method']} on {pair.title}")
        net, classic = _best(rows, NETWORK_GROUP), _best(rows, CLASSICAL_GROUP)
        if net is None:
            missing.append(pair.title)
            lines += ["", f"- No network ran with MODEL = auto; the best classical method is {classic['method']} "
                          f"({classic['PSNR']:.2f} dB).", ""]
            continue
        margins.append(net["PSNR"] - classic["PSNR"])
        lines += ["", f"- Best network {net['method']} ({net['PSNR']:.2f} dB) against the best classical method "
                      f"{classic['method']} ({classic['PSNR']:.2f} dB): {margins[-1]:+.2f} dB.", ""]
    lines += ["### Verdict", ""]
    if margins:
        lines.append(f"- Best network minus best classical method, mean over the {len(margins)} pairs where the "
                     f"networks ran: {sum(margins) / len(margins):+.2f} dB PSNR; lowest {min(margins):+.2f} dB.")
    if missing:
        lines.append(f"- No network ran on: {'; '.join(missing)}.")
    lines.append("- Every network with MODEL = auto beats bicubic on PSNR and SAM on every pair: " +
                 ("**yes**." if not losers else f"**no** ({'; '.join(losers)})."))
    lines += _left_out_verdict(results) + [""] + render_run_times(run_times)
    return "\n".join(lines) + "\n"


def _left_out_verdict(results) -> list:
    """Each LOSO_METHODS network's generic model retrained without the test scene, against the best classical
    method, over the pairs without a preset."""
    lines = []
    for method_name in sorted({r["method"] for _, rows, _ in results for r in rows if r["group"] == LOSO}):
        margins = []
        for pair, rows, _ in results:
            left_out = next((r for r in rows if r["group"] == LOSO and r["method"] == method_name
                             and r["seconds"] is not None), None)
            if left_out is not None:
                short_title = pair.title.split(",")[0].split(" (")[0]
                margins.append((short_title, left_out["PSNR"] - _best(rows, CLASSICAL_GROUP)["PSNR"]))
        lines.append(f"- {method_name}'s generic model retrained without the test scene, minus the best classical "
                     f"method: {'; '.join(f'{title} {m:+.2f} dB' for title, m in margins)}; mean "
                     f"{sum(m for _, m in margins) / len(margins):+.2f} dB.")
    return lines


def generalisation_results(data_dir: str) -> tuple:
    """(per test pair (pair, rows, window), the run-time rows)."""
    results = []
    for pair in PAIRS:
        print(pair.title, flush=True)
        rows, window = run_pair(pair, data_dir)
        results.append((pair, rows, window))
    print("Run time with defaults", flush=True)
    return results, run_time_rows()


# The run-time check: a generated scene of this size (HR rows = cols, HS bands), fused at this ratio with
# Sentinel-2's four 10 m bands; no bundled sensor-specific model fits its 200 bands.
RUN_TIME_SIZE, RUN_TIME_BANDS, RUN_TIME_RATIO = 300, 200, 3


def run_time_rows() -> list:
    """Each network with MODEL = auto and every default, on the RUN_TIME_* pair, timed and scored."""
    import numpy as np
    from bench_common import measure_row
    from hyperfuse.core import registry, synthetic
    from hyperfuse.core.inference import fusion
    from hyperfuse.core.protocol import simulation, srf

    work = tempfile.mkdtemp(prefix="hyperfuse-bench-run-time-")
    scene = os.path.join(work, "scene.tif")
    synthetic.write_scene(scene, RUN_TIME_SIZE, RUN_TIME_SIZE, seed=SEED,
                          wavelengths_nm=np.linspace(410, 2400, RUN_TIME_BANDS))
    lr, ms, ref = (os.path.join(work, f"{n}.tif") for n in ("lr", "ms", "ref"))
    simulation.simulate(scene, simulation.SimulationSettings(ratio=RUN_TIME_RATIO, srf=srf.preset("s2a_10m").load(),
                                                             seed=SEED), lr, ms, ref)
    rows = []
    for method in registry.METHODS.values():
        measure_row(rows, AUTO, method.name, lambda output, method=method: fusion.fuse_with_network(
            method, lr, ms, output, settings=fusion.NetworkFusionSettings(seed=SEED)).model_source,
            work=work, ref=ref, ratio=RUN_TIME_RATIO)
    return rows


def render_run_times(rows: list) -> list:
    from bench_common import metric_cells

    lr_side = RUN_TIME_SIZE // RUN_TIME_RATIO
    lines = [f"### Run time with defaults: {RUN_TIME_SIZE} × {RUN_TIME_SIZE} HR-MSI (Sentinel-2, 4 bands), "
             f"{lr_side} × {lr_side} × {RUN_TIME_BANDS}-band LR-HSI, ratio {RUN_TIME_RATIO}", "",
             "A generated scene (core/synthetic.py), every setting at its default, MODEL = auto: the wall time of "
             "one whole run, reading, projection and writing included.", "",
             "| rows | method | PSNR dB ↑ | SAM ° ↓ | ERGAS ↓ | SSIM ↑ | wall s | model |", "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        seconds = "–" if row["seconds"] is None else f"{row['seconds']:.1f}"
        lines.append(f"| {row['group']} | {row['method']} | {metric_cells(row)} | {seconds} | {row['note']} |")
    failed = [row["method"] for row in rows if row["seconds"] is None]
    slowest = max(row["seconds"] for row in rows if row["seconds"] is not None)
    return lines + ["", f"- Slowest network: {slowest:.1f} s" + (f"; not run: {', '.join(failed)}." if failed else "."), ""]
