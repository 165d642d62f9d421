"""A 6 × 6-pixel LR-HSI with 200 bands at ratio 8: fewer LR pixels than bands."""
from __future__ import annotations

import numpy as np
import pytest
from hyperfuse.core import registry
from hyperfuse.core.classical.run import fuse_classical
from hyperfuse.core.inference.adaptation import PROJECTION_BOTH, PROJECTION_NONE
from hyperfuse.core.protocol.consistency import ObservationModel, consistency
from hyperfuse.core.protocol import metrics, responses, simulation, srf
from hyperfuse.core.protocol.degradation import PointSpread, gaussian_sigma
from hyperfuse.core.storage.raster_io import open_raster, read_raster

RATIO = 8


@pytest.fixture(scope="module")
def tiny_pair(tmp_path_factory):
    from hyperfuse.core import synthetic

    folder = tmp_path_factory.mktemp("tiny")
    scene = str(folder / "scene.tif")
    synthetic.write_scene(scene, 6 * RATIO, 6 * RATIO, wavelengths_nm=np.linspace(410, 2400, 200), seed=5)
    paths = {k: str(folder / f"{k}.tif") for k in ("lr", "ms", "ref")}
    settings = simulation.SimulationSettings(ratio=RATIO, srf=srf.preset("s2a_10m").load())
    paths["response"] = simulation.simulate(scene, settings, paths["lr"], paths["ms"], paths["ref"]).response
    return paths


def _psnr(values, reference):
    mse = ((values.astype(np.float64) - reference) ** 2).mean(axis=(1, 2))
    return float(np.mean(10 * np.log10(reference.max(axis=(1, 2)) ** 2 / mse)))


def test_responses_of_200_bands_from_36_pixels_need_the_psf_and_come_smooth(tiny_pair):
    lr, lr_valid = read_raster(open_raster(tiny_pair["lr"]))
    ms, ms_valid = read_raster(open_raster(tiny_pair["ms"]))
    assert lr.shape == (200, 6, 6)
    with pytest.raises(responses.SigmaNotIdentifiable, match="too few to estimate the responses of 200 HS bands"):
        responses.estimate_responses(lr, lr_valid, ms, ms_valid, RATIO)
    estimate = responses.estimate_responses(lr, lr_valid, ms, ms_valid, RATIO, sigma=gaussian_sigma(RATIO))
    assert estimate.response.shape == (4, 200) and np.allclose(estimate.response.sum(axis=1), 1.0)
    assert estimate.residuals.max() < 0.05


@pytest.mark.parametrize("method_id", list(registry.CLASSICAL_METHODS))
def test_every_classical_method_fuses_it_and_its_projection_reproduces_the_inputs(method_id, tiny_pair, tmp_path):
    reference, _ = read_raster(open_raster(tiny_pair["ref"]))
    lr, lr_valid = read_raster(open_raster(tiny_pair["lr"]))
    ms, ms_valid = read_raster(open_raster(tiny_pair["ms"]))
    # The simulation's own R and PSF: an independent judge of how well a result reproduces its inputs.
    truth = ObservationModel.build(6 * RATIO, 6 * RATIO, RATIO, PointSpread.gaussian(RATIO), tiny_pair["response"])
    results = {}
    for projection in (PROJECTION_NONE, PROJECTION_BOTH):
        output = str(tmp_path / f"{projection[:4]}.tif")
        fuse_classical(method_id, tiny_pair["lr"], tiny_pair["ms"], output, projection=projection)
        fused, valid = read_raster(open_raster(output))
        assert fused.shape == reference.shape and valid.all() and np.isfinite(fused).all()
        results[projection] = (fused, consistency(fused, lr, lr_valid, ms, ms_valid, truth))
    (plain, before), (projected, after) = results[PROJECTION_NONE], results[PROJECTION_BOTH]
    assert after.spatial < before.spatial / 10
    # R comes from 36 pixels for 200 bands, so the spectral side is met only as well as that estimate allows
    # (about 2 % from the true R here), yet every method ends nearer the reference.
    assert after.spectral < 0.05
    assert _psnr(projected, reference) > _psnr(plain, reference) + (4.0 if method_id == "bicubic" else 0.1)


@pytest.mark.parametrize("method_id", list(registry.METHODS))
def test_every_network_fuses_it_with_model_auto_through_its_generic_model_and_beats_bicubic(method_id, tiny_pair,
                                                                                          tmp_path):
    """200 bands at 410–2400 nm with Sentinel-2 10 m: no preset. Too small to train on, so the generic model runs."""
    pytest.importorskip("torch")
    from hyperfuse.core.inference import fusion

    reference, _ = read_raster(open_raster(tiny_pair["ref"]))
    outputs = {}
    for name, run in (("network", lambda out: fusion.fuse_with_network(registry.method(method_id), tiny_pair["lr"],
                                                                       tiny_pair["ms"], out)),
                      ("bicubic", lambda out: fuse_classical("bicubic", tiny_pair["lr"], tiny_pair["ms"], out))):
        outputs[name] = str(tmp_path / f"{name}.tif")
        result = run(outputs[name])
        if name == "network":
            assert result.model_source == f"{method_id}_generic.pt"
    fused, bicubic = (read_raster(open_raster(outputs[n]))[0] for n in ("network", "bicubic"))
    assert fused.shape == reference.shape and np.isfinite(fused).all()
    assert _psnr(fused, reference) > _psnr(bicubic, reference)
    everywhere = np.ones(reference.shape[1:], dtype=bool)
    assert metrics.sam(reference, fused, everywhere)[0] < metrics.sam(reference, bicubic, everywhere)[0]
