"""Estimating R and the PSF from a pair (core/protocol/responses.py) and writing them as SRF CSV and JSON."""
import json

import numpy as np
import pytest
from hyperfuse.core import synthetic
from hyperfuse.core.errors import UserInputError
from hyperfuse.core.protocol import responses, srf
from hyperfuse.core.protocol.degradation import PointSpread, gaussian_sigma, spatial_degrade, spectral_degrade

WAVELENGTHS = np.linspace(420, 1000, 40)


def _truth():
    return srf.response_matrix(srf.preset("s2a_10m").load(), WAVELENGTHS, 1.1 * np.gradient(WAVELENGTHS))


def _pair(ratio, mtf_gain, variability=0.01):
    """A simulated pair with known R and PSF.

    The synthetic scene is an exact mixture of 11 materials, so its spectra span only 11
    dimensions and no data can tell R apart from R plus anything orthogonal to them. Real
    scenes vary within materials; a 1 % per-pixel, per-band variability models that and
    makes R identifiable, as it is on the AVIRIS and EnMAP scenes.
    """
    scene = synthetic.generate_scene(60, 60, WAVELENGTHS, seed=3)
    scene *= 1 + variability * np.random.default_rng(0).standard_normal(scene.shape).astype(np.float32)
    valid = np.ones(scene.shape[1:], dtype=bool)
    lr, lr_valid = spatial_degrade(scene, valid, ratio, PointSpread.gaussian(ratio, mtf_gain))
    return lr, lr_valid, spectral_degrade(scene, _truth()), valid


@pytest.mark.parametrize("ratio,mtf_gain", [(3, 0.25), (4, 0.25), (3, 0.4), (4, 0.15)])
def test_recovers_response_and_psf(ratio, mtf_gain):
    estimate = responses.estimate_responses(*_pair(ratio, mtf_gain), ratio)
    assert np.abs(estimate.response - _truth()).max() < 0.02
    assert abs(estimate.sigma / gaussian_sigma(ratio, mtf_gain) - 1) < 0.10
    assert abs(estimate.mtf_gain - mtf_gain) < 0.02
    assert np.allclose(estimate.response.sum(axis=1), 1) and (estimate.response >= 0).all()
    assert np.allclose(estimate.gains, 1, atol=1e-3)


def test_invalid_pixels_and_offsets():
    lr, lr_valid, ms, ms_valid = _pair(3, 0.25)
    lr_valid[5:8, 10:14] = False
    lr[:, ~lr_valid] = np.nan
    ms_valid[30:36, 3:9] = False
    ms[:, ~ms_valid] = 1e30
    ms_offset = ms + np.array([0.01, 0.02, 0.0, 0.03], dtype=np.float32)[:, None, None]
    plain = responses.estimate_responses(lr, lr_valid, ms, ms_valid, 3)
    fitted = responses.estimate_responses(lr, lr_valid, ms_offset, ms_valid, 3, offset=True)
    for estimate in (plain, fitted):
        assert np.abs(estimate.response - _truth()).max() < 0.02
        assert abs(estimate.sigma / gaussian_sigma(3, 0.25) - 1) < 0.10
    assert np.allclose(fitted.offsets, [0.01, 0.02, 0.0, 0.03], atol=2e-3)


def test_too_few_pixels_are_refused():
    lr, lr_valid, ms, ms_valid = _pair(3, 0.25)
    lr_valid[:] = False
    lr_valid[0, :5] = True
    with pytest.raises(UserInputError, match="too few to estimate the responses of 40 HS bands"):
        responses.estimate_responses(lr, lr_valid, ms, ms_valid, 3)


def test_estimation_window_is_central_and_bounded():
    assert responses.estimation_window(100, 120) == (0, 0, 100, 120)
    row0, col0, rows, cols = responses.estimation_window(1000, 600)
    assert rows * cols <= responses.MAX_ESTIMATION_LR_PIXELS and (row0, col0) == ((1000 - rows) // 2, (600 - cols) // 2)


def test_files_csv_and_json(small_pair, tmp_path):
    out_srf, out_json = str(tmp_path / "r.csv"), str(tmp_path / "r.json")
    estimate = responses.estimate_from_files(small_pair["lr"], small_pair["ms"], out_srf, out_json)
    curves = srf.read_srf_csv(out_srf)
    assert curves.band_names == ["B2 (492 nm)", "B3 (560 nm)", "B4 (665 nm)", "B8 (833 nm)"]
    assert np.allclose(curves.wavelengths_nm, WAVELENGTHS, atol=1e-3)
    assert np.allclose(curves.responses, estimate.response, atol=1e-6)
    content = json.loads(open(out_json).read())
    assert content["ratio"] == 3 and np.isclose(content["sigma_hr_pixels"], estimate.sigma)
    assert np.array(content["response"]).shape == (4, 40) and len(content["relative_residuals"]) == 4
    # The scene is a mixture of 11 materials, so R itself is not determined, but σ is.
    assert abs(estimate.sigma / gaussian_sigma(3, 0.25) - 1) < 0.10


def test_curves_of_overlapping_bands_are_sorted_and_merged():
    matrix = np.array([[0.2, 0.3, 0.1, 0.4]])
    curves = responses.response_curves(matrix, [500.0, 520.0, 510.0, 520.0], ["B1"], "test")
    assert curves.wavelengths_nm.tolist() == [500.0, 510.0, 520.0]
    assert np.allclose(curves.responses, [[0.2, 0.1, 0.35]])
