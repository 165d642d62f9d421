"""The trainer (core/training/trainer.py) and training runs from files (core/training/runs.py)."""
from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from helpers import CancelAfter
from hyperfuse.core import registry
from hyperfuse.core.errors import Cancelled, UserInputError
from hyperfuse.core.feedback import Feedback
from hyperfuse.core.inference import weights as weights_io
from hyperfuse.core.protocol import simulation, srf
from hyperfuse.core.protocol.grids import open_pair
from hyperfuse.core.training.trainer import TrainingConfig, TrainingPair
from hyperfuse.core.training import runs as training_run
from hyperfuse.core.training.trainer import split_for_validation, train

DEEPSEN3 = registry.method("deepsen3")
TINY = {"width": 8}


@pytest.fixture(scope="module")
def reference_data(small_pair):
    settings = simulation.SimulationSettings(ratio=3, srf=srf.preset("s2a_10m").load())
    return training_run.data_from_reference(small_pair["scene"], settings)


def _config(**overrides):
    return TrainingConfig.for_method(DEEPSEN3, **{"steps": 12, "batch_size": 4, **overrides})


def _train(data, **overrides):
    return train(DEEPSEN3, data.pairs, data.ratio, _config(**overrides), "cpu", Feedback(), TINY)


def test_same_seed_gives_identical_weights_and_another_seed_does_not(reference_data):
    first, _ = _train(reference_data, seed=7)
    second, _ = _train(reference_data, seed=7)
    third, _ = _train(reference_data, seed=8)
    a, b, c = first.state_dict(), second.state_dict(), third.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_validation_part_is_the_end_of_the_longer_side_and_disjoint_from_training():
    rows, cols, ratio = 6, 10, 3
    target = np.arange(rows * ratio * cols * ratio, dtype=np.float32).reshape(1, rows * ratio, cols * ratio)
    pair = TrainingPair(np.zeros((2, rows, cols), np.float32), np.ones((rows, cols), bool),
                        np.zeros((1, rows * ratio, cols * ratio), np.float32), np.ones(target.shape[1:], bool),
                        target, np.ones(target.shape[1:], bool))
    train_part, validation = split_for_validation(pair, ratio, 0.2)
    assert train_part.lr.shape[1:] == (6, 8) and validation.lr.shape[1:] == (6, 2)
    assert validation.origin == (0, 24) and validation.target.shape[1:] == (18, 6)
    assert np.array_equal(validation.target, target[:, :, 24:])
    assert np.array_equal(train_part.target, target[:, :, :24])
    assert split_for_validation(pair, ratio, 0.0)[1] is None


def test_kept_weights_are_the_best_validated_and_early_stopping_ends_the_run(reference_data):
    # A learning rate this large ruins the network at once: validation never beats step 0,
    # so the run stops after PATIENCE checks and keeps the untrained network (= bicubic).
    _, long_run = _train(reference_data, steps=30, learning_rate=0.5, validate_every=2, patience=2)
    assert long_run.steps == 10, "no early stop before a third of the steps"
    model, report = _train(reference_data, steps=12, learning_rate=0.5, validate_every=2, patience=2)
    assert report.stopped_because.startswith("early stopping")
    assert report.steps == 4 and report.best_step == 0         # warm-up: a third of 12 steps
    assert report.validation["PSNR"] == pytest.approx(report.validation["bicubic_PSNR"], abs=1e-3)
    assert [c["step"] for c in report.curve] == [0, 2, 4]


def test_time_budget_stops_training(reference_data):
    _, report = _train(reference_data, steps=500, time_budget_minutes=1e-6)
    assert report.steps == 1 and report.stopped_because.startswith("time budget")


def test_cancel_stops_within_one_step_and_writes_no_weights(reference_data, tmp_path):
    feedback = CancelAfter(3)
    out = tmp_path / "w.pt"
    with pytest.raises(Cancelled):
        training_run.run_training(DEEPSEN3, reference_data, _config(steps=50), str(out), str(tmp_path / "log.html"),
                                  hyperparameters=TINY, feedback=feedback)
    # Three steps passed their cancel check; the fourth check stopped the run before its update.
    assert feedback.last_progress == pytest.approx(3 / 50)
    assert os.listdir(tmp_path) == []


def test_fine_tuning_starts_from_the_weights_it_was_given(reference_data, tmp_path):
    path = str(tmp_path / "pre.pt")
    _, card, report = training_run.run_training(DEEPSEN3, reference_data, _config(steps=10), path,
                                                hyperparameters=TINY)
    _, tuned_card, tuned = training_run.run_training(DEEPSEN3, reference_data, _config(steps=4, learning_rate=1e-5),
                                                     str(tmp_path / "tuned.pt"), initial_weights=path)
    assert tuned.curve[0]["PSNR"] == pytest.approx(report.validation["PSNR"], abs=1e-4)
    assert tuned_card["training"]["fine_tuned_from"] == "pre.pt"
    assert tuned_card["hyperparameters"]["width"] == 8


