"""The bundled-model index (weights/index.json): MODEL = auto reads no weights file until one is chosen,
the shipped core holds no development recipe, the index matches the files, a damaged file is reported."""
from __future__ import annotations

import glob
import json
import os
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from bundled_index import index_entry, write_index
from helpers import ROOT, save_random_weights
from hyperfuse.core import registry, synthetic
from hyperfuse.core.errors import UserInputError
from hyperfuse.core.feedback import Feedback
from hyperfuse.core.inference import bundled, weights
from hyperfuse.core.protocol import simulation, srf

DEEPSEN3 = registry.method("deepsen3")
HS, MS, RATIO = 20, 4, 3

# Importing the plugin (provider and every algorithm) and matching with MODEL = auto, with
# torch.load counted: the index alone decides, so nothing is loaded.
IMPORT_SCRIPT = textwrap.dedent("""
    import sys
    sys.path.insert(0, {parent!r})
    sys.path.append("/usr/share/qgis/python/plugins")
    import torch
    loaded = []
    real_load = torch.load
    torch.load = lambda path, *a, **k: (loaded.append(str(path)), real_load(path, *a, **k))[1]
    from qgis.core import QgsApplication
    app = QgsApplication([], False)
    app.initQgis()
    from processing.core.Processing import Processing
    Processing.initialize()
    from hyperfuse import classFactory
    plugin = classFactory(None)
    plugin.initProcessing()
    from hyperfuse.core import registry
    from hyperfuse.core.inference import bundled
    print("AFTER_IMPORT", len(loaded))
    entry = next(e for e in bundled.read_index() if e["file"] == "mlpln_enmap_s2_r3.pt")
    found = bundled.find_bundled_model(registry.method("mlpln"), entry["hs_bands"], entry["ms_bands"],
                                       entry["ratio"], entry["hs_wavelengths_nm"], entry["ms_wavelengths_nm"])
    missed = bundled.find_bundled_model(registry.method("mlpln"), entry["hs_bands"], entry["ms_bands"], 7,
                                        entry["hs_wavelengths_nm"], entry["ms_wavelengths_nm"])
    print("MATCHED", found.rsplit("/", 1)[-1], missed, len(loaded))
""")


def test_importing_the_plugin_and_matching_load_no_weights_file(plugin_parent, tmp_path):
    env = {"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    completed = subprocess.run([sys.executable, "-c", IMPORT_SCRIPT.format(parent=plugin_parent)], env=env,
                               capture_output=True, text=True, timeout=300)
    output = completed.stdout + completed.stderr
    assert "AFTER_IMPORT 0" in completed.stdout, output
    assert "MATCHED mlpln_enmap_s2_r3.pt None 0" in completed.stdout, output


@pytest.fixture
def counted_loads(monkeypatch):
    """Paths given to torch.load (every weights file is read through it, in weights.load_weights)."""
    loaded, real_load = [], torch.load

    def counting_load(path, *args, **kwargs):
        loaded.append(os.path.basename(str(path)))
        return real_load(path, *args, **kwargs)

    monkeypatch.setattr(torch, "load", counting_load)
    return loaded


def _simulated_pair(folder, size, hs_wavelengths):
    scene = str(folder / "scene.tif")
    synthetic.write_scene(scene, size, size, wavelengths_nm=hs_wavelengths, seed=5)
    paths = {k: str(folder / f"{k}.tif") for k in ("lr", "ms", "ref")}
    settings = simulation.SimulationSettings(ratio=RATIO, srf=srf.preset("s2a_10m").load())
    simulation.simulate(scene, settings, paths["lr"], paths["ms"], paths["ref"])
    return paths


def test_a_matching_run_loads_only_the_chosen_file_once(qgis_app, counted_loads, tmp_path):
    import processing

    entry = next(e for e in bundled.read_index() if e["file"] == "deepsen3_enmap_s2_r3.pt")
    pair = _simulated_pair(tmp_path, 36, entry["hs_wavelengths_nm"])
    result = processing.run("hyperfuse:fuse_deepsen3", {"LR_HSI": pair["lr"], "HR_MSI": pair["ms"], "MODEL": 0,
                                                        "OUTPUT": str(tmp_path / "fused.tif")})
    assert result["MODEL_USED"] == "deepsen3_enmap_s2_r3.pt"
    assert counted_loads == ["deepsen3_enmap_s2_r3.pt"]


def test_a_run_that_matches_no_sensor_specific_model_loads_only_the_generic_one(qgis_app, counted_loads,
                                                                                small_pair, tmp_path):
    import processing

    result = processing.run("hyperfuse:fuse_deepsen3", {"LR_HSI": small_pair["lr"], "HR_MSI": small_pair["ms"],
                                                        "MODEL": 0, "OUTPUT": str(tmp_path / "fused.tif")})
    assert result["MODEL_USED"] == "deepsen3_generic.pt"
    assert counted_loads == ["deepsen3_generic.pt"]


# A path component or a name that points to the development data: ../shared/data, "shared" in a
# path join, SHARED_DATA. Words such as "_shared_bands" or "shared endmembers" are not paths.
DEVELOPMENT_PATH = re.compile(r"shared[\\/]|[\\/]shared\b|[\"']shared[\"']|shared_data", re.IGNORECASE)
TOOLS_IMPORT = re.compile(r"^\s*(from|import)\s+(weights_recipe|bundled_index|make_weights|tools)\b", re.MULTILINE)


