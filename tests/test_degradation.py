import numpy as np
import pytest
from hyperfuse.core.errors import UserInputError
from hyperfuse.core.protocol import srf
from hyperfuse.core.protocol.degradation import (PointSpread, add_noise, gaussian_sigma, spatial_degrade,
                                                 spectral_degrade)


@pytest.mark.parametrize("ratio", [2, 3, 4, 8])
@pytest.mark.parametrize("gain", [0.25, 0.3])
def test_gaussian_response_at_lr_nyquist_equals_mtf_gain(ratio, gain):
    kernel = PointSpread.gaussian(ratio, gain)
    assert kernel.frequency_response(1.0 / (2 * ratio)) == pytest.approx(gain, abs=1e-3)
    assert kernel.taps.sum() == pytest.approx(1.0)


def test_gaussian_centred_on_lr_pixel_centre():
    for ratio in (2, 3, 4):
        kernel = PointSpread.gaussian(ratio)
        offsets = kernel.first + np.arange(kernel.taps.size)
        assert (kernel.taps * offsets).sum() == pytest.approx((ratio - 1) / 2, abs=1e-9)
        sigma = gaussian_sigma(ratio)
        assert offsets.min() <= (ratio - 1) / 2 - 3 * sigma and offsets.max() >= (ratio - 1) / 2 + 3 * sigma


@pytest.mark.parametrize("psf", [PointSpread.gaussian(3), PointSpread.box(3)])
def test_constant_image_stays_constant(psf):
    image = np.full((2, 12, 15), 0.37, dtype=np.float32)
    lr, valid = spatial_degrade(image, np.ones((12, 15), bool), 3, psf)
    assert lr.shape == (2, 4, 5) and valid.all()
    assert np.allclose(lr, 0.37, atol=1e-6)


def test_box_average_matches_block_mean():
    image = np.random.default_rng(0).random((1, 8, 8)).astype(np.float32)
    lr, _ = spatial_degrade(image, np.ones((8, 8), bool), 4, PointSpread.box(4))
    assert np.allclose(lr[0], image[0].reshape(2, 4, 2, 4).mean(axis=(1, 3)), atol=1e-6)


def test_invalid_pixels_invalidate_their_lr_pixel_only():
    image = np.random.default_rng(0).random((1, 12, 12)).astype(np.float32)
    valid = np.ones((12, 12), bool)
    valid[4, 4] = False
    image[0, 4, 4] = 1e6  # must not leak into neighbours
    lr, lr_valid = spatial_degrade(image, valid, 3, PointSpread.gaussian(3))
    assert not lr_valid[1, 1] and lr_valid.sum() == 15
    assert lr[0][lr_valid].max() < 2.0


def test_response_rows_non_negative_and_sum_to_one():
    wl = np.linspace(400, 2500, 211)
    for p in (p for p in srf.PRESETS if not p.from_file):
        matrix = srf.response_matrix(p.load(), wl)
        assert (matrix >= 0).all() and np.allclose(matrix.sum(axis=1), 1.0)
    fwhm = np.full(211, 12.0)
    matrix = srf.response_matrix(srf.preset("s2a_10m").load(), wl, fwhm)
    assert np.allclose(matrix.sum(axis=1), 1.0)


def test_constant_spectrum_degrades_to_the_same_constant():
    wl = np.linspace(400, 1000, 60)
    matrix = srf.response_matrix(srf.preset("s2a_10m").load(), wl)
    ms = spectral_degrade(np.full((60, 3, 3), 0.2, np.float32), matrix)
    assert np.allclose(ms, 0.2, atol=1e-6)


@pytest.mark.parametrize("band,centre", [("B2", 492), ("B3", 560), ("B4", 665), ("B8", 833)])
def test_sentinel2a_centroids_match_published_centres(band, centre):
    response = srf.preset("s2a_all").load().subset([band])
    assert abs(response.centres_nm()[0] - centre) < 5


def test_band_outside_hs_coverage_is_named():
    wl = np.linspace(400, 1000, 60)
    with pytest.raises(UserInputError, match=r"B11 \(0 % covered\), B12 \(0 % covered\).*mostly outside the HS"):
        srf.response_matrix(srf.preset("s2a_all").load(), wl)
    with pytest.raises(UserInputError, match=r"band\(s\) B12 "):
        srf.response_matrix(srf.preset("s2a_all").load().subset(["B2", "B12"]), wl)


def test_noise_snr_and_reproducibility():
    image = np.random.default_rng(0).random((3, 200, 200)).astype(np.float32) + 0.5
    valid = np.ones((200, 200), bool)
    noisy = add_noise(image, valid, 30.0, np.random.default_rng(5))
    again = add_noise(image, valid, 30.0, np.random.default_rng(5))
    assert np.array_equal(noisy, again)
    noise = noisy - image
    snr = 10 * np.log10((image.astype(np.float64) ** 2).mean(axis=(1, 2)) / (noise.astype(np.float64) ** 2).mean(axis=(1, 2)))
    assert np.allclose(snr, 30.0, atol=0.5)
