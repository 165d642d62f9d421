"""End to end through qgis_process.bin, the way analysts run HyperFuse headless."""
import json
import re

import numpy as np

ALGORITHMS = ("hyperfuse:simulate_degradation", "hyperfuse:fuse_deepsen3", "hyperfuse:quality_assessment")


def test_list_shows_the_algorithms(qgis_process):
    listing = qgis_process("list").stdout
    for algorithm in ALGORITHMS:
        assert algorithm in listing


def test_help_documents_every_parameter(qgis_process, qgis_app):
    from qgis.core import QgsApplication

    for algorithm in ALGORITHMS:
        text = qgis_process("help", algorithm).stdout
        definition = QgsApplication.processingRegistry().algorithmById(algorithm)
        names = [p.name() for p in definition.parameterDefinitions()]
        assert len(names) >= 4
        for name in names:
            # Each argument is listed with its description line and a help line under it.
            block = re.search(rf"^{name}: .+\n\t(.+)\n", text, re.MULTILINE)
            assert block and len(block.group(1)) > 20, f"{algorithm}: {name} is not documented"


def test_fuse_deepsen3_runs_headless_and_beats_bicubic(qgis_process, small_pair, tmp_path):
    fused, cubic = str(tmp_path / "deepsen3.tif"), str(tmp_path / "bicubic.tif")
    qgis_process("run", "hyperfuse:fuse_deepsen3", "--", f"LR_HSI={small_pair['lr']}", f"HR_MSI={small_pair['ms']}",
                 "MODEL=2", "TRAIN_STEPS=60", f"OUTPUT={fused}")
    qgis_process("run", "hyperfuse:fuse_bicubic", "--", f"LR_HSI={small_pair['lr']}", f"HR_MSI={small_pair['ms']}",
                 f"OUTPUT={cubic}")
    scores = {}
    for name, path in (("deepsen3", fused), ("bicubic", cubic)):
        out = qgis_process("--json", "run", "hyperfuse:quality_assessment", "--", f"REFERENCE={small_pair['ref']}",
                           f"FUSED={path}", "RATIO=3").stdout
        scores[name] = json.loads(out[out.index("{"):])["results"]
    assert np.isfinite(scores["deepsen3"]["PSNR"])
    assert scores["deepsen3"]["PSNR"] > scores["bicubic"]["PSNR"]