def _plugin_files(*folders):
    for folder in folders:
        for path in sorted(glob.glob(os.path.join(ROOT, folder, "**", "*"), recursive=True)):
            if os.path.isfile(path) and "__pycache__" not in path:
                yield path


def test_core_has_no_path_to_development_data_and_the_plugin_never_imports_tools():
    found = []
    for path in _plugin_files("core"):
        with open(path, encoding="utf-8", errors="replace") as handle:
            found += [f"{os.path.relpath(path, ROOT)}:{n}: {line.strip()}"
                      for n, line in enumerate(handle, start=1) if DEVELOPMENT_PATH.search(line)]
    assert not found, "\n".join(found)
    for path in _plugin_files("core", "algorithms", "processing_provider", "nets"):
        if path.endswith(".py"):
            with open(path, encoding="utf-8") as handle:
                assert not TOOLS_IMPORT.search(handle.read()), path
    assert not hasattr(bundled, "train_preset") and not hasattr(bundled, "development_scene")


def test_the_index_matches_the_bundled_files():
    with open(os.path.join(bundled.BUNDLED_DIR, bundled.INDEX_NAME), encoding="utf-8") as handle:
        index = json.load(handle)
    assert index["format"] == bundled.INDEX_FORMAT
    entries = bundled.read_index()
    files = sorted(os.path.basename(p) for p in glob.glob(os.path.join(bundled.BUNDLED_DIR, "*.pt")))
    assert [e["file"] for e in entries] == files and files
    for entry in entries:
        path = os.path.join(bundled.BUNDLED_DIR, entry["file"])
        assert bundled.file_sha256(path) == entry["sha256"], entry["file"]
        assert entry == index_entry(path), f"{entry['file']}: the index differs from its card; run make weights"
        assert entry["preset"] in [p.id for p in bundled.PRESETS] + [bundled.GENERIC_ID]
        assert entry.get("generic", False) == (entry["preset"] == bundled.GENERIC_ID)


def _indexed_folder(folder, *names):
    """Tiny DeepSen3 files for HS × MS bands at RATIO under ``names``, and their index."""
    for name in names:
        save_random_weights(str(folder / name), HS, MS, RATIO)
    write_index(str(folder))
    return str(folder)


def test_a_file_changed_after_indexing_is_reported_as_a_damaged_install(tmp_path):
    folder = _indexed_folder(tmp_path, "deepsen3_test.pt")
    path = bundled.find_bundled_model(DEEPSEN3, HS, MS, RATIO, None, folder=folder)
    assert path == os.path.join(folder, "deepsen3_test.pt")
    with open(path, "r+b") as handle:       # one byte changed: told by the hash, without loading the file
        handle.seek(os.path.getsize(path) // 2)
        byte = handle.read(1)
        handle.seek(-1, os.SEEK_CUR)
        handle.write(bytes([byte[0] ^ 0x01]))
    with pytest.raises(weights.InvalidWeightsFile) as info:
        bundled.find_bundled_model(DEEPSEN3, HS, MS, RATIO, None, folder=folder)
    message = str(info.value)
    assert path in message and "SHA-256 does not match index.json" in message and "\n" not in message


def test_a_listed_file_that_is_missing_is_skipped_with_a_note(tmp_path):
    folder = _indexed_folder(tmp_path, "deepsen3_a.pt", "deepsen3_b.pt")
    os.remove(os.path.join(folder, "deepsen3_a.pt"))
    feedback = Feedback()
    found = bundled.find_bundled_model(DEEPSEN3, HS, MS, RATIO, None, folder=folder, feedback=feedback)
    assert found == os.path.join(folder, "deepsen3_b.pt")
    assert any("deepsen3_a.pt" in m and "missing" in m for m in feedback.messages)
    os.remove(found)
    assert bundled.find_bundled_model(DEEPSEN3, HS, MS, RATIO, None, folder=folder) is None


def test_inputs_the_index_does_not_cover_match_nothing(tmp_path):
    folder = _indexed_folder(tmp_path, "deepsen3_test.pt")
    assert bundled.find_bundled_model(DEEPSEN3, HS, MS, RATIO + 1, None, folder=folder) is None
    assert bundled.find_bundled_model(DEEPSEN3, HS + 1, MS, RATIO, None, folder=folder) is None
    assert bundled.find_bundled_model(registry.method("mlpln"), HS, MS, RATIO, None, folder=folder) is None


@pytest.mark.parametrize("content,expected", [
    (None, "is missing"),
    ("{not json", "cannot be read"),
    ('{"format": "hyperfuse-bundled-index/1", "models": [{"file": "x.pt"}]}', "not a valid"),
    ('{"format": "something else", "models": []}', "not a valid"),
])
def test_a_missing_or_unreadable_index_is_a_clear_error(tmp_path, content, expected):
    save_random_weights(str(tmp_path / "deepsen3_test.pt"), HS, MS, RATIO)
    if content is not None:
        (tmp_path / bundled.INDEX_NAME).write_text(content)
    with pytest.raises(UserInputError) as info:
        bundled.find_bundled_model(DEEPSEN3, HS, MS, RATIO, list(np.linspace(420, 1000, HS)), folder=str(tmp_path))
    message = str(info.value)
    assert expected in message and bundled.INDEX_NAME in message and "Reinstall the plugin" in message
