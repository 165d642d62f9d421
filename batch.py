"""Fuse many pairs without QGIS: one row of a CSV per pair, one output each, on one Dask cluster or in-process.

    python3 -m hyperfuse.batch pairs.csv --method deepsen3 --scheduler local:4

The CSV has a header row with the columns ``lr_hsi``, ``hr_msi`` and ``output`` (paths; relative ones are taken
from the CSV's folder), and optionally ``method`` and ``weights`` to override --method and --weights for that row.
Every pair runs as the Processing algorithm ``hyperfuse:fuse_<method>`` would with its defaults: the same model
choice (MODEL = auto, or the weights file), projection, block size and writer, so each output equals that
algorithm's. With --scheduler the blocks of every pair run on one cluster (started once for ``local:N``); the
pairs run one after another, each spread over the whole cluster (docs/scale-out.md). The folder that holds the
``hyperfuse`` plugin must be on PYTHONPATH, e.g. ~/.local/share/QGIS/QGIS3/profiles/default/python/plugins.

A pair that fails is reported and leaves no output; the others go on. The exit status is 0 when every pair was
fused, 1 otherwise.
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import os
import sys
import time

REQUIRED_COLUMNS = ("lr_hsi", "hr_msi", "output")


def read_pairs(path: str) -> list:
    """The CSV's rows as dicts, with paths made absolute (relative to the CSV's folder): the workers of a cluster
    read the inputs at the paths they are given."""
    folder = os.path.dirname(os.path.abspath(path))
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        raise SystemExit(f"{path}: no pairs (a header row with {', '.join(REQUIRED_COLUMNS)}, then one row per pair).")
    missing = [column for column in REQUIRED_COLUMNS if column not in rows[0]]
    if missing:
        raise SystemExit(f"{path}: the column(s) {', '.join(missing)} are missing; the header must name "
                         f"{', '.join(REQUIRED_COLUMNS)} (and optionally method, weights).")
    for row in rows:
        for column in REQUIRED_COLUMNS + ("weights",):
            if row.get(column):
                row[column] = os.path.join(folder, row[column].strip())
    return rows


def fuse_pair(row: dict, args, scheduler):
    """One row, as hyperfuse:fuse_<method> with its defaults (and --block-size, --weights, --compression) would fuse it."""
    from .core.classical.run import fuse_classical
    from .core.inference.fusion import MODEL_AUTO, MODEL_WEIGHTS, NetworkFusionSettings, fuse_with_network
    from .core.registry import ClassicalMethod, method

    chosen = method((row.get("method") or args.method).strip())
    if isinstance(chosen, ClassicalMethod):
        return fuse_classical(chosen, row["lr_hsi"], row["hr_msi"], row["output"], block_size=args.block_size,
                              scheduler=scheduler, compression=args.compression)
    weights = row.get("weights") or args.weights
    settings = NetworkFusionSettings(model=MODEL_WEIGHTS if weights else MODEL_AUTO, weights_path=weights or None,
                                     block_size=args.block_size, scheduler=scheduler, compression=args.compression)
    return fuse_with_network(chosen, row["lr_hsi"], row["hr_msi"], row["output"], settings=settings)


def run(args) -> int:
    """Fuse every pair; returns the number that failed."""
    from .core.environment import add_site_packages
    from .core.errors import UserInputError
    from .core.inference import distributed

    add_site_packages(None)             # PyTorch (and Dask) from the QGIS profile's environment, as in QGIS
    rows = read_pairs(args.pairs)
    scheduler = distributed.checked(args.scheduler)
    failed = 0
    with (distributed.connected(scheduler) if scheduler else contextlib.nullcontext()) as client:
        for number, row in enumerate(rows, 1):
            started = time.perf_counter()
            try:
                result = fuse_pair(row, args, client)
            except (UserInputError, OSError, KeyError) as error:
                failed += 1
                print(f"[{number}/{len(rows)}] {row['output']}: failed, nothing written. {error}", flush=True)
                continue
            print(f"[{number}/{len(rows)}] {row['output']}: {result.method}, {result.model_source}, "
                  f"{result.blocks} block(s), {time.perf_counter() - started:.1f} s.", flush=True)
    return failed


def main(argv=None) -> int:
    from .core.storage.raster_io import COMPRESSION_CHOICES, DEFAULT_COMPRESSION

    parser = argparse.ArgumentParser(prog="python3 -m hyperfuse.batch", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pairs", help="CSV of the pairs (columns lr_hsi, hr_msi, output; optional method, weights)")
    parser.add_argument("--method", default="deepsen3",
                        help="fusion method id for rows without a method: a network (mlpln, ssjcn, mhfnet, "
                             "msssfnet, deepsen3) or a classical method (bicubic, gsa, glp, cnmf, hysure)")
    parser.add_argument("--weights", help="a HyperFuse weights file (.pt) for the network rows (default: MODEL = "
                                          "auto, the bundled models)")
    parser.add_argument("--block-size", type=int, default=0, help="BLOCK_SIZE in HR pixels (0: automatic)")
    parser.add_argument("--scheduler", default="",
                        help="DASK_SCHEDULER: empty for in-process, local:N, or a Dask scheduler's address")
    parser.add_argument("--compression", default=DEFAULT_COMPRESSION, choices=COMPRESSION_CHOICES,
                        help="OUTPUT_COMPRESSION of every output (default zstd; deflate for software outside GDAL)")
    failed = run(parser.parse_args(argv))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
