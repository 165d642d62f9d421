"""Fusion through the core: tiling equals whole-image inference, outputs are exact, weights are safe."""
import os
import pickle

import numpy as np
import pytest
import rasterio
import torch
from helpers import TINY, CancelAfter, random_model, save_random_weights, shared_scene
from hyperfuse.core import registry
from hyperfuse.core.errors import UserInputError
from hyperfuse.core.inference import fusion, weights
from hyperfuse.core.inference.adaptation import PROJECTION_NONE
from hyperfuse.core.inference.fusion import MODEL_TRAIN, MODEL_WEIGHTS, NetworkFusionSettings
from hyperfuse.core.protocol import simulation, srf
from hyperfuse.core.storage.raster_io import OUTPUT_NODATA, open_raster, read_raster

DEEPSEN3 = registry.method("deepsen3")


def test_tiled_inference_equals_whole_image(small_pair, tmp_path):
    lr_info, ms_info = open_raster(small_pair["lr"]), open_raster(small_pair["ms"])
    model = save_random_weights(str(tmp_path / "w.pt"), lr_info.count, ms_info.count, 3)
    out = str(tmp_path / "tiled.tif")
    result = fusion.fuse_with_network(DEEPSEN3, small_pair["lr"], small_pair["ms"], out, settings=NetworkFusionSettings(
        model=MODEL_WEIGHTS, weights_path=str(tmp_path / "w.pt"), block_size=24, projection=PROJECTION_NONE))
    assert result.blocks == 9  # 72 × 72 in 24 × 24 blocks
    lr, _ = read_raster(lr_info)
    ms, _ = read_raster(ms_info)
    with torch.inference_mode():
        whole = model(torch.from_numpy(lr)[None], torch.from_numpy(ms)[None])[0].numpy()
    tiled, _ = read_raster(open_raster(out))
    assert np.abs(tiled - whole).max() < 1e-5


def test_output_grid_bands_wavelengths_and_nodata(small_pair, tmp_path):
    """Nodata in either input becomes nodata in the output; everything else is georeferenced exactly."""
    lr_path, ms_path = str(tmp_path / "lr.tif"), str(tmp_path / "ms.tif")
    with rasterio.open(small_pair["lr"]) as src:
        profile, lr = src.profile, src.read()
        tags = [src.tags(b + 1) for b in range(src.count)]
        lr[:, 2, 3] = OUTPUT_NODATA             # one LR pixel → a 3 × 3 HR block
        lr[5] = OUTPUT_NODATA                   # a bad band
        with rasterio.open(lr_path, "w", **profile) as dst:
            dst.write(lr)
            for b, t in enumerate(tags):
                dst.update_tags(b + 1, **t)
    with rasterio.open(small_pair["ms"]) as src:
        profile, ms = src.profile, src.read()
        ms[1, 40, 50] = np.nan
        with rasterio.open(ms_path, "w", **profile) as dst:
            dst.write(ms)
    out = str(tmp_path / "fused.tif")
    fusion.fuse_with_network(DEEPSEN3, lr_path, ms_path, out, settings=NetworkFusionSettings(
        model=MODEL_TRAIN, train_steps=2, hyperparameters=TINY, training_overrides={"batch_size": 2}))
    with rasterio.open(out) as fused, rasterio.open(ms_path) as msi, rasterio.open(lr_path) as hsi:
        assert fused.transform == msi.transform and fused.crs == msi.crs
        assert fused.count == hsi.count and fused.dtypes[0] == "float32"
        for b in range(hsi.count):
            assert float(fused.tags(b + 1)["wavelength"]) == pytest.approx(float(hsi.tags(b + 1)["wavelength"]))
            assert fused.tags(b + 1)["wavelength_units"] == "Nanometers"
        data = fused.read()
    assert fused.nodata == OUTPUT_NODATA
    assert np.all(data[5] == OUTPUT_NODATA)                      # bad band kept in place as nodata
    assert np.all(data[:, 6:9, 9:12] == OUTPUT_NODATA)           # the LR nodata pixel's footprint
    assert np.all(data[:, 40, 50] == OUTPUT_NODATA)              # the MS NaN pixel
    good = [b for b in range(data.shape[0]) if b != 5]
    valid = data[good[0]] != OUTPUT_NODATA
    assert valid.sum() == 72 * 72 - 9 - 1                          # nothing else lost
    assert np.isfinite(data[good][:, valid]).all()


