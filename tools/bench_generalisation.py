"""The "Generalisation" section of docs/benchmark.md (run by tools/bench.py): every method on sensor pairs
and responses that no bundled model was trained for.

Two kinds of test pair, each simulated from a development scene by PROTOCOL.md (Gaussian PSF, MTF gain
0.25, no noise, seed 0):

- sensor pairs without a preset: the networks have no sensor-specific model, so MODEL = auto trains
  them on the inputs, or takes their generic model where the inputs are too small to train on.
  Scored on the whole scene: no model saw these pairs.
- a preset's sensors with other responses than the preset's (Gaussian approximations with shifted
  centres and wider bands): MODEL = auto still picks the bundled model, whose card accepts MS centres
  within 15 nm. Scored on the part of the scene the bundled models never saw in training.

Rows: each network with MODEL = auto and every other setting at its default, then the same model
without the projection (a model trained on the inputs is trained once: its weights are saved and
reused), then its generic model (nets/generic.py) with and without the projection; the classical
methods with their defaults; bicubic. MODEL = auto trains on the inputs where they are large enough
and takes the generic model where they are not. The generic models were trained on random sensor
pairs simulated from all four development scenes, so these scenes are not new to them; only their
sensor pairs are. The WorldView-2, RGB-camera and 4-band
responses are Gaussian approximations of the band edges their makers publish, not measured curves.
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
GENERIC, GENERIC_NO_PROJECTION = "generic model", "generic model, no projection"
NETWORK_GROUP, CLASSICAL_GROUP = AUTO, "classical"


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


def run_pair(pair: TestPair, data_dir: str) -> tuple:
    """(rows, scoring window or None) of one test pair."""
    from bench import CLASSICAL_RUNS, held_out_window
    from bench_common import measure_row
    from hyperfuse.core import registry
    from hyperfuse.core.classical.run import fuse_classical
    from hyperfuse.core.errors import UserInputError
    from hyperfuse.core.inference import fusion
    from hyperfuse.core.inference import bundled
    from hyperfuse.core.inference.adaptation import PROJECTION_BOTH, PROJECTION_NONE

    work = tempfile.mkdtemp(prefix="hyperfuse-bench-generalisation-")
    lr, ms, ref = simulate(pair, data_dir, work)
    window = held_out_window(lr, pair.ratio) if pair.bundled else None
    rows = []

    def measure(group, label, run):
        measure_row(rows, group, label, run, work=work, ref=ref, ratio=pair.ratio, window=window)

    for method in registry.METHODS.values():
        model_file = os.path.join(work, f"{method.id}.pt")

        def auto_run(output, method=method, model_file=model_file):
            result = fusion.fuse_with_network(method, lr, ms, output, settings=fusion.NetworkFusionSettings(
                seed=SEED, device="cpu", output_weights=model_file))
            return result.model_source

        def same_model_run(output, method=method, model_file=model_file):
            if not os.path.exists(model_file):
                raise UserInputError("MODEL = auto did not run on these inputs (row above).")
            fusion.fuse_with_network(method, lr, ms, output, settings=fusion.NetworkFusionSettings(
                model=fusion.MODEL_WEIGHTS, weights_path=model_file, device="cpu", projection=PROJECTION_NONE))
            return "the model of the row above; wall time without its training"

        def generic_run(output, method=method, projection=PROJECTION_BOTH):
            fusion.fuse_with_network(method, lr, ms, output, settings=fusion.NetworkFusionSettings(
                model=fusion.MODEL_WEIGHTS, weights_path=bundled.generic_weights_path(method), device="cpu",
                projection=projection))
            return "generic model (trained on all four development scenes, other sensors)"

        measure(AUTO, method.name, auto_run)
        measure(AUTO_NO_PROJECTION, method.name, same_model_run)
        measure(GENERIC, method.name, generic_run)
        measure(GENERIC_NO_PROJECTION, method.name,
                lambda output, run=generic_run: run(output, projection=PROJECTION_NONE))
    for label, method_id, options in CLASSICAL_RUNS:
        measure(CLASSICAL_GROUP if method_id != "bicubic" else "baseline", label,
                lambda output, method_id=method_id, options=options: fuse_classical(method_id, lr, ms, output,
                                                                                    **options) and None)
    return rows, window


def _best(rows, group):
    from bench import best_row, scored

    candidates = scored(rows, (group,))
    return best_row(candidates) if candidates else None


def render(results: list) -> str:
    """The section: one table per test pair, then the verdicts over all of them."""
    from bench_common import metric_cells

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
    return "\n".join(lines) + "\n"


def generalisation_results(data_dir: str) -> list:
    results = []
    for pair in PAIRS:
        print(pair.title, flush=True)
        rows, window = run_pair(pair, data_dir)
        results.append((pair, rows, window))
    return results
