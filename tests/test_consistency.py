"""The observation model as matrices, consistency and the projection onto both observations."""
from __future__ import annotations

import numpy as np
import rasterio
import pytest

from hyperfuse.core.inference.tiling import WindowPart
from hyperfuse.core.layout import bands_innermost
from hyperfuse.core.protocol.consistency import (ObservationModel, consistency, project_and_measure,
                                                  project_onto_observations)
from hyperfuse.core.protocol.degradation import PointSpread, spatial_degrade, spectral_degrade

RATIO = 4


def _scene(bands=12, rows=32, cols=24, seed=0):
    rng = np.random.default_rng(seed)
    smooth = np.cumsum(np.cumsum(rng.normal(size=(bands, rows, cols)), axis=1), axis=2)
    spectra = np.linspace(0.5, 1.5, bands)[:, None, None]
    return (spectra * (1.0 + 0.01 * smooth)).astype(np.float32)


def _response(bands=12, ms=3):
    centres = np.linspace(1, bands - 2, ms)
    matrix = np.exp(-0.5 * ((np.arange(bands)[None] - centres[:, None]) / 1.5) ** 2)
    return matrix / matrix.sum(axis=1, keepdims=True)


def _observed(x, response):
    valid = np.ones(x.shape[1:], bool)
    lr, lr_valid = spatial_degrade(x, valid, RATIO, PointSpread.gaussian(RATIO))
    return lr, lr_valid, spectral_degrade(x, response), valid


def test_matrices_reproduce_the_protocol_degradation_and_their_adjoints():
    x, response = _scene(), _response()
    model = ObservationModel.build(32, 24, RATIO, PointSpread.gaussian(RATIO), response)
    lr, _, hr, _ = _observed(x, response)
    np.testing.assert_allclose(model.spatial(x), lr, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.spectral(x), hr, rtol=1e-5, atol=1e-6)
    rng = np.random.default_rng(1)
    z, y = rng.normal(size=lr.shape), rng.normal(size=hr.shape)
    x = x.astype(np.float64)        # the products run in their input's precision; the adjoints hold to float64's
    assert np.sum(model.spatial(x) * z) == pytest.approx(np.sum(x * model.spatial_adjoint(z)), rel=1e-9)
    assert np.sum(model.spectral(x) * y) == pytest.approx(np.sum(x * model.spectral_adjoint(y)), rel=1e-9)


def test_projection_reproduces_both_observations_and_moves_towards_the_truth():
    truth, response = _scene(), _response()
    lr, lr_valid, hr, hr_valid = _observed(truth, response)
    model = ObservationModel.build(32, 24, RATIO, PointSpread.gaussian(RATIO), response)
    start = np.repeat(np.repeat(lr, RATIO, axis=1), RATIO, axis=2)     # nearest-neighbour up-sampling
    before = consistency(start, lr, lr_valid, hr, hr_valid, model)
    projected = project_onto_observations(start, lr, lr_valid, hr, hr_valid, model)
    after = consistency(projected, lr, lr_valid, hr, hr_valid, model)
    assert before.spatial > 1e-3 and before.spectral > 1e-3
    assert after.spatial < 1e-3 * before.spatial * 10 and after.spectral < before.spectral / 20
    # The truth lies in the constraint set, so the projection can only come nearer to it; here by a quarter.
    assert np.linalg.norm(projected - truth) < 0.8 * np.linalg.norm(start - truth)
    # The truth already meets both: it stays where it is.
    np.testing.assert_allclose(project_onto_observations(truth, lr, lr_valid, hr, hr_valid, model), truth,
                               rtol=1e-4, atol=1e-5)


