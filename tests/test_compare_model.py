"""The shipped model "Compare fusion methods" (models/compare_fusion_methods.model3) as an algorithm."""
import json
import re

import numpy as np
import pytest

# The fusions the shipped model runs, by the method names their outputs carry.
COMPARED = ["MLPLN", "SSJCN", "MHF-net", "MS-SSFNet", "DeepSen3", "GSA (Gram-Schmidt adaptive)",
            "MTF-GLP-HS / SFIM-HS", "CNMF", "Bicubic upsampling"]


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    from hyperfuse.core import synthetic

    path = str(tmp_path_factory.mktemp("compare") / "scene.tif")
    synthetic.write_scene(path, 48, 48, wavelengths_nm=np.linspace(420, 1000, 30), seed=2)
    return path


def test_the_shipped_model_runs_headless_and_ranks_every_method(qgis_process, scene, tmp_path):
    report, metrics = str(tmp_path / "report.html"), str(tmp_path / "metrics.json")
    run = qgis_process("run", "hyperfuse:compare_fusion_methods", "--", f"REFERENCE={scene}", "RATIO=3", "SRF=0",
                       f"assess:REPORT={report}", f"assess:METRICS={metrics}")
    assert "Executed 11 algorithms" in run.stdout
    assessment = json.load(open(metrics))
    names = [layer["name"] for layer in assessment["layers"]]
    for method in COMPARED:
        assert sum(name.startswith(method) for name in names) == 1, (method, names)
    assert sorted(assessment["ranking"]["PSNR"]) == list(range(1, len(COMPARED) + 1))
    by_name = {layer["name"]: layer for layer in assessment["layers"]}
    bicubic = next(v for k, v in by_name.items() if k.startswith("Bicubic"))
    assert all(layer["PSNR"] > bicubic["PSNR"] for name, layer in by_name.items() if not name.startswith("Bicubic"))
    html = open(report, encoding="utf-8").read()
    table = re.search(r'<table class="summary">.*?</table>', html, re.DOTALL).group(0)
    for method in COMPARED:
        assert method in table, method


def test_the_shipped_model_is_listed_once_with_its_outputs(qgis_app):
    from qgis.core import QgsApplication

    registry = QgsApplication.processingRegistry()
    matches = [a for a in registry.algorithms() if a.displayName() == "Compare fusion methods"]
    assert [a.id() for a in matches] == ["hyperfuse:compare_fusion_methods"]
    assert sorted(o.name() for o in matches[0].outputDefinitions()) == ["assess:METRICS", "assess:REPORT"]
    assert matches[0].groupId() == "simulation"
