"""Writing files so that nothing half-written is ever left behind.

Every output goes to a hidden temporary file next to its destination and is renamed onto
it only when complete; any error (a cancel included) removes the temporary file.
"""
from __future__ import annotations

import contextlib
import os
import uuid

from .errors import UserInputError


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


def temporary_path(path: str) -> str:
    """A hidden, unique name next to ``path`` that keeps its extension (GDAL picks drivers by it)."""
    folder, name = os.path.split(os.path.abspath(path))
    extension = os.path.splitext(name)[1]
    return os.path.join(folder, f".{name}.partial-{uuid.uuid4().hex[:8]}{extension}")


@contextlib.contextmanager
def atomic_path(path: str):
    """Yield a temporary path to write; rename it onto ``path`` on success, remove it on error."""
    ensure_writable(path)
    temp = temporary_path(path)
    try:
        yield temp
        os.replace(temp, path)
    finally:
        if os.path.exists(temp):
            os.remove(temp)


def write_text(path: str, text: str) -> None:
    with atomic_path(path) as temp:
        with open(temp, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
