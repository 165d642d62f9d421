"""`make bench-perf`: speed and memory of every fusion method on large EnMAP + Sentinel-2 inputs.

For each method and HR size it prints one table row: HR megapixels per second (and per minute), peak resident
memory, the network's achieved GFLOP/s as a share of this machine's float32 matrix-product peak (measured with
torch in the same run), and the share of wall time the computation waited for raster IO. Networks run on their
bundled EnMAP + Sentinel-2 models (MODEL = auto, 218 bands at ratio 3) with the defaults, projection included.

Inputs are generated in seconds: HR abundances of the synthetic materials (core/synthetic.py) on smooth fields,
the HR-MSI through Sentinel-2-like responses, the LR-HSI as 3 × 3 means of the abundances times the spectra. Each
run is its own process, so that its peak memory (VmHWM) is its own. Run times exclude QGIS's start-up.

    python tools/bench_perf.py [--sizes 600 1500] [--methods deepsen3 gsa] [--whole] [--output tables.md]
                               [--bands 100] [--model auto|weights|train] [--weights FILE] [--steps 20]
                               [--option inner=10]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RATIO = 3
NETWORKS = ["mlpln", "ssjcn", "mhfnet", "msssfnet", "deepsen3"]
CLASSICAL = ["bicubic", "gsa", "glp", "cnmf", "hysure"]
STRIP_ROWS = 384


def machine_peaks() -> dict:
    """GFLOP/s of a 2048² float32 matrix product and of a 48 → 64-channel 3 × 3 convolution on 256², with torch's
    default threads."""
    import torch

    def rate(function, flops):
        function()
        started = time.perf_counter()
        for _ in range(5):
            function()
        return flops * 5 / (time.perf_counter() - started) / 1e9

    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    x, conv = torch.randn(1, 48, 256, 256), torch.nn.Conv2d(48, 64, 3, padding=1)
    with torch.inference_mode():
        return {"matmul": rate(lambda: a @ b, 2 * 2048 ** 3),
                "conv3x3": rate(lambda: conv(x), 2 * 48 * 64 * 9 * 256 * 256), "threads": torch.get_num_threads()}


# HS bands of the generated LR-HSI: the 218 of the bundled EnMAP models, or (--bands) that many of them evenly
# spread, which no sensor-specific model fits, so that MODEL = auto takes the generic models.
HS_BANDS = None


def _bundled_wavelengths() -> tuple:
    with open(os.path.join(ROOT, "weights", "index.json"), encoding="utf-8") as handle:
        model = next(m for m in json.load(handle)["models"] if m["preset"] == "enmap_s2_r3")
    hs = np.asarray(model["hs_wavelengths_nm"])
    if HS_BANDS and HS_BANDS < hs.size:
        hs = hs[np.linspace(0, hs.size - 1, HS_BANDS).round().astype(int)]
    return hs, np.asarray(model["ms_wavelengths_nm"])


def _abundances(rows: slice, cols: int, materials: int) -> np.ndarray:
    """(materials, rows, cols) smooth abundances summing to one, a function of position only (strips agree)."""
    y = np.arange(rows.start, rows.stop, dtype=np.float64)[:, None]
    x = np.arange(cols, dtype=np.float64)[None]
    fields = np.stack([np.sin(x / (23.0 + 7 * m) + y / (31.0 + 5 * m) + m) * np.cos(y / (17.0 + 3 * m) - x / 41.0)
                       + 0.3 * np.sin((x + y) / (5.0 + m)) for m in range(materials)])
    weights = np.exp(2.5 * fields)
    return weights / weights.sum(axis=0)


def generate(size: int, folder: str) -> tuple:
    """(lr_path, hr_path): an HR-MSI of size² × 4 bands and an LR-HSI of (size / 3)² × 218 bands, written by strips."""
    import rasterio
    from rasterio.crs import CRS
    from rasterio.windows import Window

    from hyperfuse.core.synthetic import material_spectra

    hs_wl, ms_wl = _bundled_wavelengths()
    spectra = material_spectra(hs_wl)                                  # materials × HS bands
    centres, widths = ms_wl[:, None], np.array([33.0, 18.0, 15.0, 53.0])[:, None]
    response = np.exp(-0.5 * ((hs_wl[None] - centres) / (widths / 2.355)) ** 2)
    response /= response.sum(axis=1, keepdims=True)
    ms_spectra = spectra @ response.T                                  # materials × MS bands
    lr_size = size // RATIO
    paths = (os.path.join(folder, f"lr_{size}_{len(hs_wl)}.tif"), os.path.join(folder, f"hr_{size}.tif"))
    for path, pixels, wavelengths, pixel in ((paths[0], lr_size, hs_wl, 10.0 * RATIO), (paths[1], size, ms_wl, 10.0)):
        profile = dict(driver="GTiff", width=pixels, height=pixels, count=len(wavelengths), dtype="float32",
                       tiled=True, blockxsize=256, blockysize=256, compress="deflate", zlevel=1, bigtiff="IF_SAFER",
                       crs=CRS.from_epsg(32633), transform=rasterio.Affine(pixel, 0, 400000, 0, -pixel, 5500000))
        with rasterio.open(path, "w", **profile) as dst:
            for band, wavelength in enumerate(wavelengths):
                dst.update_tags(band + 1, wavelength=f"{wavelength:.4f}", wavelength_units="Nanometers")
            for row0 in range(0, pixels, STRIP_ROWS):
                rows = min(STRIP_ROWS, pixels - row0)
                if path == paths[1]:
                    values = np.tensordot(ms_spectra.T, _abundances(slice(row0, row0 + rows), size, len(spectra)), 1)
                else:
                    hr = _abundances(slice(row0 * RATIO, (row0 + rows) * RATIO), lr_size * RATIO, len(spectra))
                    means = hr.reshape(len(spectra), rows, RATIO, lr_size, RATIO).mean(axis=(2, 4))
                    values = np.tensordot(spectra.T, means, 1)
                dst.write(values.astype(np.float32), window=Window(0, row0, pixels, rows))
    return paths


def flops_per_pixel(method_id: str) -> float | None:
    """Multiply-adds × 2 of the bundled EnMAP network per HR pixel, counted by torch on a 192² block."""
    if method_id not in NETWORKS or HS_BANDS:      # the FLOPs of the bundled EnMAP models only
        return None
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from hyperfuse.core.inference.weights import build_fusion_model
    from hyperfuse.core.registry import method

    hs_wl, ms_wl = _bundled_wavelengths()
    model, _ = build_fusion_model(method(method_id), os.path.join(ROOT, "weights", f"{method_id}_enmap_s2_r3.pt"),
                                  len(hs_wl), len(ms_wl), RATIO, list(hs_wl), list(ms_wl))
    counter = FlopCounterMode(display=False)
    with torch.inference_mode(), counter:
        model.eval()(torch.rand(1, len(hs_wl), 64, 64), torch.rand(1, len(ms_wl), 192, 192))
    return counter.get_total_flops() / 192 ** 2


def network_settings(method_id: str, block_size: int, run: dict):
    """The NetworkFusionSettings of a run: MODEL = auto, a weights file (``run["weights"]``, "{method}" in it
    replaced, by default the bundled file MODEL = auto would take) or training on the inputs (``run["steps"]``
    steps, by default the algorithms' default; the trained model written to ``run["output_weights"]`` where given,
    for the weights-file runs)."""
    from hyperfuse.core.inference import fusion

    model = run.get("model", "auto")
    if model == "train":
        return fusion.NetworkFusionSettings(model=fusion.MODEL_TRAIN, block_size=block_size,
                                            train_steps=run.get("steps") or fusion.DEFAULT_TRAIN_STEPS,
                                            output_weights=run.get("output_weights"))
    if model == "weights":
        default = "{method}_generic.pt" if HS_BANDS else "{method}_enmap_s2_r3.pt"
        path = (run.get("weights") or os.path.join(ROOT, "weights", default)).format(method=method_id)
        return fusion.NetworkFusionSettings(model=fusion.MODEL_WEIGHTS, weights_path=path, block_size=block_size)
    return fusion.NetworkFusionSettings(block_size=block_size)


def run_one(method_id: str, lr: str, hr: str, output: str, block_size: int = 0, run: dict | None = None) -> dict:
    """One fusion with the defaults (but ``block_size``, and the MODEL path and classical settings of ``run``:
    :func:`network_settings`, ``run["options"]``), as the algorithms run it (GDAL cache bounded); its timings."""
    from hyperfuse.core.classical.run import fuse_classical
    from hyperfuse.core.errors import UserInputError
    from hyperfuse.core.inference.fusion import fuse_with_network
    from hyperfuse.core.registry import method
    from hyperfuse.core.storage.gdal_cache import bounded_gdal_cache

    run = run or {}
    started = time.perf_counter()
    try:
        with bounded_gdal_cache():
            if method_id in NETWORKS:
                result = fuse_with_network(method(method_id), lr, hr, output,
                                           settings=network_settings(method_id, block_size, run))
            else:
                result = fuse_classical(method_id, lr, hr, output, block_size=block_size, **run.get("options", {}))
    except UserInputError as error:
        return {"refused": str(error).split(". ")[0]}
    return {"wall": time.perf_counter() - started, "blocks": result.blocks,
            "io_wait": result.io.waiting if result.io else None, "source": result.model_source,
            "peak_rss": own_peak_memory(), "block_size": result.io.block_shape if result.io else None,
            "halo": result.io.halo if result.io else None,
            "largest_window": result.io.largest_window if result.io else None}


def own_peak_memory() -> int:
    """This process's peak resident memory in bytes (Linux VmHWM, with the peaks before the trial that sizes the
    blocks reset it). Not wait4's ru_maxrss, which for a child started by posix_spawn also counts the parent's
    resident size at the start."""
    from hyperfuse.core.inference.memory import process_peak_bytes

    peak = process_peak_bytes()
    if peak is None:
        raise RuntimeError("no VmHWM in /proc/self/status")
    return peak


def measure(method_id: str, lr: str, hr: str, work: str, block_size: int = 0, run: dict | None = None) -> dict:
    """run_one in a child process, so that its peak resident memory is its own."""
    output = os.path.join(work, f"fused_{method_id}.tif")
    command = [sys.executable, __file__, "--one", method_id, lr, hr, output, str(block_size), json.dumps(run or {})]
    if HS_BANDS:
        command += ["--bands", str(HS_BANDS)]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    text, _ = child.communicate()
    status = child.returncode
    if status != 0:
        raise RuntimeError(f"{method_id} failed (status {status}): {text[-2000:]}")
    if os.path.exists(output):
        os.remove(output)
    return json.loads(text.strip().splitlines()[-1])


def fits_whole(size: int) -> bool:
    """Whether one block of size² (and a halo) fits half the available memory, by the automatic size's estimate."""
    from hyperfuse.core.inference.memory import WorkingMemory, available_memory

    hs_wl, ms_wl = _bundled_wavelengths()
    need = WorkingMemory.estimated(len(hs_wl) + len(ms_wl)).bytes_for(int((1.2 * size) ** 2), 0)
    available = available_memory()
    return available is not None and need <= available / 2


