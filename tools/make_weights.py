"""Reproduce every bundled weights file (`make weights`).

For each preset of core/inference/bundled.py and each of the five networks, trains by the bundled
recipe (tools/weights_recipe.py: supervised on the development scenes in ../shared/data, seed 0,
CPU) and writes weights/<method>_<preset>.pt with its model card. Prints one line per file: size,
steps, validation PSNR and SAM against bicubic on the held-out parts. Then trains each network's
generic model (tools/generic_recipe.py) into weights/<method>_generic.pt, and rewrites
weights/index.json, what MODEL = auto matches against (tools/bundled_index.py).

    python tools/make_weights.py [--preset enmap_s2_r3 | --preset generic] [--method deepsen3]
"""
from __future__ import annotations

import argparse
import os
import sys
import time


def main() -> None:
    import generic_recipe
    import weights_recipe
    from bundled_index import write_index
    from hyperfuse.core import registry
    from hyperfuse.core.inference import bundled

    parser = argparse.ArgumentParser(description="Train the bundled models.")
    parser.add_argument("--preset", action="append",
                        choices=[r.preset.id for r in weights_recipe.RECIPES] + [bundled.GENERIC_ID],
                        help="only this preset (repeatable); default: all")
    parser.add_argument("--method", action="append", choices=list(registry.METHODS),
                        help="only this method (repeatable); default: all")
    args = parser.parse_args()
    if not os.path.isdir(weights_recipe.SHARED_DATA):
        sys.exit(f"{weights_recipe.SHARED_DATA} is missing: the bundled models are trained on its scenes.")
    for recipe in weights_recipe.RECIPES:
        if args.preset and recipe.preset.id not in args.preset:
            continue
        data = weights_recipe.training_data(recipe)
        for method in registry.METHODS.values():
            if args.method and method.id not in args.method:
                continue
            path = bundled.weights_path(method, recipe.preset)
            started = time.perf_counter()
            _, card, report = weights_recipe.train_preset(method, recipe, path, data=data)
            v = report.validation
            print(f"{os.path.basename(path)}: {os.path.getsize(path) / 1e6:.2f} MB, {report.steps} steps "
                  f"({report.stopped_because}), {time.perf_counter() - started:.0f} s; validation PSNR "
                  f"{v['PSNR']:.2f} dB (bicubic {v['bicubic_PSNR']:.2f}), SAM {v['SAM']:.3f}° "
                  f"(bicubic {v['bicubic_SAM']:.3f}°)", flush=True)
    for method in registry.METHODS.values():
        if (args.preset and bundled.GENERIC_ID not in args.preset) or (args.method and method.id not in args.method):
            continue
        path = bundled.generic_weights_path(method)
        _, card = generic_recipe.train_generic_weights(method, path, weights_recipe.SHARED_DATA)
        v = card["validation"]
        print(f"{os.path.basename(path)}: {os.path.getsize(path) / 1e6:.2f} MB, {card['training']['steps']} steps, "
              f"{card['training']['seconds']} s; validation loss {v['loss']:.4f} (the lift alone "
              f"{v['loss_of_the_lift']:.4f})", flush=True)
    print(f"wrote {write_index()}")


if __name__ == "__main__":
    main()
