"""End to end through qgis_process.bin, the way analysts run HyperFuse headless."""
import json
import re

import numpy as np
import pytest

from hyperfuse.core import registry
from helpers import PROVIDER_ALGORITHMS

ALGORITHMS = PROVIDER_ALGORITHMS


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


def _psnr(qgis_process, reference, fused):
    out = qgis_process("--json", "run", "hyperfuse:quality_assessment", "--", f"REFERENCE={reference}",
                       f"FUSED={fused}", "RATIO=3").stdout
    return json.loads(out[out.index("{"):])["results"]["PSNR"]


@pytest.fixture(scope="module")
def bicubic_psnr(qgis_process, small_pair, tmp_path_factory):
    cubic = str(tmp_path_factory.mktemp("bicubic") / "bicubic.tif")
    qgis_process("run", "hyperfuse:fuse_bicubic", "--", f"LR_HSI={small_pair['lr']}", f"HR_MSI={small_pair['ms']}",
                 f"OUTPUT={cubic}")
    return _psnr(qgis_process, small_pair["ref"], cubic)


@pytest.mark.parametrize("method_id", list(registry.METHODS))
def test_each_network_runs_headless_and_beats_bicubic(method_id, qgis_process, small_pair, bicubic_psnr, tmp_path):
    fused = str(tmp_path / f"{method_id}.tif")
    run = qgis_process("run", f"hyperfuse:fuse_{method_id}", "--", f"LR_HSI={small_pair['lr']}",
                       f"HR_MSI={small_pair['ms']}", "MODEL=2", "TRAIN_STEPS=60", f"OUTPUT={fused}")
    assert "MODEL_USED:\ttrained on the inputs" in run.stdout
    psnr = _psnr(qgis_process, small_pair["ref"], fused)
    assert np.isfinite(psnr) and psnr > bicubic_psnr, f"{method_id}: PSNR {psnr:.2f} vs bicubic {bicubic_psnr:.2f}"
