"""The bundled models in weights/: size, cards, held-out quality, MODEL = auto matching, reproducibility."""
from __future__ import annotations

import os

import numpy as np
import pytest
import rasterio
import torch
import weights_recipe
from helpers import shared_scene
from hyperfuse.core import registry
from hyperfuse.core.inference import bundled, fusion
from hyperfuse.core.inference import weights as weights_io
from hyperfuse.core.inference.torch_support import numeric_platform
from hyperfuse.core.protocol import srf
from hyperfuse.core.protocol.degradation import spectral_degrade
from hyperfuse.core.protocol.upsample import bicubic
from hyperfuse.core.storage.raster_io import open_raster, read_raster, write_raster

BUNDLED = [(m, r) for r in weights_recipe.RECIPES for m in registry.METHODS.values()]
CARD_FIELDS = {"method", "hyperparameters", "hs_bands", "hs_wavelengths_nm", "ms_bands", "ms_description",
               "ms_wavelengths_nm", "ratio", "training", "validation", "seed", "plugin_version", "created"}


@pytest.mark.parametrize("method,recipe", BUNDLED, ids=[f"{m.id}-{r.preset.id}" for m, r in BUNDLED])
def test_bundled_file_is_small_loads_with_its_card_and_beats_bicubic_on_held_out_data(method, recipe):
    preset = recipe.preset
    path = bundled.weights_path(method, preset)
    assert os.path.getsize(path) < 10 * 1024 * 1024
    state, card = weights_io.load_weights(path)
    assert CARD_FIELDS <= set(card) and card["method"] == method.id and card["ratio"] == preset.ratio
    assert preset.label in card["training"]["mode"]
    model, _ = weights_io.build_model(method, path, card["hs_bands"], card["ms_bands"], card["ratio"],
                                      card["hs_wavelengths_nm"], card["ms_wavelengths_nm"])
    assert all(torch.equal(model.state_dict()[k], v) for k, v in state.items())
    assert card["validation"]["on"] == "held-out part" and len(card["validation"]["parts"]) == len(recipe.scenes)
    for part in card["validation"]["parts"]:
        assert part["PSNR"] > part["bicubic_PSNR"] and part["SAM"] < part["bicubic_SAM"], part["name"]


def _enmap_with_sentinel2_grid(tmp_path):
    """EnMAP as delivered (224 bands, 6 of them nodata everywhere) and a 10 m S2-like MS on a grid 3× finer."""
    lr_path = shared_scene("enmap_potsdam.tif")
    info = open_raster(lr_path)
    values, valid = read_raster(info)
    s2 = srf.preset("s2a_10m").load()
    matrix = srf.response_matrix(s2, info.wavelengths_nm, info.fwhm_nm, info.good_bands)[:, info.good_bands]
    ms = spectral_degrade(bicubic(np.where(valid[None], values, 0.0).astype(np.float32), 3), matrix)
    ms_valid = np.repeat(np.repeat(valid, 3, axis=0), 3, axis=1)
    a, b, c, d, e, f = info.transform
    ms_path = str(tmp_path / "s2_10m.tif")
    write_raster(ms_path, np.where(ms_valid[None], ms, -9999.0).astype(np.float32), (a / 3, b, c, d, e / 3, f),
                 info.crs_wkt, band_names=s2.labelled_band_names(),
                 band_tags=[{"wavelength": f"{w:.2f}", "wavelength_units": "Nanometers"} for w in s2.centres_nm()])
    return lr_path, ms_path, info


def test_enmap_as_delivered_picks_the_enmap_model(tmp_path):
    lr_path, ms_path, info = _enmap_with_sentinel2_grid(tmp_path)
    assert info.count == 224 and len(info.bad_bands) == 6
    out = str(tmp_path / "fused.tif")
    result = fusion.fuse_with_network(registry.method("deepsen3"), lr_path, ms_path, out)
    assert result.model_source == "deepsen3_enmap_s2_r3.pt" and result.seconds_training == 0.0
    with rasterio.open(out) as dataset:
        tags = dataset.tags()
        assert tags["hyperfuse_model"] == "deepsen3_enmap_s2_r3.pt"
        assert "EnMAP + Sentinel-2 10 m" in tags["hyperfuse_model_training"]
        assert dataset.count == 224 and dataset.width == 3 * info.width
    for method in registry.METHODS.values():
        found = bundled.find_bundled_model(method, 218, 4, 3, [info.wavelengths_nm[b] for b in info.good_bands],
                                           [492.4, 559.8, 664.6, 832.8])
        assert found and os.path.basename(found) == f"{method.id}_enmap_s2_r3.pt"


