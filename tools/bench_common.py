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
