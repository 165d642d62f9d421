"""`make bench-scale-out`: the same fusion in-process and on a Dask LocalCluster, for docs/scale-out.md.

For each method it fuses generated EnMAP + Sentinel-2 inputs (tools/bench_perf.py's, 218 bands at ratio 3) once in
this machine's process and once on a LocalCluster of N single-threaded workers (DASK_SCHEDULER = local:N), each
run in its own process, and prints one table row per method: both wall times (the cluster's start included, and
given apart), their ratio, and the per-block costs the cluster measured (computing in the workers, result sent
back, writing in the client), from which docs/scale-out.md derives what a larger cluster can gain. It also checks
that both outputs are equal.

    python tools/bench_scale_out.py [--size 1500] [--methods deepsen3 gsa] [--workers 2] [--output table.md]
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

from bench_perf import NETWORKS, generate


def run_one(method_id: str, lr: str, hr: str, output: str, scheduler: str, block_size: int) -> dict:
    """One fusion with the defaults, in-process (``scheduler`` '') or on ``scheduler``; its timings."""
    from hyperfuse.core.inference import distributed
    from hyperfuse.core.storage.gdal_cache import bounded_gdal_cache

    started = time.perf_counter()
    connecting = 0.0
    with bounded_gdal_cache():
        if scheduler:
            with distributed.connected(scheduler) as client:
                connecting = time.perf_counter() - started
                result = _fuse(method_id, lr, hr, output, client, block_size)
        else:
            result = _fuse(method_id, lr, hr, output, None, block_size)
    costs = result.io.cluster
    return {"wall": time.perf_counter() - started, "start": connecting, "blocks": result.blocks,
            "block_shape": result.io.block_shape,
            "computing": costs.computing / costs.blocks if costs else None,
            "result_mib": costs.result_bytes / costs.blocks / 2 ** 20 if costs else None,
            "writing": costs.writing if costs else None}


def _fuse(method_id: str, lr: str, hr: str, output: str, scheduler, block_size: int):
    from hyperfuse.core.classical.run import fuse_classical
    from hyperfuse.core.inference.fusion import NetworkFusionSettings, fuse_with_network
    from hyperfuse.core.registry import method

    if method_id in NETWORKS:
        return fuse_with_network(method(method_id), lr, hr, output,
                                 settings=NetworkFusionSettings(scheduler=scheduler, block_size=block_size))
    return fuse_classical(method_id, lr, hr, output, scheduler=scheduler, block_size=block_size)


def measure(method_id: str, lr: str, hr: str, output: str, scheduler: str, block_size: int) -> dict:
    child = subprocess.run([sys.executable, __file__, "--one", method_id, lr, hr, output, scheduler, str(block_size)],
                           stdout=subprocess.PIPE, text=True)
    if child.returncode != 0:
        raise RuntimeError(f"{method_id} on '{scheduler or 'in-process'}' failed (status {child.returncode})")
    return json.loads(child.stdout.strip().splitlines()[-1])


def same_pixels(a: str, b: str) -> float:
    import rasterio

    with rasterio.open(a) as first, rasterio.open(b) as second:
        return float(np.abs(first.read() - second.read()).max())


HEADER = ("| method | HR size | blocks (in-process; cluster) | in-process s | local:{n} s (start) | ratio | per block: computing s, "
          "result MiB | client writing s | max abs difference |\n|---|---|---|---|---|---|---|---|---|")


def _blocks(result: dict) -> str:
    return f"{result['blocks']} of {result['block_shape'][1]} × {result['block_shape'][0]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=1500, help="HR size (a multiple of 3)")
    parser.add_argument("--methods", nargs="+", default=["deepsen3", "gsa"])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--block-size", type=int, default=0,
                        help="BLOCK_SIZE of both runs (0: automatic, measured by each run, so that the two may "
                             "choose different blocks and differ by float rounding)")
    parser.add_argument("--output", help="also write the table to this Markdown file")
    parser.add_argument("--work", help="folder for the generated inputs (default: a temporary folder)")
    parser.add_argument("--one", nargs=6, metavar=("METHOD", "LR", "HR", "OUTPUT", "SCHEDULER", "BLOCK"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(*args.one[:5], int(args.one[5]))))
        return
    lines = [f"Measured {time.strftime('%Y-%m-%d')} on {os.cpu_count()} CPU threads; HR {args.size}² × 4 bands, "
             f"LR-HSI {args.size // 3}² × 218 bands (ratio 3).", "", HEADER.format(n=args.workers)]
    print("\n".join(lines), flush=True)
    with tempfile.TemporaryDirectory(dir=args.work) as work:
        lr, hr = generate(args.size, work)
        for method_id in args.methods:
            here, there = (os.path.join(work, f"{method_id}_{name}.tif") for name in ("here", "dask"))
            alone = measure(method_id, lr, hr, here, "", args.block_size)
            cluster = measure(method_id, lr, hr, there, f"local:{args.workers}", args.block_size)
            lines.append(f"| {method_id} | {args.size}² | {_blocks(alone)}; {_blocks(cluster)} | {alone['wall']:.1f} | {cluster['wall']:.1f} "
                         f"({cluster['start']:.1f}) | {cluster['wall'] / alone['wall']:.2f} | "
                         f"{cluster['computing']:.2f}, {cluster['result_mib']:.0f} | {cluster['writing']:.1f} | "
                         f"{same_pixels(here, there):g} |")
            print(lines[-1], flush=True)
            os.remove(here)
            os.remove(there)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
