"""What every benchmark script shares: the hardware that produced a table, and how one row is run and scored."""
from __future__ import annotations

import os
import platform
import time


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def hardware(threads: int) -> str:
    import torch

    device = f"GPU {torch.cuda.get_device_name(0)} available but not used" if torch.cuda.is_available() else "no GPU"
    return f"{threads} CPU threads of an {cpu_name()}, PyTorch {torch.__version__}, {device}"


def metric_cells(row: dict) -> str:
    """The PSNR, SAM, ERGAS and SSIM cells of a table row ("–" for a run that did not happen)."""
    if row["seconds"] is None:
        return "– | – | – | –"
    return f"{row['PSNR']:.2f} | {row['SAM']:.3f} | {row['ERGAS']:.3f} | {row['SSIM']:.4f}"


def measure_row(rows: list, group: str, label: str, run, *, work: str, ref: str, ratio: int, window=None) -> None:
    """Run ``run(output_path)`` (returns a note or None), score its output against ``ref`` with the
    quality-assessment core (on ``window``, or the whole raster) and append the row. A method that refuses the
    inputs is a result too: its row says why."""
    from hyperfuse.core.assessment.quality import assess_files
    from hyperfuse.core.errors import UserInputError

    output = os.path.join(work, f"{group}_{label}.tif".replace(" ", "_").replace(",", ""))
    started = time.perf_counter()
    try:
        note = run(output) or ""
    except UserInputError as error:
        rows.append({"group": group, "method": label, "note": f"not run: {error}", "seconds": None})
        print(f"  {group:<22} {label:<11} not run: {error}", flush=True)
        return
    seconds = time.perf_counter() - started
    scores = assess_files(ref, output, ratio, window=window)
    rows.append({"group": group, "method": label, "note": note, "seconds": seconds,
                 **{k: scores[k] for k in ("PSNR", "SAM", "ERGAS", "SSIM")}})
    print(f"  {group:<22} {label:<11} PSNR {scores['PSNR']:6.2f}  SAM {scores['SAM']:6.3f}  {seconds:6.1f} s "
          f"{note}", flush=True)
