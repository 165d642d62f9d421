"""Shared fixtures: the plugin importable as ``hyperfuse``, a headless QGIS, generated data."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The checkout folder may have any name: a link called `hyperfuse` makes it importable.
_PLUGIN_PARENT = tempfile.mkdtemp(prefix="hyperfuse-plugins-")
os.symlink(ROOT, os.path.join(_PLUGIN_PARENT, "hyperfuse"))
sys.path.insert(0, _PLUGIN_PARENT)
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
if "/usr/share/qgis/python/plugins" not in sys.path:
    sys.path.append("/usr/share/qgis/python/plugins")
# The development tools (the weights recipe, the bundled-model index) import as top-level modules,
# as they do when tools/*.py run as scripts.
sys.path.append(os.path.join(ROOT, "tools"))


@pytest.fixture(scope="session")
def plugin_parent() -> str:
    return _PLUGIN_PARENT


@pytest.fixture(scope="session")
def qgis_app():
    """A headless QgsApplication with Processing and the HyperFuse provider registered."""
    from qgis.core import QgsApplication

    app = QgsApplication([], False)
    app.initQgis()
    from processing.core.Processing import Processing

    Processing.initialize()
    from hyperfuse import classFactory

    plugin = classFactory(None)
    plugin.initProcessing()
    yield app
    plugin.unload()


@pytest.fixture(scope="session")
def small_pair(tmp_path_factory):
    """A 72 × 72 generated scene (40 bands) and its simulated inputs at ratio 3."""
    from hyperfuse.core import synthetic
    from hyperfuse.core.protocol import simulation, srf

    folder = tmp_path_factory.mktemp("pair")
    scene = str(folder / "scene.tif")
    synthetic.write_scene(scene, 72, 72, wavelengths_nm=np.linspace(420, 1000, 40), seed=3)
    paths = {k: str(folder / f"{k}.tif") for k in ("lr", "ms", "ref")}
    settings = simulation.SimulationSettings(ratio=3, srf=srf.preset("s2a_10m").load())
    simulation.simulate(scene, settings, paths["lr"], paths["ms"], paths["ref"])
    paths["scene"] = scene
    return paths


def qgis_process_env(plugin_parent: str, profile: str) -> dict:
    """Environment for a qgis_process.bin subprocess that loads this checkout's plugin."""
    import torch

    env = dict(os.environ)
    env.update(QT_QPA_PLATFORM="offscreen", QGIS_PLUGINPATH=plugin_parent, QGIS_CUSTOM_CONFIG_PATH=profile,
               HYPERFUSE_SITE_PACKAGES=os.path.dirname(os.path.dirname(torch.__file__)))
    env.setdefault("XDG_RUNTIME_DIR", tempfile.mkdtemp(prefix="xdg-"))
    return env


@pytest.fixture(scope="session")
def qgis_process(plugin_parent, tmp_path_factory):
    """Run ``qgis_process.bin`` with the plugin enabled in a throw-away profile."""
    env = qgis_process_env(plugin_parent, str(tmp_path_factory.mktemp("qgis-profile")))
    subprocess.run(["qgis_process.bin", "plugins", "enable", "hyperfuse"], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def run(*args, check=True):
        completed = subprocess.run(["qgis_process.bin", *args], env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True)
        if check and completed.returncode != 0:
            raise AssertionError(f"qgis_process {' '.join(args)} failed:\n{completed.stdout[-3000:]}")
        return completed
    run.env = env  # for tests that start programs which call qgis_process themselves
    return run
