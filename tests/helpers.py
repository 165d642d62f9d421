"""Helpers the test modules import (tests/ is on sys.path under pytest's default import mode)."""
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_DATA = os.path.abspath(os.path.join(ROOT, "..", "shared", "data"))


def shared_scene(name: str) -> str:
    """Path of a development scene, or a skip with the reason when ../shared/data is absent."""
    path = os.path.join(SHARED_DATA, name)
    if not os.path.exists(path):
        pytest.skip(f"{name} is not available: ../shared/data is absent on this machine")
    return path
