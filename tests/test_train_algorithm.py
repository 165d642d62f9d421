"""hyperfuse:train_model through QGIS Processing, and its weights reused by a fusion algorithm."""
import os

import pytest
from hyperfuse.algorithms.train import METHOD_IDS
from hyperfuse.core.assessment import quality as assessment
from hyperfuse.core.inference import weights as weights_io
from osgeo import gdal

TRAINING = {"METHOD": METHOD_IDS.index("deepsen3"), "STEPS": 15, "BATCH_SIZE": 4, "SEED": 3}


@pytest.fixture(scope="module")
def processing(qgis_app):
    import processing as qgis_processing

    return qgis_processing


def _crop(source: str, destination: str, row0: int, col0: int, rows: int, cols: int) -> str:
    gdal.Translate(destination, source, srcWin=[col0, row0, cols, rows])
    return destination


def test_weights_from_train_model_reproduce_its_validation_metrics(processing, small_pair, tmp_path):
    weights = str(tmp_path / "model.pt")
    log = str(tmp_path / "log.html")
    result = processing.run("hyperfuse:train_model", {
        **TRAINING, "MODE": 1, "REFERENCE": small_pair["scene"], "RATIO": 3, "SRF": 0,
        "OUTPUT_WEIGHTS": weights, "OUTPUT_LOG": log})
    _, card = weights_io.load_weights(weights)
    part = card["validation"]["parts"][0]
    assert result["VALIDATION_PSNR"] == pytest.approx(part["PSNR"])
    with open(log, encoding="utf-8") as handle:
        assert "<img" in handle.read()

    # The same simulation as the training data, cropped to the validation window.
    sim = {k: str(tmp_path / f"{k}.tif") for k in ("lr", "ms", "ref")}
    processing.run("hyperfuse:simulate_degradation", {
        "INPUT": small_pair["scene"], "RATIO": 3, "SRF": 0, "SEED": 3, "OUTPUT_LR_HSI": sim["lr"],
        "OUTPUT_HR_MSI": sim["ms"], "OUTPUT_REFERENCE": sim["ref"]})
    row0, col0, rows, cols = part["window"]
    lr = _crop(sim["lr"], str(tmp_path / "lr_val.tif"), row0 // 3, col0 // 3, rows // 3, cols // 3)
    ms = _crop(sim["ms"], str(tmp_path / "ms_val.tif"), row0, col0, rows, cols)
    ref = _crop(sim["ref"], str(tmp_path / "ref_val.tif"), row0, col0, rows, cols)
    fused = str(tmp_path / "fused.tif")
    # The network alone (PROJECTION 1 none): the card's metrics are the network's.
    run = processing.run("hyperfuse:fuse_deepsen3", {"LR_HSI": lr, "HR_MSI": ms, "MODEL": 1, "WEIGHTS": weights,
                                                     "PROJECTION": 1, "OUTPUT": fused})
    assert run["MODEL_USED"] == "model.pt"
    scores = assessment.assess_files(ref, fused, 3)
    for key in ("PSNR", "SAM", "ERGAS", "SSIM"):
        assert scores[key] == pytest.approx(part[key], rel=1e-4, abs=1e-5), key


def test_self_supervised_training_and_reuse(processing, small_pair, tmp_path):
    weights = str(tmp_path / "self.pt")
    processing.run("hyperfuse:train_model", {**TRAINING, "MODE": 0, "LR_HSI": small_pair["lr"],
                                             "HR_MSI": small_pair["ms"], "OUTPUT_WEIGHTS": weights})
    _, card = weights_io.load_weights(weights)
    assert card["training"]["mode"].startswith("self-supervised") and card["ratio"] == 3
    fused = str(tmp_path / "fused.tif")
    processing.run("hyperfuse:fuse_deepsen3", {"LR_HSI": small_pair["lr"], "HR_MSI": small_pair["ms"], "MODEL": 1,
                                               "WEIGHTS": weights, "OUTPUT": fused})
    assert os.path.exists(fused)


def test_adapt_steps_fine_tune_the_trained_model_on_the_pair_and_the_card_says_so(processing, small_pair, tmp_path):
    import re

    from qgis.core import QgsProcessingException

    states = {}
    for steps in (0, 6):
        weights = str(tmp_path / f"adapt{steps}.pt")
        processing.run("hyperfuse:train_model", {**TRAINING, "MODE": 0, "LR_HSI": small_pair["lr"],
                                                 "HR_MSI": small_pair["ms"], "ADAPT_STEPS": steps,
                                                 "OUTPUT_WEIGHTS": weights})
        states[steps], card = weights_io.load_weights(weights)
        adaptation = card["training"].get("adaptation")
        if steps == 0:
            assert adaptation is None
            continue
        found = re.match(r"fine-tuned on the inputs at full resolution: 6 steps in [\d.]+ s; relative misfit to the "
                         r"LR-HSI ([\d.]+) % → ([\d.]+) %, to the HR-MSI ([\d.]+) % → ([\d.]+) %", adaptation)
        assert found, adaptation
        lr_before, lr_after, hr_before, hr_after = map(float, found.groups())
        assert lr_after + hr_after < lr_before + hr_before
    # The same training run, then different weights: the fine-tuning changed the network.
    assert any(not (states[0][k] == states[6][k]).all() for k in states[0] if k.startswith("net."))
    with pytest.raises(QgsProcessingException, match="ADAPT_STEPS .* needs MODE 0"):
        processing.run("hyperfuse:train_model", {**TRAINING, "MODE": 1, "REFERENCE": small_pair["scene"], "RATIO": 3,
                                                 "ADAPT_STEPS": 5, "OUTPUT_WEIGHTS": str(tmp_path / "w.pt")})
    assert not os.path.exists(str(tmp_path / "w.pt"))


def test_missing_training_data_is_explained(processing, small_pair, tmp_path):
    from qgis.core import QgsProcessingException

    with pytest.raises(QgsProcessingException, match="no REFERENCE layer was given"):
        processing.run("hyperfuse:train_model", {**TRAINING, "MODE": 1, "OUTPUT_WEIGHTS": str(tmp_path / "w.pt")})
    with pytest.raises(QgsProcessingException, match="LR_HSI or HR_MSI is missing"):
        processing.run("hyperfuse:train_model", {**TRAINING, "MODE": 0, "LR_HSI": small_pair["lr"],
                                                 "OUTPUT_WEIGHTS": str(tmp_path / "w.pt")})
    assert os.listdir(tmp_path) == []