def test_an_image_with_its_bands_innermost_is_projected_as_it_lies():
    """A network's channels-last output (bands innermost) is blurred, decimated and corrected in its own layout:
    the same D x and the same projection as band by band, the result overwritten in place in that layout."""
    truth, response = _scene(bands=12, rows=96, cols=288), _response()
    lr, lr_valid, hr, hr_valid = _observed(truth, response)
    model = ObservationModel.build(96, 288, RATIO, PointSpread.gaussian(RATIO), response)
    start = np.repeat(np.repeat(lr, RATIO, axis=1), RATIO, axis=2).astype(np.float32)
    by_pixel = np.ascontiguousarray(start.transpose(1, 2, 0)).transpose(2, 0, 1)
    assert bands_innermost(by_pixel)
    assert model.rows_banded.T.chunked and model.cols_adjoint.chunked     # the chunked products are the ones run
    np.testing.assert_allclose(model.spatial(by_pixel), model.spatial(start), rtol=1e-5, atol=1e-6)
    expected = project_and_measure(start.copy(), lr, lr_valid, hr, hr_valid, model)
    projected = project_and_measure(by_pixel, lr, lr_valid, hr, hr_valid, model, overwrite=True)
    assert projected.image is by_pixel and bands_innermost(projected.image)
    np.testing.assert_allclose(projected.image, expected.image, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(projected.misfit_after, expected.misfit_after, rtol=1e-3, atol=1e-9)
    assert consistency(projected.image, lr, lr_valid, hr, hr_valid, model).spectral < \
        consistency(start, lr, lr_valid, hr, hr_valid, model).spectral / 20


def test_invalid_pixels_carry_no_constraint():
    truth, response = _scene(), _response()
    lr, lr_valid, hr, hr_valid = _observed(truth, response)
    model = ObservationModel.build(32, 24, RATIO, PointSpread.gaussian(RATIO), response)
    lr_valid, hr_valid = lr_valid.copy(), hr_valid.copy()
    lr_valid[2, 3], hr_valid[5, 7] = False, False
    start = truth * 0.9
    results = []
    for fill in (0.0, 1e6):
        lr_filled, hr_filled = lr.copy(), hr.copy()
        lr_filled[:, 2, 3], hr_filled[:, 5, 7] = fill, fill
        results.append(project_onto_observations(start, lr_filled, lr_valid, hr_filled, hr_valid, model))
    np.testing.assert_array_equal(results[0], results[1])


def test_projected_network_fusion_is_consistent_logged_tagged_and_tiles_like_the_whole_image(small_pair, tmp_path):
    from helpers import save_random_weights
    from hyperfuse.core import registry
    from hyperfuse.core.feedback import Feedback
    from hyperfuse.core.inference import fusion
    from hyperfuse.core.inference.adaptation import PROJECTION_BOTH, PROJECTION_NONE
    from hyperfuse.core.storage.raster_io import open_raster, read_raster

    lr_info, ms_info = open_raster(small_pair["lr"]), open_raster(small_pair["ms"])
    weights = str(tmp_path / "w.pt")
    save_random_weights(weights, lr_info.count, ms_info.count, 3)
    messages = []

    class Recording(Feedback):
        def info(self, text):
            messages.append(text)

    outputs = {}
    for name, projection, block in (("raw", PROJECTION_NONE, 512), ("whole", PROJECTION_BOTH, 512),
                                    ("tiled", PROJECTION_BOTH, 24)):
        outputs[name] = str(tmp_path / f"{name}.tif")
        fusion.fuse_with_network(registry.method("deepsen3"), small_pair["lr"], small_pair["ms"], outputs[name],
                                 settings=fusion.NetworkFusionSettings(model=fusion.MODEL_WEIGHTS, weights_path=weights,
                                                                       block_size=block, projection=projection),
                                 feedback=Recording())
    raw, whole, tiled = (read_raster(open_raster(outputs[n]))[0] for n in ("raw", "whole", "tiled"))
    assert np.abs(tiled - whole).max() < 1e-4 * np.abs(whole).max()
    assert np.abs(whole - raw).max() > 1e-2 * np.abs(raw).max()     # the projection changed something
    report = [m for m in messages if m.startswith("Consistency with the inputs before the projection")]
    assert len(report) == 2
    with rasterio.open(outputs["whole"]) as dataset:
        assert dataset.tags()["hyperfuse_projection"].startswith("onto both observations; spectral responses "
                                                                 "estimated from the pair")
    with rasterio.open(outputs["raw"]) as dataset:
        assert "hyperfuse_projection" not in dataset.tags()
    # The projected output reproduces its inputs far better than the random network's output.
    from helpers import consistency_with_pair
    before, after = consistency_with_pair(small_pair["lr"], small_pair["ms"], 3, (raw, whole))
    assert after.spatial < before.spatial / 10 and after.spectral < before.spectral / 10


def test_misfits_from_the_solver_equal_the_misfits_of_the_images():
    from hyperfuse.core.protocol.consistency import project_and_measure

    truth, response = _scene(), _response()
    lr, lr_valid, hr, hr_valid = _observed(truth, response)
    model = ObservationModel.build(32, 24, RATIO, PointSpread.gaussian(RATIO), response)
    lr_valid = lr_valid.copy()
    lr_valid[1, 2] = False
    start = np.repeat(np.repeat(lr, RATIO, axis=1), RATIO, axis=2)
    result = project_and_measure(start, lr, lr_valid, hr, hr_valid, model, spectral_ridge=0.5)

    def misfits(image):
        image = image.astype(np.float64)
        return (float(np.sum((model.spatial(image) - lr)[:, lr_valid] ** 2)),
                float(np.sum((model.spectral(image) - hr)[:, hr_valid] ** 2)))
    # The products over every HS band run in float32 (consistency.py), so the two agree to float32 rounding.
    np.testing.assert_allclose(result.misfit_before, misfits(start), rtol=1e-5)
    np.testing.assert_allclose(result.misfit_after, misfits(result.image), rtol=1e-3, atol=1e-9)
    assert result.misfit_after[0] < result.misfit_before[0] / 100


def test_a_trial_projection_computes_the_same_block_and_keeps_it_out_of_the_report():
    from hyperfuse.core.inference.adaptation import ObservationSource, Projection

    truth, response = _scene(), _response()
    lr, lr_valid, hr, hr_valid = _observed(truth, response)
    start = np.repeat(np.repeat(lr, RATIO, axis=1), RATIO, axis=2)
    projection = Projection(ObservationSource(response, PointSpread.gaussian(RATIO), "test"), RATIO)
    predict = projection.wrap(lambda *_: start)
    trial = predict.trial(lr, lr_valid, hr, hr_valid)
    assert projection.tally.sums == {key: 0.0 for key in projection.tally.sums}      # the trial counts nothing
    run = predict(lr, lr_valid, hr, hr_valid)
    np.testing.assert_array_equal(trial, run)
    assert projection.tally.sums["lr_before"] > 0 and projection.tally.sums["lr"] > 0


def test_a_run_keeps_the_observation_models_of_the_last_region_shapes_only(monkeypatch):
    import gc
    import weakref

    from hyperfuse.core.inference.adaptation import OBSERVATION_MODELS_KEPT, ObservationSource, Projection

    built, build = [], ObservationModel.build

    def recorded(*args):
        model = build(*args)
        built.append(weakref.ref(model))
        return model

    monkeypatch.setattr(ObservationModel, "build", staticmethod(recorded))
    truth, response = _scene(rows=64, cols=56), _response()
    lr, lr_valid, hr, hr_valid = _observed(truth, response)
    projection = Projection(ObservationSource(response, PointSpread.gaussian(RATIO), "test"), RATIO)
    predict = projection.wrap(lambda lr_block, *_: np.repeat(np.repeat(lr_block, RATIO, axis=1), RATIO, axis=2))

    def projected(rows, cols):
        return predict(lr[:, :rows // RATIO, :cols // RATIO], lr_valid[:rows // RATIO, :cols // RATIO],
                       hr[:, :rows, :cols], hr_valid[:rows, :cols])

    first = projected(32, 40)
    assert np.array_equal(projected(32, 40), first) and len(built) == 1        # the same shape: the same model
    for rows, cols in [(32, 56), (48, 40), (48, 56), (64, 40), (64, 56)]:
        projected(rows, cols)
    gc.collect()
    assert len(built) == 6 and sum(ref() is not None for ref in built) == OBSERVATION_MODELS_KEPT
    # A shape met again after its model was dropped is projected as before, with a model built anew.
    np.testing.assert_array_equal(projected(32, 40), first)
    assert len(built) == 7


def test_a_block_and_the_projections_halo_are_projected_and_the_network_halo_is_not():
    from hyperfuse.core.inference.adaptation import ObservationSource, PROJECTION_HALO_LR_PIXELS, Projection

    truth, response = _scene(rows=96, cols=88), _response()
    lr, lr_valid, hr, hr_valid = _observed(truth, response)
    start = np.repeat(np.repeat(lr, RATIO, axis=1), RATIO, axis=2)
    projection = Projection(ObservationSource(response, PointSpread.gaussian(RATIO), "test"), RATIO)
    predict = projection.wrap(lambda *_: start.copy())
    assert predict.takes_centre
    halo = PROJECTION_HALO_LR_PIXELS * RATIO
    centre = (36, 32, 16, 24)                   # a block with 36 and 32 HR pixels of window above and left of it
    region = predict(lr, lr_valid, hr, hr_valid, centre=centre)
    rows, cols = slice(36 - halo, 36 + 16 + halo), slice(32 - halo, 32 + 24 + halo)
    # The result is the region alone: the network's halo around it is left out, not projected.
    assert isinstance(region, WindowPart)
    assert (region.row0, region.col0, region.values.shape) == (rows.start, cols.start, (start.shape[0], 16 + 2 * halo,
                                                                                        24 + 2 * halo))
    whole = predict(lr, lr_valid, hr, hr_valid)                              # the whole window projected
    assert np.abs(region.values - start[:, rows, cols]).max() > 1e-2
    # The projection's own halo is enough: on the block, projecting the region or the whole window agrees to the
    # tolerance of tiled against whole-image fusion (test_projected_network_fusion_…).
    block = (slice(36, 52), slice(32, 56))
    reference = whole[:, 36:52, 32:56]
    assert np.abs(region.cut(*block) - reference).max() < 1e-4 * np.abs(reference).max()
    # At the window's edge the region stops there.
    edge = predict(lr, lr_valid, hr, hr_valid, centre=(0, 0, 16, 24))
    assert (edge.row0, edge.col0, edge.values.shape[1:]) == (0, 0, (16 + halo, 24 + halo))
    assert np.abs(edge.cut(slice(0, 16), slice(0, 24)) - start[:, :16, :24]).max() > 1e-2
