"""Making packages from a virtual environment importable by the Python that QGIS embeds.

QGIS runs plugins in its own Python (the system one on Linux), which usually lacks torch.
On load, HyperFuse puts in front of ``sys.path``:
  1. every folder listed in the ``HYPERFUSE_SITE_PACKAGES`` environment variable
     (separated by the OS path separator), and
  2. the site-packages of a virtual environment named ``.venv`` inside the plugin folder,
     when its Python version matches the running one.
They go first, exactly as inside the virtual environment itself, because torch needs newer
releases of some pure-Python packages (sympy) than a Linux distribution may ship. Packages
QGIS has already imported, such as its numpy, stay as they are; the virtual environment
must therefore not hold a numpy 2 (the Makefile constrains it below 2).
"""
from __future__ import annotations

import glob
import os
import sys

PLUGIN_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def candidate_site_packages() -> list:
    folders = [p for p in os.environ.get("HYPERFUSE_SITE_PACKAGES", "").split(os.pathsep) if p]
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    folders += glob.glob(os.path.join(PLUGIN_DIR, ".venv", "lib", version, "site-packages"))
    folders += glob.glob(os.path.join(PLUGIN_DIR, ".venv", "Lib", "site-packages"))  # Windows layout
    return [os.path.abspath(f) for f in folders if os.path.isdir(f)]


def add_site_packages() -> list:
    """Put the candidate folders in front of ``sys.path``; returns those added."""
    added = [folder for folder in candidate_site_packages() if folder not in sys.path]
    sys.path[0:0] = added
    return added
