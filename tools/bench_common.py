"""What every benchmark script shares: the description of the hardware that produced a table."""
from __future__ import annotations

import platform


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
