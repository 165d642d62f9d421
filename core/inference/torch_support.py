"""Lazy access to PyTorch and the choice of device.

The plugin loads without torch; only running a network needs it. :func:`require_torch`
imports it on first use and, when it is missing, raises an error that says how to install
it for the Python that QGIS runs.
"""
from __future__ import annotations

import os
import platform
import sys
import threading

from ..environment import environment_folder
from ..errors import UserInputError

DEVICES = ["auto", "cpu", "cuda"]
TORCH_VERSION = "2.13.0"
CPU_INDEX = "https://download.pytorch.org/whl/cpu"
CUDA_INDEX = "https://download.pytorch.org/whl/cu130"

INSTALL_HINT = (
    "PyTorch is not installed for the Python that QGIS uses (Python {version}). HyperFuse loads it from a "
    "virtual environment in the QGIS profile, which plugin upgrades leave in place:\n  {folder}\n"
    "{intro}:\n{commands}"
    "Then restart QGIS. See the README, section 'PyTorch'.")

# Linux wheels on PyPI bundle CUDA (several GB), Windows ones are CPU-only, macOS has no CUDA.
INSTALL_COMMANDS = {
    "linux": ("Create it and install PyTorch's CPU-only build from a terminal",
              '  {python} -m venv --system-site-packages "{folder}"\n'
              '  "{folder}/bin/pip" install torch=={torch} --index-url {cpu}\n'
              "For an NVIDIA GPU, leave out --index-url and its URL: PyPI's Linux build includes CUDA.\n"),
    "win32": ("Create it and install PyTorch's CPU-only build from the OSGeo4W Shell",
              '  python -m venv --system-site-packages "{folder}"\n'
              '  "{folder}\\Scripts\\pip" install torch=={torch} --index-url {cpu}\n'
              "For an NVIDIA GPU, use --index-url {cuda} instead.\n"),
    "darwin": ("Create it and install PyTorch from a terminal",
               '  {python} -m venv --system-site-packages "{folder}"\n'
               '  "{folder}/bin/pip" install torch=={torch}\n'),
}


def qgis_python() -> str:
    """The interpreter QGIS embeds, so that the environment is made for the same Python version."""
    version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    path = os.path.join(sys.base_exec_prefix, "bin", version)
    return f'"{path}"' if os.path.isfile(path) else "python3"


def install_hint(folder: str | None = None, platform: str | None = None) -> str:
    """How to install PyTorch into the environment folder HyperFuse reads, for this platform."""
    folder = folder or environment_folder()
    intro, commands = INSTALL_COMMANDS.get(platform or sys.platform, INSTALL_COMMANDS["linux"])
    commands = commands.format(python=qgis_python(), folder=folder, torch=TORCH_VERSION, cpu=CPU_INDEX,
                               cuda=CUDA_INDEX)
    return INSTALL_HINT.format(version=sys.version.split()[0], folder=folder, intro=intro, commands=commands)


# The import load_torch_ahead started, if any; require_torch waits for it to end.
_import_ahead: threading.Thread | None = None


def load_torch_ahead() -> None:
    """Start importing torch in a thread of its own, so that the caller's next steps overlap it: GDAL releases the
    interpreter while it reads, and importing torch took about 2 s. :func:`require_torch` then waits for that
    thread and reports a failed import as ever."""
    global _import_ahead
    if "torch" not in sys.modules and (_import_ahead is None or not _import_ahead.is_alive()):
        _import_ahead = threading.Thread(target=_import_torch_quietly, name="hyperfuse-torch-import", daemon=True)
        _import_ahead.start()


def _import_torch_quietly() -> None:
    try:
        import torch  # noqa: F401
    except Exception:       # require_torch imports it again and says what is missing
        pass


def require_torch():
    """Import torch, or raise a :class:`UserInputError` that says how to install it."""
    # Joined rather than left to the import lock: an `import torch` that finds the module of a running import in
    # sys.modules waits for it and then returns that module object even when its import failed, a torch without
    # its attributes.
    if _import_ahead is not None:
        _import_ahead.join()
    try:
        import torch
    except ImportError as exc:
        raise UserInputError(install_hint()) from exc
    return torch


