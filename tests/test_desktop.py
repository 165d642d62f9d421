"""The real QGIS desktop, under Xvfb, with the plugin enabled, as a user sees it.

tests/desktop_session.py runs inside `qgis --code`: a network fusion and the shipped model
through Processing's "run and load results", GSA in-process and on two local Dask workers,
then what the project and the Processing Toolbox show, and a screenshot. These tests check what it saw.
"""
import json
import os
import shutil
import subprocess

import numpy as np
import pytest
import rasterio

HERE = os.path.dirname(os.path.abspath(__file__))
README_SCREENSHOT = os.path.join(os.path.dirname(HERE), "docs", "images", "qgis-desktop.png")
TRUE_COLOUR_NM = (640.0, 550.0, 470.0)


@pytest.fixture(scope="module")
def desktop(plugin_parent, tmp_path_factory):
    """What the desktop session saw, and its inputs."""
    import torch
    from hyperfuse.core import synthetic
    from hyperfuse.core.protocol import simulation, srf

    if shutil.which("xvfb-run") is None:
        pytest.fail("xvfb-run is missing: `make test` installs it (tools/install_system_packages.sh).")
    folder = tmp_path_factory.mktemp("desktop")
    paths = {name: str(folder / f"{name}.tif") for name in ("scene", "lr", "ms", "ref", "fused", "gsa_here",
                                                             "gsa_dask")}
    wavelengths = np.linspace(420, 1000, 40)
    synthetic.write_scene(paths["scene"], 72, 72, wavelengths_nm=wavelengths, seed=3)
    simulation.simulate(paths["scene"], simulation.SimulationSettings(ratio=3, srf=srf.preset("s2a_10m").load()),
                        paths["lr"], paths["ms"], paths["ref"])
    paths.update(report=str(folder / "report.html"), metrics=str(folder / "metrics.json"),
                 screenshot=str(folder / "desktop.png"))
    profile = folder / "profiles" / "profiles" / "test" / "QGIS"
    profile.mkdir(parents=True)
    (profile / "QGIS3.ini").write_text("[PythonPlugins]\nhyperfuse=true\n[qgis]\ncheckVersion=false\n")
    result = folder / "result.json"
    env = {key: value for key, value in os.environ.items() if key not in ("QT_QPA_PLATFORM", "PYTHONPATH")}
    env.update(QGIS_PLUGINPATH=plugin_parent, HYPERFUSE_DESKTOP_INPUTS=json.dumps(paths),
               HYPERFUSE_DESKTOP_RESULT=str(result),
               HYPERFUSE_SITE_PACKAGES=os.path.dirname(os.path.dirname(torch.__file__)))
    completed = subprocess.run(
        ["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24", "qgis", "--nologo", "--noversioncheck",
         "--profiles-path", str(folder / "profiles"), "--profile", "test", "--code",
         os.path.join(HERE, "desktop_session.py")],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)
    assert result.exists(), f"the desktop session wrote nothing (exit {completed.returncode}):\n" \
                            f"{completed.stdout[-3000:]}"
    seen = json.loads(result.read_text())
    assert "error" not in seen, seen["error"]
    return seen, paths, wavelengths


def test_the_fused_layer_opens_in_true_colour_with_a_descriptive_name(desktop):
    seen, paths, wavelengths = desktop
    assert seen["fusion"]["MODEL_USED"] == "deepsen3_generic.pt"
    (fused,) = [layer for layer in seen["layers"] if layer["source"] == paths["fused"]]
    nearest = [int(np.argmin(np.abs(wavelengths - target))) + 1 for target in TRUE_COLOUR_NM]
    assert fused["rgb_bands"] == nearest
    assert fused["name"] == "DeepSen3 fused (ratio 3, generic bundled model)"


def test_the_shipped_model_runs_from_the_desktop(desktop):
    seen, paths, _ = desktop
    assert os.path.getsize(paths["report"]) > 1000
    ranked = json.load(open(paths["metrics"]))["layers"]
    assert len(ranked) == 9


def test_dask_workers_started_from_the_desktop_give_the_in_process_result(desktop):
    _, paths, _ = desktop
    with rasterio.open(paths["gsa_here"]) as here, rasterio.open(paths["gsa_dask"]) as there:
        assert np.abs(here.read() - there.read()).max() == 0


def test_the_toolbox_lists_every_algorithm_once_and_whole(desktop):
    from helpers import PROVIDER_ALGORITHMS

    seen, _, _ = desktop
    listed = [entry["id"] for entry in seen["toolbox"]]
    assert sorted(listed) == sorted(PROVIDER_ALGORITHMS)
    assert len({entry["name"] for entry in seen["toolbox"]}) == len(listed)
    assert [entry["name"] for entry in seen["toolbox"] if not entry["fits"]] == []


def test_a_screenshot_is_saved_and_the_readme_shows_one(desktop):
    from qgis.PyQt.QtGui import QImage

    _, paths, _ = desktop
    image = QImage(paths["screenshot"])
    assert image.width() >= 1200 and image.height() >= 700
    # Not a blank frame: a desktop with a map and panels has many colours.
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
    assert len(colours) > 500
    readme = open(os.path.join(os.path.dirname(HERE), "README.md"), encoding="utf-8").read()
    assert "docs/images/qgis-desktop.png" in readme and os.path.isfile(README_SCREENSHOT)
