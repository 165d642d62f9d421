"""One run, one opening of its pair, one training path.

Every run opens each input raster once (the empty-band scan is the costly part of
opening) and passes the opened rasters down; fusion with MODEL = train on the inputs and
hyperfuse:train_model train through the same entry point, runs.train_model_on.
"""
import collections
import os
import sys

import pytest
from helpers import TINY, save_random_weights
from hyperfuse.algorithms import fusion as fusion_algorithms  # noqa: F401 (imported before open_raster is counted)
from hyperfuse.algorithms import train as train_algorithm
from hyperfuse.core import registry
from hyperfuse.core.classical.run import fuse_classical
from hyperfuse.core.inference import fusion
from hyperfuse.core.inference.fusion import MODEL_AUTO, MODEL_TRAIN, MODEL_WEIGHTS, NetworkFusionSettings
from hyperfuse.core.protocol import grids
from hyperfuse.core.storage import raster_io
from hyperfuse.core.training import runs
from hyperfuse.core.training.trainer import TrainingConfig

DEEPSEN3 = registry.method("deepsen3")
TRAIN_QUICKLY = {"train_steps": 2, "hyperparameters": TINY, "training_overrides": {"batch_size": 2}}


@pytest.fixture
def openings(monkeypatch):
    """How often each raster is opened, counted wherever the plugin looks ``open_raster`` up."""
    original = raster_io.open_raster
    counts = collections.Counter()

    def counting_open_raster(path, *args, **kwargs):
        counts[os.path.realpath(path)] += 1
        return original(path, *args, **kwargs)

    for name, module in list(sys.modules.items()):
        if name.startswith("hyperfuse") and getattr(module, "open_raster", None) is original:
            monkeypatch.setattr(module, "open_raster", counting_open_raster)
    assert grids.open_raster is counting_open_raster   # where open_pair looks it up
    return counts


def _each_input_once(counts, small_pair):
    assert counts == {os.path.realpath(small_pair["lr"]): 1, os.path.realpath(small_pair["ms"]): 1}


@pytest.mark.parametrize("method_id", ["bicubic", "gsa", "cnmf"])
def test_a_classical_run_opens_each_input_once(method_id, small_pair, tmp_path, openings):
    method = registry.method(method_id)
    # bicubic: tiled without prepare; GSA: tiled with a prepare step; CNMF: the whole image.
    assert (method.tiled, method.prepare is not None) == {"bicubic": (True, False), "gsa": (True, True),
                                                          "cnmf": (False, False)}[method_id]
    fuse_classical(method, small_pair["lr"], small_pair["ms"], str(tmp_path / "out.tif"))
    _each_input_once(openings, small_pair)


def test_a_network_run_from_a_weights_file_opens_each_input_once(small_pair, tmp_path, openings):
    weights = str(tmp_path / "w.pt")
    lr_bands, ms_bands = (raster_io.open_raster(small_pair[k]).count for k in ("lr", "ms"))
    save_random_weights(weights, lr_bands, ms_bands, 3)
    openings.clear()
    result = fusion.fuse_with_network(DEEPSEN3, small_pair["lr"], small_pair["ms"], str(tmp_path / "out.tif"),
                                      settings=NetworkFusionSettings(model=MODEL_WEIGHTS, weights_path=weights))
    assert result.model_source == "w.pt"
    _each_input_once(openings, small_pair)


@pytest.mark.parametrize("model", [MODEL_TRAIN, MODEL_AUTO])
def test_a_network_run_that_trains_on_the_inputs_opens_each_input_once(model, small_pair, tmp_path, openings,
                                                                        monkeypatch):
    # MODEL = auto trains on the inputs when no bundled model covers the ratio: here the generic models are
    # made to cover ratio 2 only, and no sensor-specific model fits the generated scene.
    from hyperfuse.nets import generic

    monkeypatch.setattr(generic, "RATIOS", (2, 2))
    out_weights = str(tmp_path / "trained.pt")
    result = fusion.fuse_with_network(DEEPSEN3, small_pair["lr"], small_pair["ms"], str(tmp_path / "out.tif"),
                                      settings=NetworkFusionSettings(model=model, output_weights=out_weights,
                                                                     **TRAIN_QUICKLY))
    assert result.model_source == "trained on the inputs" and os.path.exists(out_weights)
    _each_input_once(openings, small_pair)