def select_device(name: str = "auto"):
    """A ``torch.device`` for ``auto`` (CUDA when available), ``cpu`` or ``cuda``."""
    torch = require_torch()
    if name not in DEVICES:
        raise UserInputError(f"Unknown device '{name}'; use one of {', '.join(DEVICES)}.")
    if name == "cuda" and not torch.cuda.is_available():
        raise UserInputError("DEVICE is cuda but PyTorch sees no CUDA GPU here. Choose auto or cpu, or install "
                             "a CUDA build of PyTorch that matches the GPU driver.")
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)


def network_input(values, device):
    """One (bands, rows, cols) float32 array as a batch of one on ``device``, channels last.

    oneDNN's convolutions run on channels-last tensors without reordering every layer's input and output: on one
    414² block of the bundled EnMAP models, DeepSen3's forward pass went from 2.5 s to 1.9 s, SSJCN's from 3.6 s
    to 2.4 s, MHF-net's from 5.6 s to 2.8 s and MS-SSFNet's from 1.6 s to 1.1 s (MLPLN, per pixel, unchanged).
    """
    torch = require_torch()
    return torch.from_numpy(values)[None].to(device).contiguous(memory_format=torch.channels_last)


# Rows of a channels-last output moved to the bands-first layout at a time (network_output).
LAYOUT_ROWS = 4


def network_output(batch, bands_innermost: bool = False) -> "numpy.ndarray":
    """The first image of a network's output batch as a float32 (bands, rows, cols) array, C-ordered.

    A channels-last image on the CPU (some columns of a wider one, too) changes layout a few rows at a time: its
    pixels' bands then stay in the cache while they are spread over the band planes. On a 384² × 218-band block
    that took 0.08 s, against 0.14 s for one ``contiguous()`` of the whole image.

    With ``bands_innermost`` such an image keeps its layout: the array is a bands-first view of its pixels, each
    pixel's bands side by side (core.layout.bands_innermost), copied only where the image is some columns of a
    wider one. A fusion's projection and its writer take that layout as it lies; the change of layout took 2.4 s
    of a 1500² × 218-band DeepSen3 fusion."""
    torch = require_torch()
    image = batch[0].float()
    if image.device.type != "cpu" or image.is_contiguous() or image.stride(0) != 1:
        return image.contiguous().cpu().numpy()
    pixels = image.permute(1, 2, 0)                 # (rows, cols, bands)
    if bands_innermost:
        return pixels.contiguous().numpy().transpose(2, 0, 1)
    target = torch.empty(image.shape, dtype=torch.float32)
    for start in range(0, image.shape[1], LAYOUT_ROWS):
        target[:, start:start + LAYOUT_ROWS].copy_(pixels[start:start + LAYOUT_ROWS].permute(2, 0, 1))
    return target.numpy()


def numeric_platform(device) -> str:
    """What decides bit-level results of training: torch version, device, CPU instruction set and processor.

    The same seed and inputs give identical weights on the same platform; other CPU kernels
    (AVX2 against AVX-512, say) round differently, and the differences grow over a run. So do
    other processors with the same instruction set: an AMD EPYC with AVX-512 retrained the
    smallest bundled model to other weights than the processor that trained it, whose card
    named only "CPU AVX512".
    """
    torch = require_torch()
    if getattr(device, "type", str(device)) == "cuda":
        return f"torch {torch.__version__}, CUDA {torch.version.cuda}, {torch.cuda.get_device_name(0)}"
    return (f"torch {torch.__version__}, CPU {torch.backends.cpu.get_cpu_capability()} ({processor_name()}), "
            f"{torch.get_num_threads()} threads")


def processor_name() -> str:
    """The CPU's model name (Linux's /proc/cpuinfo), or what Python's ``platform`` module knows of it."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown processor"