def row(method_id: str, size: int, result: dict, flops: float | None, peaks: dict) -> str:
    if "refused" in result:
        return f"| {size}² | not run: {result['refused']} | | | | | |"
    pixels = size * size
    rate = pixels / result["wall"] / 1e6
    achieved = flops * pixels / result["wall"] / 1e9 if flops else None
    gflops = f"{achieved:.1f} ({100 * achieved / peaks['matmul']:.0f} %)" if achieved else "–"
    io_share = f"{100 * result['io_wait'] / result['wall']:.0f} %" if result.get("io_wait") is not None else "–"
    return (f"| {size}² | {result['wall']:.1f} | {rate:.3f} | {60 * rate:.2f} | {result['peak_rss'] / 2 ** 30:.2f} | "
            f"{gflops} | {io_share} |")


HEADER = ("| HR size | wall s | HR MPix/s | HR MPix/min | peak RSS GiB | GFLOP/s (share of matmul peak) | IO wait |\n"
          "|---|---|---|---|---|---|---|")


def header(whole: bool) -> str:
    """The table header; with ``whole`` (--whole) two more columns: the same run as one block (no halo
    recomputed), and the tiled time against it."""
    names, rule = HEADER.split("\n")
    if whole:
        names, rule = names + " one block: wall, peak RSS | tiled / one block |", rule + "---|---|"
    return f"{names}\n{rule}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[600, 1500], help="HR sizes (multiples of 3)")
    parser.add_argument("--methods", nargs="+", default=NETWORKS + CLASSICAL)
    parser.add_argument("--output", help="also write the tables to this Markdown file")
    parser.add_argument("--work", help="folder for the generated inputs (default: a temporary folder)")
    parser.add_argument("--whole", action="store_true",
                        help="also run each size as one block, and give the tiled time against it")
    parser.add_argument("--bands", type=int, help="HS bands of the LR-HSI (default: the 218 of the EnMAP models)")
    parser.add_argument("--model", choices=["auto", "weights", "train"], default="auto",
                        help="the networks' MODEL: auto (default), a weights file (--weights), or train on the inputs")
    parser.add_argument("--weights", help="with --model weights: the file, '{method}' standing for the method's id "
                                          "(default: the bundled file MODEL = auto takes)")
    parser.add_argument("--steps", type=int,
                        help="with --model train: training steps (default: the algorithms' default). Steps and "
                             "validation checks (every 5 steps at 20) repeat arrays of the same sizes, so the "
                             "memory does not grow with the steps and a few take a fraction of the time")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                        help="a classical method's setting, e.g. inner=10 for CNMF (repeatable)")
    parser.add_argument("--one", nargs=6, metavar=("METHOD", "LR", "HR", "OUTPUT", "BLOCK", "RUN"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    global HS_BANDS
    # All 218 bands are the bundled EnMAP models' own (their FLOPs counted, their files the default weights).
    HS_BANDS = args.bands if args.bands and args.bands < len(_bundled_wavelengths()[0]) else None
    if args.one:
        print(json.dumps(run_one(*args.one[:4], block_size=int(args.one[4]), run=json.loads(args.one[5]))))
        return
    run = {"model": args.model, "weights": args.weights, "steps": args.steps,
           "options": {key: json.loads(value) for key, value in (option.split("=", 1) for option in args.option)}}
    peaks = machine_peaks()
    from bench_common import cpu_name

    lines = [f"Measured {time.strftime('%Y-%m-%d')} on {peaks['threads']} threads of an {cpu_name()}: float32 "
             f"matrix product {peaks['matmul']:.0f} GFLOP/s, 3 × 3 convolution {peaks['conv3x3']:.0f} GFLOP/s; "
             f"LR-HSI of {len(_bundled_wavelengths()[0])} bands at ratio {RATIO}; networks with MODEL = "
             f"{args.model}{', ' + ', '.join(args.option) if args.option else ''}.", ""]
    print(lines[0], flush=True)
    with tempfile.TemporaryDirectory(dir=args.work) as work:
        inputs = {size: generate(size, work) for size in args.sizes}
        for method_id in args.methods:
            flops = flops_per_pixel(method_id)
            title = f"### {method_id}" + (f" ({flops / 1e6:.2f} MFLOP per HR pixel)" if flops else "")
            lines += [title, "", header(args.whole)]
            print(f"\n{title}\n{header(args.whole)}", flush=True)
            for size in args.sizes:
                tiled = measure(method_id, *inputs[size], work, run=run)
                lines.append(row(method_id, size, tiled, flops, peaks))
                if args.whole and "wall" in tiled and fits_whole(size):
                    whole = measure(method_id, *inputs[size], work, block_size=size, run=run)
                    lines[-1] += (f" {whole['wall']:.1f} s, {whole['peak_rss'] / 2 ** 30:.2f} GiB | "
                                  f"{tiled['wall'] / whole['wall']:.2f} |")
                print(lines[-1], flush=True)
            lines.append("")
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
