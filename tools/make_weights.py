"""Reproduce every bundled weights file (`make weights`).

For each preset of core/bundled.py and each of the five networks, trains by the bundled
recipe (supervised on the development scenes in ../shared/data, seed 0, CPU) and writes
weights/<method>_<preset>.pt with its model card. Prints one line per file: size,
steps, validation PSNR and SAM against bicubic on the held-out parts.

    python tools/make_weights.py [--preset enmap_s2_r3] [--method deepsen3]
"""
from __future__ import annotations

import argparse
import os
import sys
import time


def main() -> None:
    from hyperfuse.core import bundled, registry

    parser = argparse.ArgumentParser(description="Train the bundled models.")
    parser.add_argument("--preset", action="append", choices=[p.id for p in bundled.PRESETS],
                        help="only this preset (repeatable); default: all")
    parser.add_argument("--method", action="append", choices=list(registry.METHODS),
                        help="only this method (repeatable); default: all")
    args = parser.parse_args()
    if not os.path.isdir(bundled.SHARED_DATA):
        sys.exit(f"{bundled.SHARED_DATA} is missing: the bundled models are trained on its scenes.")
    for preset in bundled.PRESETS:
        if args.preset and preset.id not in args.preset:
            continue
        data = bundled.training_data(preset)
        for method in registry.METHODS.values():
            if args.method and method.id not in args.method:
                continue
            path = bundled.weights_path(method, preset)
            started = time.perf_counter()
            _, card, report = bundled.train_preset(method, preset, path, data=data)
            v = report.validation
            print(f"{os.path.basename(path)}: {os.path.getsize(path) / 1e6:.2f} MB, {report.steps} steps "
                  f"({report.stopped_because}), {time.perf_counter() - started:.0f} s; validation PSNR "
                  f"{v['PSNR']:.2f} dB (bicubic {v['bicubic_PSNR']:.2f}), SAM {v['SAM']:.3f}° "
                  f"(bicubic {v['bicubic_SAM']:.3f}°)", flush=True)


if __name__ == "__main__":
    main()