def test_inputs_of_other_sensors_or_ratios_match_no_bundled_model():
    method = registry.method("mlpln")
    enmap_card = weights_io.load_weights(bundled.weights_path(method, bundled.PRESETS[0]))[1]
    wavelengths, s2 = enmap_card["hs_wavelengths_nm"], enmap_card["ms_wavelengths_nm"]
    assert bundled.find_bundled_model(method, 218, 4, 3, wavelengths, s2)
    assert bundled.find_bundled_model(method, 218, 4, 4, wavelengths, s2) is None           # ratio
    assert bundled.find_bundled_model(method, 218, 4, 3, list(np.array(wavelengths) + 8), s2) is None
    landsat = [482.0, 561.4, 654.6, 864.7]                                                  # OLI B2–B5
    assert bundled.find_bundled_model(method, 218, 4, 3, wavelengths, landsat) is None
    assert bundled.find_bundled_model(method, 120, 4, 3, list(np.linspace(400, 2500, 120)), s2) is None
    olci = weights_io.load_weights(bundled.weights_path(method, bundled.PRESETS[1]))[1]
    assert bundled.find_bundled_model(method, 21, 3, 5, olci["hs_wavelengths_nm"], olci["ms_wavelengths_nm"])


def test_development_scenes_are_read_in_reflectance_with_their_fill_as_nodata(tmp_path):
    muufl = shared_scene("muufl_gulfport.tif")
    with rasterio.open(muufl) as dataset:
        raw = dataset.read()
    row, col = weights_recipe.FILL_SPECTRUM_PIXEL["muufl_gulfport.tif"]
    fill = (raw == raw[:, row, col][:, None, None]).all(axis=0)
    assert fill.sum() == 604 and fill[row, col]
    values, valid = read_raster(open_raster(weights_recipe.development_scene(muufl, str(tmp_path))))
    assert np.array_equal(valid, ~fill)
    assert np.array_equal(values[:, valid], raw[:, valid])

    aviris = shared_scene("aviris_santa_barbara.tif")
    with rasterio.open(aviris) as dataset:
        counts = dataset.read().astype(np.float64)
    values, valid = read_raster(open_raster(weights_recipe.development_scene(aviris, str(tmp_path))))
    assert valid.all() and np.allclose(values, counts * 1e-4, rtol=1e-6, atol=1e-7)
    enmap = shared_scene("enmap_potsdam.tif")
    assert weights_recipe.development_scene(enmap, str(tmp_path)) == enmap


def _smallest():
    return min(BUNDLED, key=lambda mr: os.path.getsize(bundled.weights_path(mr[0], mr[1].preset)))


def test_retraining_the_smallest_bundled_model_with_its_seed_gives_identical_weights(tmp_path):
    shared_scene("aviris_santa_barbara.tif")
    method, recipe = _smallest()
    bundled_state, card = weights_io.load_weights(bundled.weights_path(method, recipe.preset))
    # The file's own architecture: a newer default (MLPLN's VARIANT) must not change what is retrained.
    hyperparameters = method.card_hyperparameters(card["hyperparameters"])
    if card["training"]["platform"] == numeric_platform(torch.device("cpu")):
        model, _, _ = weights_recipe.train_preset(method, recipe, None, hyperparameters=hyperparameters)
        assert all(torch.equal(model.state_dict()[k], v) for k, v in bundled_state.items())
    else:
        # Floating-point kernels differ between CPU instruction sets and processors, so bit-identical
        # weights are promised on the platform that trained them (the bundled cards name the
        # instruction set but not the processor, so they match none); here, check that the
        # recipe repeats exactly on this one (over its first 300 steps, to keep the test short).
        first, _, _ = weights_recipe.train_preset(method, recipe, None, steps=300, hyperparameters=hyperparameters)
        again, _, _ = weights_recipe.train_preset(method, recipe, None, steps=300, hyperparameters=hyperparameters)
        assert all(torch.equal(first.state_dict()[k], v) for k, v in again.state_dict().items())
