"""`make demo`: generate a scene, simulate the inputs, fuse them with qgis_process, print the quality.

Every step but the scene generation runs through `qgis_process.bin run hyperfuse:…`, the
same command an analyst would use on a server. Outputs go to demo_output/.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "demo_output")
RATIO = 3


def qgis_process(algorithm: str, **parameters) -> None:
    command = ["qgis_process.bin", "run", f"hyperfuse:{algorithm}", "--"] + [f"{k}={v}" for k, v in parameters.items()]
    print(f"\n$ {' '.join(command)}", flush=True)
    started = time.perf_counter()
    completed = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = [line for line in completed.stdout.splitlines()
             if line.strip() and "XDG_RUNTIME_DIR" not in line and "setapi" not in line]
    print("\n".join(lines[-12:]))
    if completed.returncode != 0:
        sys.exit(f"qgis_process failed for {algorithm} (exit {completed.returncode}).")
    print(f"({time.perf_counter() - started:.1f} s)", flush=True)


def main() -> None:
    from hyperfuse.core.synthetic import write_scene

    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    path = lambda name: os.path.join(OUT, name)  # noqa: E731
    started = time.perf_counter()
    print("Generating a synthetic 240 × 240 scene with 120 bands (400–2500 nm, 10 m, UTM 33N)…")
    write_scene(path("scene.tif"), 240, 240, seed=7)
    qgis_process("simulate_degradation", INPUT=path("scene.tif"), RATIO=RATIO, SRF=0, MTF_GAIN=0.25, SEED=0,
                 OUTPUT_LR_HSI=path("lr_hsi.tif"), OUTPUT_HR_MSI=path("hr_msi.tif"),
                 OUTPUT_REFERENCE=path("reference.tif"))
    qgis_process("fuse_deepsen3", LR_HSI=path("lr_hsi.tif"), HR_MSI=path("hr_msi.tif"), MODEL=0, TRAIN_STEPS=300,
                 DEVICE=0, OUTPUT=path("fused_deepsen3.tif"), OUTPUT_WEIGHTS=path("deepsen3_demo.pt"))
    qgis_process("fuse_bicubic", LR_HSI=path("lr_hsi.tif"), HR_MSI=path("hr_msi.tif"), OUTPUT=path("fused_bicubic.tif"))
    rows = []
    for name in ("deepsen3", "bicubic"):
        report = path(f"quality_{name}.json")
        qgis_process("quality_assessment", REFERENCE=path("reference.tif"), FUSED=path(f"fused_{name}.tif"),
                     RATIO=RATIO, OUTPUT_JSON=report)
        with open(report, encoding="utf-8") as handle:
            rows.append((name, json.load(handle)))
    print(f"\nQuality against the reference (ratio {RATIO}, Sentinel-2 10 m bands, PROTOCOL.md):\n")
    print(f"{'method':<10} {'PSNR dB':>8} {'SAM °':>7} {'ERGAS':>7} {'SSIM':>7}")
    for name, m in rows:
        print(f"{name:<10} {m['PSNR']:8.2f} {m['SAM']:7.3f} {m['ERGAS']:7.3f} {m['SSIM']:7.4f}")
    deep, cubic = rows[0][1], rows[1][1]
    verdict = deep["PSNR"] > cubic["PSNR"] and deep["SAM"] < cubic["SAM"]
    print(f"\nDeepSen3 {'beats' if verdict else 'does NOT beat'} bicubic on PSNR and SAM. "
          f"Total {time.perf_counter() - started:.0f} s. Outputs in {OUT}")
    if not verdict:
        sys.exit(1)


if __name__ == "__main__":
    main()