def test_cancel_leaves_no_output(small_pair, tmp_path):
    out, out_weights = str(tmp_path / "fused.tif"), str(tmp_path / "w.pt")
    with pytest.raises(Exception, match="cancelled"):
        fusion.fuse_with_network(DEEPSEN3, small_pair["lr"], small_pair["ms"], out, settings=NetworkFusionSettings(
            model=MODEL_TRAIN, train_steps=50, output_weights=out_weights, hyperparameters=TINY),
            feedback=CancelAfter(3))
    assert os.listdir(tmp_path) == []


def test_cancel_during_inference_leaves_no_output(small_pair, tmp_path):
    lr_info, ms_info = open_raster(small_pair["lr"]), open_raster(small_pair["ms"])
    save_random_weights(str(tmp_path / "w.pt"), lr_info.count, ms_info.count, 3)
    out = str(tmp_path / "fused.tif")
    with pytest.raises(Exception, match="cancelled"):
        fusion.fuse_with_network(DEEPSEN3, small_pair["lr"], small_pair["ms"], out, settings=NetworkFusionSettings(
            model=MODEL_WEIGHTS, weights_path=str(tmp_path / "w.pt"), block_size=24), feedback=CancelAfter(4))
    assert sorted(os.listdir(tmp_path)) == ["w.pt"]


def test_weights_round_trip_and_card_mismatch(small_pair, tmp_path):
    path = str(tmp_path / "w.pt")
    save_random_weights(path, 40, 4, 3)
    state, card = weights.load_weights(path)
    assert card["method"] == "deepsen3" and card["ratio"] == 3 and card["hs_bands"] == 40
    with pytest.raises(UserInputError, match="HS bands: the file expects 40, the LR-HSI has 30"):
        weights.check_card(card, "deepsen3", 30, 4, 3)
    with pytest.raises(UserInputError, match="ratio: the file expects 3, the inputs have ratio 4"):
        weights.check_card(card, "deepsen3", 40, 4, 4)


class _Exploit:
    def __reduce__(self):
        return (os.system, ("touch /tmp/hyperfuse-exploit-ran",))


def test_crafted_weights_file_is_refused_without_running_code(tmp_path):
    marker = "/tmp/hyperfuse-exploit-ran"
    if os.path.exists(marker):
        os.remove(marker)
    path = str(tmp_path / "evil.pt")
    torch.save({"format": weights.FORMAT, "card": {}, "state_dict": {}, "payload": _Exploit()}, path)
    with pytest.raises(UserInputError, match="refused"):
        weights.load_weights(path)
    assert not os.path.exists(marker)
    with open(path, "wb") as handle:
        pickle.dump(_Exploit(), handle)
    with pytest.raises(UserInputError):
        weights.load_weights(path)
    assert not os.path.exists(marker)


