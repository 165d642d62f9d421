"""`make demo`: generate a scene, simulate the inputs, fuse them with qgis_process, print the quality.

The scene has the bands of the bundled EnMAP model (weights/*_enmap_s2_r3.pt) and the
inputs are simulated as EnMAP and Sentinel-2 10 m at ratio 3, so DeepSen3 with MODEL =
auto uses the bundled model and needs no training. Without the bundled file the scene has
120 bands and DeepSen3 trains on the inputs (--steps). Every step but the scene
generation runs through `qgis_process.bin run hyperfuse:…`, the same command an analyst
would use on a server. Outputs go to demo_output/ (or --output), including the HTML
quality report.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RATIO = 3


def qgis_process(algorithm: str, parameters: list) -> None:
    """Run one algorithm; ``parameters`` is a list of (name, value), names may repeat."""
    command = ["qgis_process.bin", "run", f"hyperfuse:{algorithm}", "--"] + [f"{k}={v}" for k, v in parameters]
    print(f"\n$ {' '.join(command)}", flush=True)
    started = time.perf_counter()
    completed = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = [line for line in completed.stdout.splitlines()
             if line.strip() and "XDG_RUNTIME_DIR" not in line and "setapi" not in line]
    print("\n".join(lines[-12:]))
    if completed.returncode != 0:
        sys.exit(f"qgis_process failed for {algorithm} (exit {completed.returncode}).")
    print(f"({time.perf_counter() - started:.1f} s)", flush=True)


def bundled_wavelengths():
    """Band centres of the bundled EnMAP DeepSen3 model, or None when it is not installed."""
    from hyperfuse.core import registry
    from hyperfuse.core.inference import bundled, weights

    path = bundled.weights_path(registry.method("deepsen3"), bundled.PRESETS[0])
    return weights.load_weights(path)[1]["hs_wavelengths_nm"] if os.path.exists(path) else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=240, help="scene size in HR pixels")
    parser.add_argument("--steps", type=int, default=300,
                        help="DeepSen3 training steps, when no bundled model matches")
    parser.add_argument("--output", default=os.path.join(ROOT, "demo_output"))
    args = parser.parse_args()
    from hyperfuse.core.synthetic import write_scene

    shutil.rmtree(args.output, ignore_errors=True)
    os.makedirs(args.output)
    path = lambda name: os.path.join(args.output, name)  # noqa: E731
    started = time.perf_counter()
    wavelengths = bundled_wavelengths()
    bands = f"the {len(wavelengths)} EnMAP bands of the bundled model" if wavelengths else "120 bands (400–2500 nm)"
    print(f"Generating a synthetic {args.size} × {args.size} scene with {bands}, 10 m, UTM 33N…")
    write_scene(path("scene.tif"), args.size, args.size, wavelengths_nm=wavelengths, seed=7)
    qgis_process("simulate_degradation", [
        ("INPUT", path("scene.tif")), ("RATIO", RATIO), ("SRF", 0), ("MTF_GAIN", 0.25), ("SEED", 0),
        ("OUTPUT_LR_HSI", path("lr_hsi.tif")), ("OUTPUT_HR_MSI", path("hr_msi.tif")),
        ("OUTPUT_REFERENCE", path("reference.tif"))])
    qgis_process("fuse_deepsen3", [
        ("LR_HSI", path("lr_hsi.tif")), ("HR_MSI", path("hr_msi.tif")), ("MODEL", 0), ("TRAIN_STEPS", args.steps),
        ("DEVICE", 0), ("OUTPUT", path("fused_deepsen3.tif")), ("OUTPUT_WEIGHTS", path("deepsen3_demo.pt"))])
    qgis_process("fuse_bicubic", [("LR_HSI", path("lr_hsi.tif")), ("HR_MSI", path("hr_msi.tif")),
                                  ("OUTPUT", path("fused_bicubic.tif"))])
    qgis_process("quality_assessment", [
        ("REFERENCE", path("reference.tif")), ("FUSED", path("fused_deepsen3.tif")),
        ("FUSED", path("fused_bicubic.tif")), ("LR_HSI", path("lr_hsi.tif")), ("HR_MSI", path("hr_msi.tif")),
        ("RATIO", RATIO), ("OUTPUT_JSON", path("quality.json")), ("OUTPUT_HTML", path("quality_report.html"))])
    with open(path("quality.json"), encoding="utf-8") as handle:
        layers = {layer["name"].replace("fused_", ""): layer for layer in json.load(handle)["layers"]}
    print(f"\nQuality against the reference (ratio {RATIO}, Sentinel-2 10 m bands, PROTOCOL.md):\n")
    print(f"{'method':<10} {'PSNR dB':>8} {'SAM °':>7} {'ERGAS':>7} {'SSIM':>7} {'QNR':>7}")
    for name, m in layers.items():
        print(f"{name:<10} {m['PSNR']:8.2f} {m['SAM']:7.3f} {m['ERGAS']:7.3f} {m['SSIM']:7.4f} {m['QNR']:7.4f}")
    deep, cubic = layers["deepsen3"], layers["bicubic"]
    verdict = deep["PSNR"] > cubic["PSNR"] and deep["SAM"] < cubic["SAM"]
    print(f"\nDeepSen3 {'beats' if verdict else 'does NOT beat'} bicubic on PSNR and SAM. "
          f"Total {time.perf_counter() - started:.0f} s. Outputs and quality_report.html in {args.output}")
    if not verdict:
        sys.exit(1)


if __name__ == "__main__":
    main()
