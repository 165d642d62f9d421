"""Speed and peak memory of "Quality assessment" through qgis_process (part of `make bench-perf`).

For each size N it generates an HR-HSI reference of N × N pixels with the 218 EnMAP bands of the bundled models,
fused layers that depart from it by smooth errors, and the LR-HSI and HR-MSI of tools/bench_perf.py, then runs
`qgis_process run hyperfuse:quality_assessment` with the reference, the fused layers, the inputs for QNR, the JSON
and the HTML report, as an analyst would. Wall time includes QGIS's start-up. Peak memory is the qgis_process
process's own (wait4 on a process started from a small launcher, whose own few megabytes are all it adds). A run
of under a minute is repeated: the first includes QGIS computing the generated layers' statistics (AGAIN_BELOW_S).

    python tools/bench_assessment.py [--sizes 240 3000] [--layers 2] [--output table.md]
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

import bench_perf

# Started by a fresh interpreter, so that the child's peak counts only qgis_process (and the launcher's own ~10 MB
# before the exec).
LAUNCHER = ("import json, os, sys\n"
            "pid = os.posix_spawnp(sys.argv[1], sys.argv[1:], os.environ)\n"
            "_, status, usage = os.wait4(pid, 0)\n"
            "print(json.dumps({'peak': usage.ru_maxrss * 1024, 'status': os.waitstatus_to_exitcode(status)}))\n")


def generate(size: int, folder: str, layers: int) -> dict:
    """Reference, ``layers`` fused rasters and the LR-HSI / HR-MSI pair of bench_perf, written by strips."""
    import rasterio
    from rasterio.windows import Window

    from hyperfuse.core.synthetic import material_spectra

    lr, hr = bench_perf.generate(size, folder)
    hs_wl, _ = bench_perf._bundled_wavelengths()
    spectra = material_spectra(hs_wl)
    with rasterio.open(lr) as source:
        transform, crs = source.transform, source.crs
    profile = dict(driver="GTiff", width=size, height=size, count=len(hs_wl), dtype="float32", tiled=True,
                   blockxsize=256, blockysize=256, compress="deflate", zlevel=1, bigtiff="IF_SAFER", crs=crs,
                   transform=rasterio.Affine(transform.a / bench_perf.RATIO, 0, transform.c, 0,
                                             transform.e / bench_perf.RATIO, transform.f))
    names = ["reference"] + [f"fused_{k + 1}" for k in range(layers)]
    paths = {name: os.path.join(folder, f"{name}_{size}.tif") for name in names}
    for index, name in enumerate(names):
        with rasterio.open(paths[name], "w", **profile) as dst:
            for band, wavelength in enumerate(hs_wl):
                dst.update_tags(band + 1, wavelength=f"{wavelength:.4f}", wavelength_units="Nanometers")
            for row0 in range(0, size, bench_perf.STRIP_ROWS):
                rows = min(bench_perf.STRIP_ROWS, size - row0)
                abundances = bench_perf._abundances(slice(row0, row0 + rows), size, len(spectra))
                values = np.tensordot(spectra.T, abundances, 1)
                if index:           # a fused layer: smooth errors that grow with the layer's index
                    y = np.arange(row0, row0 + rows)[:, None]
                    values = values * (1 + 0.01 * index * np.sin(y / 7.0 + np.arange(size)[None] / 11.0 + index))
                dst.write(values.astype(np.float32), window=Window(0, row0, size, rows))
    return {"reference": paths["reference"], "fused": [paths[n] for n in names[1:]], "lr": lr, "hr": hr}


def measure(paths: dict, work: str) -> dict:
    """qgis_process quality_assessment on ``paths``: wall seconds, peak resident bytes, the first layer's QNR."""
    output = os.path.join(work, "quality.json")
    command = ["qgis_process.bin", "run", "hyperfuse:quality_assessment", "--", f"REFERENCE={paths['reference']}",
               *[f"FUSED={path}" for path in paths["fused"]], f"LR_HSI={paths['lr']}", f"HR_MSI={paths['hr']}",
               "RATIO=3", f"OUTPUT_JSON={output}", f"OUTPUT_HTML={os.path.join(work, 'report.html')}"]
    started = time.perf_counter()
    completed = subprocess.run([sys.executable, "-c", LAUNCHER, *command], capture_output=True,
                               text=True)
    wall = time.perf_counter() - started
    measured = json.loads(completed.stdout.strip().splitlines()[-1])
    if measured["status"] != 0:
        raise RuntimeError(f"quality_assessment failed (exit {measured['status']}): {completed.stdout[-2000:]}")
    with open(output, encoding="utf-8") as handle:
        first = json.load(handle)["layers"][0]
    return {"wall": wall, "peak": measured["peak"], "QNR": first["QNR"], "PSNR": first["PSNR"]}


HEADER = ("| HR size × bands | fused layers | wall s (qgis_process, start-up included) | peak RSS GiB | first layer: "
          "PSNR, QNR | again: wall s, peak RSS GiB |\n|---|---|---|---|---|---|")
# The first run on freshly generated rasters includes QGIS computing each input layer's statistics (histograms of
# the default renderer's bands) as qgis_process loads it, and writing them beside the raster (.aux.xml); rasters a
# fusion wrote through QGIS already have them. Runs shorter than this are measured a second time, with them.
AGAIN_BELOW_S = 60


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[240, 3000], help="HR sizes (multiples of 3)")
    parser.add_argument("--layers", type=int, default=2, help="fused layers assessed in one run")
    parser.add_argument("--output", help="also write the table to this Markdown file")
    parser.add_argument("--work", help="folder for the generated rasters (default: a temporary folder)")
    args = parser.parse_args()
    lines = ["### Quality assessment", "", HEADER]
    print("\n".join(lines), flush=True)
    for size in args.sizes:
        with tempfile.TemporaryDirectory(dir=args.work) as work:
            paths = generate(size, work, args.layers)
            result = measure(paths, work)
            again = measure(paths, work) if result["wall"] < AGAIN_BELOW_S else None
        lines.append(f"| {size}² × 218 | {args.layers} | {result['wall']:.1f} | {result['peak'] / 2 ** 30:.2f} | "
                     f"{result['PSNR']:.2f} dB, {result['QNR']:.4f} | "
                     + (f"{again['wall']:.1f}, {again['peak'] / 2 ** 30:.2f} |" if again else "– |"))
        print(lines[-1], flush=True)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