def test_fine_tuning_weights_for_other_bands_are_refused(reference_data, tmp_path):
    path = str(tmp_path / "pre.pt")
    training_run.run_training(DEEPSEN3, reference_data, _config(steps=2), path, hyperparameters=TINY)
    other = training_run.TrainingData(
        [TrainingPair(p.lr[:30], p.lr_valid, p.hr, p.hr_valid, p.target[:30], p.target_valid)
         for p in reference_data.pairs], 3, None, "", None, "test", [])
    with pytest.raises(UserInputError, match="HS bands: the file expects 40, the LR-HSI has 30"):
        training_run.run_training(DEEPSEN3, other, _config(steps=2), str(tmp_path / "x.pt"), initial_weights=path)


def test_model_card_holds_every_field(reference_data, tmp_path):
    path = str(tmp_path / "w.pt")
    training_run.run_training(DEEPSEN3, reference_data, _config(steps=3, seed=5), path, hyperparameters=TINY)
    _, card = weights_io.load_weights(path)
    assert card["method"] == "deepsen3" and card["hyperparameters"] == {"width": 8, "modules": 3,
                                                                        "learnable_slope": 1}
    assert card["hs_bands"] == 40 and len(card["hs_wavelengths_nm"]) == 40
    assert card["hs_wavelengths_nm"][0] == pytest.approx(420.0)
    assert card["ms_bands"] == 4 and card["ms_description"].startswith("B2 (492 nm)")
    assert card["ms_wavelengths_nm"] == pytest.approx([492.4, 559.8, 664.6, 832.8], abs=0.1)
    assert card["ratio"] == 3 and card["seed"] == 5
    assert card["training"]["mode"].startswith("supervised") and card["training"]["data"] == ["scene.tif"]
    assert card["training"]["simulation"]["srf"].startswith("Sentinel-2A")
    assert set(card["validation"]["mean"]) >= {"PSNR", "SAM", "ERGAS", "SSIM", "bicubic_PSNR"}
    assert card["validation"]["parts"][0]["window"] == [0, 57, 72, 15]
    assert card["plugin_version"] not in ("", "unknown") and card["created"].startswith("20")


def test_self_supervised_data_come_from_the_inputs_degraded_once_more(small_pair):
    data = training_run.data_from_inputs(*open_pair(small_pair["lr"], small_pair["ms"]))
    pair = data.pairs[0]
    assert data.ratio == 3 and pair.lr.shape == (40, 8, 8) and pair.hr.shape == (4, 24, 24)
    assert pair.target.shape == (40, 24, 24) and data.mode.startswith("self-supervised")