def test_truncated_weights_file_gets_a_clear_error(tmp_path):
    path = str(tmp_path / "w.pt")
    save_random_weights(path, 40, 4, 3)
    data = open(path, "rb").read()
    open(path, "wb").write(data[: len(data) // 2])
    with pytest.raises(UserInputError, match="truncated or corrupt"):
        weights.load_weights(path)


def test_too_small_inputs_cannot_be_trained_on(tmp_path):
    from hyperfuse.core import synthetic

    scene = str(tmp_path / "scene.tif")
    synthetic.write_scene(scene, 15, 15, wavelengths_nm=np.linspace(420, 1000, 20), seed=1)
    paths = [str(tmp_path / f"{k}.tif") for k in ("lr", "ms", "ref")]
    simulation.simulate(scene, simulation.SimulationSettings(ratio=3, srf=srf.preset("s2a_10m").load()), *paths)
    with pytest.raises(UserInputError, match="too small to train on"):
        fusion.fuse_with_network(DEEPSEN3, paths[0], paths[1], str(tmp_path / "f.tif"),
                                 settings=NetworkFusionSettings(model=MODEL_TRAIN, train_steps=1))
    assert not os.path.exists(str(tmp_path / "f.tif"))


def test_enmap_with_bad_bands_and_nodata_blocks_fuses_to_a_valid_result(tmp_path):
    scene = shared_scene("enmap_potsdam.tif")
    paths = {k: str(tmp_path / f"{k}.tif") for k in ("lr", "ms", "ref")}
    simulation.simulate(scene, simulation.SimulationSettings(ratio=3, srf=srf.preset("s2a_10m").load()),
                        paths["lr"], paths["ms"], paths["ref"])
    lr_info = open_raster(paths["lr"])
    assert len(lr_info.bad_bands) == 6
    out = str(tmp_path / "fused.tif")
    fusion.fuse_with_network(DEEPSEN3, paths["lr"], paths["ms"], out, settings=NetworkFusionSettings(
        model=MODEL_TRAIN, train_steps=3, hyperparameters=TINY, training_overrides={"batch_size": 4}, block_size=64))
    info = open_raster(out)
    assert info.count == 224 and info.bad_bands == lr_info.bad_bands
    values, valid = read_raster(info)
    _, ms_valid = read_raster(open_raster(paths["ms"]))
    _, lr_valid = read_raster(lr_info)
    # Exactly the pixels valid in the HR-MSI and in the LR pixel covering them are valid:
    # nodata blocks stay nodata, the bad bands invalidate nothing.
    assert np.array_equal(valid, ms_valid & np.kron(lr_valid, np.ones((3, 3), bool)).astype(bool))
    assert 0.6 < valid.mean() < 0.8
    assert np.isfinite(values).all()


def test_ungeoreferenced_scene_simulates_and_fuses(tmp_path):
    """Scenes without georeferencing (pixel coordinates, like the AVIRIS crop) work end to end."""
    from hyperfuse.core import synthetic

    scene = str(tmp_path / "scene.tif")
    values = synthetic.generate_scene(36, 36, np.linspace(420, 1000, 20), seed=2)
    with rasterio.open(scene, "w", driver="GTiff", width=36, height=36, count=20, dtype="float32") as dst:
        dst.write(values)
        for b, w in enumerate(np.linspace(420, 1000, 20)):
            dst.update_tags(b + 1, wavelength=str(w), wavelength_units="Nanometers")
    paths = [str(tmp_path / f"{k}.tif") for k in ("lr", "ms", "ref")]
    simulation.simulate(scene, simulation.SimulationSettings(ratio=3, srf=srf.preset("s2a_10m").load()), *paths)
    out = str(tmp_path / "fused.tif")
    result = fusion.fuse_with_network(DEEPSEN3, paths[0], paths[1], out, settings=NetworkFusionSettings(
        model=MODEL_TRAIN, train_steps=2, hyperparameters=TINY, training_overrides={"batch_size": 2}))
    assert result.ratio == 3
    assert open_raster(out).width == 36 and np.isfinite(read_raster(open_raster(out))[0]).all()


def test_unit_factor_converts_units_and_leaves_brightness_alone():
    from hyperfuse.core.inference.input_units import unit_factor

    assert unit_factor(1212.0, 0.12) == pytest.approx(1e-4)      # reflectance × 10⁴ against reflectance
    assert unit_factor(25.0, 0.2) == pytest.approx(1e-2)         # percent
    assert unit_factor(0.003, 0.2) == pytest.approx(1e2)
    for level in (0.02, 0.05, 0.2, 1.5, None, 0.0):              # dark or bright scenes in the same unit
        assert unit_factor(level, 0.2) == 1.0


def _scaled_copy(path, out, factor):
    with rasterio.open(path) as src:
        profile = src.profile
        values = src.read().astype(np.float32)
        tags = [src.tags(b + 1) for b in range(src.count)]
    profile.update(dtype="float32")
    with rasterio.open(out, "w", **profile) as dst:
        dst.write(values * np.float32(factor))
        for b, band_tags in enumerate(tags):
            dst.update_tags(b + 1, **band_tags)
    return out


def test_inputs_in_another_unit_are_converted_for_the_model_and_back(small_pair, tmp_path):
    lr_info, ms_info = open_raster(small_pair["lr"]), open_raster(small_pair["ms"])
    save_random_weights(str(tmp_path / "w.pt"), lr_info.count, ms_info.count, 3)
    from_weights = NetworkFusionSettings(model=MODEL_WEIGHTS, weights_path=str(tmp_path / "w.pt"))
    reflectance = fusion.fuse_with_network(DEEPSEN3, small_pair["lr"], small_pair["ms"], str(tmp_path / "a.tif"),
                                           settings=from_weights)
    lr_counts = _scaled_copy(small_pair["lr"], str(tmp_path / "lr_counts.tif"), 1e4)
    ms_counts = _scaled_copy(small_pair["ms"], str(tmp_path / "ms_counts.tif"), 1e4)
    counts = fusion.fuse_with_network(DEEPSEN3, lr_counts, ms_counts, str(tmp_path / "b.tif"), settings=from_weights)
    a, valid_a = read_raster(open_raster(reflectance.output))
    b, valid_b = read_raster(open_raster(counts.output))
    assert np.array_equal(valid_a, valid_b)
    np.testing.assert_allclose(b / 1e4, a, rtol=1e-4, atol=1e-6)
    with rasterio.open(counts.output) as src:
        assert src.tags()["hyperfuse_input_unit_factors"] == "LR-HSI 0.0001, HR-MSI 0.0001"
    with rasterio.open(reflectance.output) as src:
        assert "hyperfuse_input_unit_factors" not in src.tags()


def test_a_network_trained_on_the_inputs_that_stays_bicubic_is_tagged_and_logged(small_pair, tmp_path):
    from hyperfuse.core.feedback import Feedback

    # Learning rate 0: the kept weights are step 0's, which return bicubic up-sampling.
    out, feedback = str(tmp_path / "fused.tif"), Feedback()
    fusion.fuse_with_network(DEEPSEN3, small_pair["lr"], small_pair["ms"], out, feedback=feedback,
                             settings=NetworkFusionSettings(model=MODEL_TRAIN, train_steps=2, hyperparameters=TINY,
                                                            training_overrides={"batch_size": 2,
                                                                                "learning_rate": 0.0}))
    expected = "The trained DeepSen3 did not improve on its starting point (bicubic up-sampling)"
    with rasterio.open(out) as fused:
        assert fused.tags()["hyperfuse_warning"].startswith(expected)
        assert "no better than bicubic" in fused.tags()["hyperfuse_warning"]
    assert any(m.startswith("Warning: " + expected) for m in feedback.messages)


def test_a_model_card_without_a_warning_tags_no_warning(small_pair, tmp_path):
    lr_info, ms_info = open_raster(small_pair["lr"]), open_raster(small_pair["ms"])
    save_random_weights(str(tmp_path / "w.pt"), lr_info.count, ms_info.count, 3)
    out = str(tmp_path / "fused.tif")
    fusion.fuse_with_network(DEEPSEN3, small_pair["lr"], small_pair["ms"], out, settings=NetworkFusionSettings(
        model=MODEL_WEIGHTS, weights_path=str(tmp_path / "w.pt")))
    with rasterio.open(out) as fused:
        assert "hyperfuse_warning" not in fused.tags()
