"""Where a run may write, and writing so that nothing half-written is ever left behind.

:func:`check_destinations` is the one check, run before any work, that no output would
overwrite an input or another output and that every output's extension is one its writer
produces. Every output then goes to a hidden temporary file next to its destination and is
renamed onto it only when complete; any error (a cancel included) removes the temporary
file, and so does the interpreter's exit. Temporaries that a killed process left behind are
removed when a later run writes to the same folder and they are over a day old.
"""
from __future__ import annotations

import atexit
import contextlib
import glob
import os
import re
import shutil
import time
import uuid

from ..errors import UserInputError

RASTER_EXTENSIONS = (".tif", ".tiff")
STALE_AFTER_SECONDS = 24 * 3600
_TEMPORARY_NAME = re.compile(r"^\..+\.partial-[0-9a-f]{8}(\.[^.]*)?$")
# Temporaries being written by this process, removed at exit if a run never got to clean up.
_LIVE_TEMPORARIES: set = set()


def _same_file(a: str, b: str) -> bool:
    """True when two paths name one file: same real path (symlinks and '..' resolved), or a hard link."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check_destinations(inputs: dict, outputs: dict) -> None:
    """Refuse a run before it starts when an output would destroy an input or another output.

    ``inputs`` maps a parameter name to a path or a list of paths (None and '' are skipped);
    ``outputs`` maps a parameter name to ``(path, allowed_extensions)``. Checks, in order:
    that no output is the same file as any input (through symlinks, '..' or hard links) or
    as another output, then each output's extension and that its folder is writable.
    """
    given_inputs = [(name, path) for name, paths in inputs.items()
                    for path in (paths if isinstance(paths, (list, tuple)) else [paths]) if path]
    given_outputs = [(name, path, extensions) for name, (path, extensions) in outputs.items() if path]
    for i, (name, path, _) in enumerate(given_outputs):
        for input_name, input_path in given_inputs:
            if _same_file(path, input_path):
                raise UserInputError(
                    f"{name} '{path}' is the same file as the input {input_name} '{input_path}': the run would "
                    f"overwrite its own input. Choose another output file name.")
        for other_name, other_path, _ in given_outputs[i + 1:]:
            if _same_file(path, other_path):
                raise UserInputError(
                    f"{name} and {other_name} are the same file '{path}': one would overwrite the other. "
                    "Give each output its own file name.")
    for name, path, extensions in given_outputs:
        check_extension(name, path, extensions)
        ensure_writable(path)
        remove_stale_temporaries(os.path.dirname(os.path.abspath(path)))


def check_extension(name: str, path: str, extensions) -> None:
    """The writer decides the format, so the name must say that format (GeoTIFF bytes in a .png mislead GIS tools)."""
    extension = os.path.splitext(path)[1].lower()
    allowed = tuple(e.lower() for e in extensions)
    if allowed and extension not in allowed:
        raise UserInputError(
            f"{name} '{path}' ends in '{extension or '(no extension)'}', but this output is written as "
            f"{' or '.join(allowed)}. Give a file name ending in {allowed[0]}.")


def remove_stale_temporaries(folder: str, now: float | None = None) -> list:
    """Remove this plugin's temporary files in ``folder`` that are older than a day; return their paths."""
    now = time.time() if now is None else now
    removed = []
    for path in glob.glob(os.path.join(glob.escape(folder), ".*.partial-*")):
        if not _TEMPORARY_NAME.match(os.path.basename(path)) or path in _LIVE_TEMPORARIES:
            continue
        try:
            if now - os.path.getmtime(path) > STALE_AFTER_SECONDS:
                os.remove(path)
                removed.append(path)
        except OSError:
            continue  # another process may be removing it, or it is not ours to remove
    return removed


@atexit.register
def _remove_live_temporaries() -> None:
    for path in list(_LIVE_TEMPORARIES):
        discard_temporary(path)


def discard_temporary(path: str) -> None:
    _LIVE_TEMPORARIES.discard(path)
    if os.path.exists(path):
        os.remove(path)


def ensure_writable(path: str) -> None:
    """Fail early, before any work, when ``path`` cannot be written."""
    folder = os.path.dirname(os.path.abspath(path)) or "."
    if not os.path.isdir(folder):
        raise UserInputError(f"The output folder '{folder}' does not exist. Create it or choose another output path.")
    if not os.access(folder, os.W_OK):
        raise UserInputError(f"The output folder '{folder}' is not writable. Choose a folder you can write to.")
    if os.path.isdir(path):
        raise UserInputError(f"The output path '{path}' is a folder. Give a file name such as fused.tif.")
    if os.path.exists(path) and not os.access(path, os.W_OK):
        raise UserInputError(f"The output file '{path}' exists and is read-only. Remove it or choose another name.")


def free_space(path: str) -> str:
    """The room left on the disk that holds ``path``, for error messages: GDAL reports a full disk as a tile it could
    not write ("WriteEncodedTile/Strip() failed"), without the reason."""
    try:
        free = shutil.disk_usage(os.path.dirname(os.path.abspath(path))).free
    except OSError:
        return "the room left on its disk is unknown"
    return f"{free / 1e6:,.0f} MB free on its disk"


def temporary_path(path: str) -> str:
    """A hidden, unique name next to ``path`` that keeps its extension (GDAL picks drivers by it)."""
    folder, name = os.path.split(os.path.abspath(path))
    extension = os.path.splitext(name)[1]
    temp = os.path.join(folder, f".{name}.partial-{uuid.uuid4().hex[:8]}{extension}")
    _LIVE_TEMPORARIES.add(temp)
    return temp


def commit_temporary(temp: str, path: str) -> None:
    """Move a complete temporary file onto its destination."""
    os.replace(temp, path)
    _LIVE_TEMPORARIES.discard(temp)


@contextlib.contextmanager
def atomic_path(path: str):
    """Yield a temporary path to write; rename it onto ``path`` on success, remove it on error."""
    ensure_writable(path)
    temp = temporary_path(path)
    try:
        yield temp
        commit_temporary(temp, path)
    finally:
        discard_temporary(temp)


def write_text(path: str, text: str) -> None:
    with atomic_path(path) as temp:
        with open(temp, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