@pytest.mark.parametrize("ratio", [3, 5])
def test_self_supervised_training_needs_four_lr_pixels_a_side_after_degrading_again(ratio):
    from hyperfuse.core.training.trainer import MIN_WALD_LR_PIXELS, wald_pair

    def pair(lr_side):
        lr = np.ones((6, lr_side, lr_side + 3), np.float32)
        hr = np.ones((3, lr_side * ratio, (lr_side + 3) * ratio), np.float32)
        return wald_pair(lr, np.ones(lr.shape[1:], bool), hr, np.ones(hr.shape[1:], bool), ratio)

    side = MIN_WALD_LR_PIXELS * ratio
    assert pair(side).lr.shape[1:] == (MIN_WALD_LR_PIXELS, MIN_WALD_LR_PIXELS + 3 // ratio)
    with pytest.raises(UserInputError, match=f"too small to train on at ratio {ratio}.*at least {side} × {side}"):
        pair(side - 1)


def _random_pair(rng, rows, cols, ratio=3, hs=12, ms=3, name="pair"):
    target = rng.random((hs, rows * ratio, cols * ratio), dtype=np.float32)
    valid = rng.random(target.shape[1:]) > 0.1
    return TrainingPair(rng.random((hs, rows, cols), dtype=np.float32), np.ones((rows, cols), bool),
                        rng.random((ms,) + target.shape[1:], dtype=np.float32), np.ones(target.shape[1:], bool),
                        target, valid, name)


@pytest.mark.parametrize("method_id", ["mhfnet", "mlpln"])
def test_data_dependent_initialisation_sees_every_pair(method_id):
    from hyperfuse.core.training.trainer import _build_model, pooled_pixels

    rng = np.random.default_rng(0)
    first, second = _random_pair(rng, 6, 8), _random_pair(rng, 4, 5)
    method = registry.method(method_id)

    def initialised(*arrays):
        torch.manual_seed(0)
        model = _build_model(method, 12, 3, 3, None)
        model.set_statistics(np.zeros(12), np.ones(12), np.zeros(3), np.ones(3))
        model.initialise_from_data(*arrays)
        return model.state_dict()

    # One pair: exactly what the pair itself gives, so single-scene training is unchanged.
    own = initialised(first.lr, first.hr, first.target, first.target_valid)
    pooled = initialised(*pooled_pixels([first]))
    assert all(torch.equal(own[k], pooled[k]) for k in own)
    # Two pairs: the second scene's spectra change the data-dependent weights.
    both = initialised(*pooled_pixels([first, second]))
    assert not all(torch.equal(own[k], both[k]) for k in own)
    lr, hr, target, valid = pooled_pixels([first, second])
    assert target.shape == (12, 1, first.target_valid.sum() + second.target_valid.sum()) and valid.all()
    assert np.array_equal(target[:, 0, -second.target_valid.sum():], second.target[:, second.target_valid])


def test_a_run_that_keeps_step_0_warns_in_the_log_the_card_and_the_training_log(reference_data, tmp_path):
    # Learning rate 0: no check beats step 0, so the run keeps the untrained network, which is bicubic.
    feedback = Feedback()
    path, log = str(tmp_path / "w.pt"), str(tmp_path / "log.html")
    _, card, report = training_run.run_training(DEEPSEN3, reference_data, _config(steps=4, learning_rate=0.0),
                                                path, log, hyperparameters=TINY, feedback=feedback)
    assert report.best_step == 0
    expected = ("The trained DeepSen3 did not improve on its starting point (bicubic up-sampling) on the "
                "validation part: the fused raster is no better than bicubic. Train longer")
    assert report.warning.startswith(expected)
    assert any(m.startswith("Warning: " + expected) for m in feedback.messages)
    assert weights_io.load_weights(path)[1]["training"]["warning"] == report.warning == card["training"]["warning"]
    with open(log, encoding="utf-8") as f:
        assert "did not improve on its starting point" in f.read()


def test_a_run_that_beats_bicubic_carries_no_warning(reference_data):
    feedback = Feedback()
    _, report = train(DEEPSEN3, reference_data.pairs, reference_data.ratio, _config(steps=40, learning_rate=1e-3),
                      "cpu", feedback, TINY)
    assert report.best_step > 0 and report.validation["PSNR"] > report.validation["bicubic_PSNR"]
    assert report.warning == "" and not any(m.startswith("Warning") for m in feedback.messages)


def test_a_kept_network_below_bicubic_is_called_out():
    from hyperfuse.core.training.trainer import TrainingReport, _no_gain_warning

    report = TrainingReport(steps=10, seconds=1.0, best_step=10, validation={"PSNR": 30.0, "bicubic_PSNR": 31.0})
    assert _no_gain_warning(DEEPSEN3, report, False).startswith(
        "The trained DeepSen3 did not beat bicubic up-sampling on the validation part (PSNR 30.00 dB against "
        "31.00 dB for bicubic): the fused raster is no better than bicubic.")
    report.validation["PSNR"] = 31.5
    assert _no_gain_warning(DEEPSEN3, report, False) == ""


def test_learning_rate_decay_is_keras_inverse_time_and_only_where_asked(reference_data, monkeypatch):
    rates = []
    adam_step = torch.optim.Adam.step

    def recording_step(self, *args, **kwargs):
        rates.append(self.param_groups[0]["lr"])
        return adam_step(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.Adam, "step", recording_step)
    _train(reference_data, steps=3, learning_rate=1e-3, lr_decay=0.5)
    assert rates == pytest.approx([1e-3, 1e-3 / 1.5, 1e-3 / 2])          # update k: lr₀ / (1 + d (k − 1))
    rates.clear()
    _train(reference_data, steps=3, learning_rate=1e-3, lr_decay=0.0)
    assert rates == [1e-3] * 3                                            # no decay: no scheduler at all
    assert TrainingConfig.for_method(DEEPSEN3).lr_decay == 1e-9            # the paper's decay
    assert all(TrainingConfig.for_method(m).lr_decay == 0 for m in registry.METHODS.values()
               if isinstance(m, registry.NetworkMethod) and m.id != "deepsen3")


def test_training_on_large_inputs_reads_bounded_windows_spread_over_the_scene(small_pair, monkeypatch):
    windows = training_run.training_windows(2000, 1500)
    assert len(windows) == training_run.TRAINING_WINDOWS ** 2
    side = training_run.TRAINING_WINDOW_LR_PIXELS
    for row0, col0, rows, cols in windows:
        assert (rows, cols) == (side, side)
        assert 0 <= row0 <= 2000 - side and 0 <= col0 <= 1500 - side
    # Spread over the area: one window in each quarter.
    quarters = {(row0 + side // 2 >= 1000, col0 + side // 2 >= 750) for row0, col0, _, _ in windows}
    assert len(quarters) == 4
    assert training_run.training_windows(300, 200) == [(0, 0, 300, 200)]       # small areas are read whole
    # The data are those windows' Wald pairs, read at the matching HR windows: shrink the limits to see it.
    monkeypatch.setattr(training_run, "WHOLE_AREA_LR_PIXELS", 1)
    monkeypatch.setattr(training_run, "TRAINING_WINDOW_LR_PIXELS", 18)
    lr, hr, grid = open_pair(small_pair["lr"], small_pair["ms"])
    data = training_run.data_from_inputs(lr, hr, grid)
    assert len(data.pairs) == 4
    for pair in data.pairs:
        assert pair.target.shape[1:] == (18, 18) and pair.hr.shape[1:] == (18, 18)
        assert pair.lr.shape[1:] == (18 // grid.ratio, 18 // grid.ratio)