@pytest.fixture
def training_calls(monkeypatch):
    """Every call of the training entry point, by the name it was looked up under."""
    calls = []
    original = runs.train_model_on

    def spy(*args, **kwargs):
        calls.append(args[1].mode)
        return original(*args, **kwargs)

    monkeypatch.setattr(runs, "train_model_on", spy)
    return calls


def test_fusion_and_train_model_share_one_training_entry_point(small_pair, tmp_path, training_calls):
    fusion.fuse_with_network(DEEPSEN3, small_pair["lr"], small_pair["ms"], str(tmp_path / "fused.tif"),
                             settings=NetworkFusionSettings(model=MODEL_TRAIN, **TRAIN_QUICKLY))
    assert len(training_calls) == 1
    data = runs.data_from_inputs(*grids.open_pair(small_pair["lr"], small_pair["ms"]))
    runs.run_training(DEEPSEN3, data, TrainingConfig.for_method(DEEPSEN3, steps=2, batch_size=2),
                      str(tmp_path / "w.pt"), hyperparameters=TINY)
    assert len(training_calls) == 2 and all(mode.startswith("self-supervised") for mode in training_calls)


def test_a_weights_file_is_not_trained(small_pair, tmp_path, training_calls):
    weights = str(tmp_path / "w.pt")
    save_random_weights(weights, 40, 4, 3)
    fusion.fuse_with_network(DEEPSEN3, small_pair["lr"], small_pair["ms"], str(tmp_path / "fused.tif"),
                             settings=NetworkFusionSettings(model=MODEL_WEIGHTS, weights_path=weights))
    assert training_calls == []


def test_an_unknown_model_choice_is_a_programming_error(small_pair, tmp_path):
    with pytest.raises(ValueError, match="Unknown model choice 2"):
        fusion.fuse_with_network(DEEPSEN3, small_pair["lr"], small_pair["ms"], str(tmp_path / "fused.tif"),
                                 settings=NetworkFusionSettings(model=2))


@pytest.fixture(scope="module")
def processing(qgis_app):
    import processing as qgis_processing

    return qgis_processing


def test_train_model_opens_each_input_once_and_trains_through_the_entry_point(processing, small_pair, tmp_path,
                                                                             openings, training_calls):
    processing.run("hyperfuse:train_model", {
        "METHOD": train_algorithm.METHOD_IDS.index("deepsen3"), "MODE": 0, "LR_HSI": small_pair["lr"],
        "HR_MSI": small_pair["ms"], "STEPS": 2, "BATCH_SIZE": 2, "OUTPUT_WEIGHTS": str(tmp_path / "w.pt")})
    _each_input_once(openings, small_pair)
    assert len(training_calls) == 1 and training_calls[0].startswith("self-supervised")


def test_enum_options_keep_their_public_order_and_map_to_core_names(qgis_app):
    from qgis.core import QgsApplication

    registry_ = QgsApplication.processingRegistry()
    fuse = registry_.algorithmById("hyperfuse:fuse_deepsen3")
    model = fuse.parameterDefinition("MODEL")
    assert model.options() == ["auto", "weights file", "train on the inputs"] and model.defaultValue() == 0
    assert fusion.MODEL_CHOICES == [MODEL_AUTO, MODEL_WEIGHTS, MODEL_TRAIN]
    assert fuse.parameterDefinition("DEVICE").options() == ["auto", "cpu", "cuda"]
    mode = registry_.algorithmById("hyperfuse:train_model").parameterDefinition("MODE")
    assert mode.options() == ["Self-supervised on LR_HSI + HR_MSI (Wald protocol)",
                              "Supervised from REFERENCE (inputs simulated from it)"]
    assert mode.defaultValue() == 0
    assert train_algorithm.MODES == [runs.MODE_SELF_SUPERVISED, runs.MODE_SUPERVISED]
