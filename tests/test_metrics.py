import numpy as np
import pytest
from hyperfuse.core.protocol import metrics
from skimage.metrics import structural_similarity


@pytest.fixture
def pair():
    rng = np.random.default_rng(0)
    reference = rng.random((5, 40, 50)) * 0.5 + 0.1
    estimate = reference + rng.normal(0, 0.02, reference.shape)
    return reference, estimate, np.ones((40, 50), bool)


def test_ssim_matches_scikit_image(pair):
    reference, estimate, valid = pair
    ours = metrics.ssim_per_band(reference, estimate, valid)
    for b in range(reference.shape[0]):
        theirs = structural_similarity(reference[b], estimate[b], gaussian_weights=True, sigma=1.5,
                                       use_sample_covariance=False,
                                       data_range=reference[b].max() - reference[b].min())
        assert ours[b] == pytest.approx(theirs, abs=1e-4)


def test_hand_computed_rmse_psnr_ergas():
    reference = np.array([[[1.0, 2.0], [3.0, 4.0]], [[2.0, 2.0], [2.0, 2.0]]])
    estimate = reference + np.array([[[0.5, -0.5], [0.5, -0.5]], [[0.1, 0.1], [-0.1, -0.1]]])
    valid = np.ones((2, 2), bool)
    assert metrics.rmse(reference, estimate, valid) == pytest.approx(np.sqrt((4 * 0.25 + 4 * 0.01) / 8))
    # PSNR per band: peak 4 with MSE 0.25, peak 2 with MSE 0.01.
    assert metrics.psnr(reference, estimate, valid) == pytest.approx(
        (10 * np.log10(16 / 0.25) + 10 * np.log10(4 / 0.01)) / 2)
    # ERGAS = 100/r · sqrt(mean(RMSE_b² / μ_b²)) with μ = 2.5 and 2.
    assert metrics.ergas(reference, estimate, valid, 4) == pytest.approx(
        25 * np.sqrt((0.25 / 2.5 ** 2 + 0.01 / 4) / 2))
    assert metrics.ergas(reference, estimate, valid, 2) == pytest.approx(2 * metrics.ergas(reference, estimate, valid, 4))


def test_sam_degrees_zero_for_identical_and_scaled_spectra():
    reference = np.random.default_rng(1).random((6, 5, 5)) + 0.1
    valid = np.ones((5, 5), bool)
    assert metrics.sam(reference, reference, valid)[0] == pytest.approx(0.0, abs=1e-6)
    assert metrics.sam(reference, 3.0 * reference, valid)[0] == pytest.approx(0.0, abs=1e-6)
    a = np.zeros((2, 1, 1)); a[0] = 1
    b = np.zeros((2, 1, 1)); b[1] = 1
    assert metrics.sam(a, b, np.ones((1, 1), bool))[0] == pytest.approx(90.0)
    zero = np.zeros((2, 1, 1))
    assert metrics.sam(a, zero, np.ones((1, 1), bool))[1] == 1


def test_invalid_pixels_do_not_change_metrics(pair):
    reference, estimate, valid = pair
    before = metrics.assess(reference, estimate, valid, 3)
    valid2 = valid.copy()
    valid2[:, 45:] = False  # a nodata strip with arbitrary values
    reference2, estimate2 = reference.copy(), estimate.copy()
    reference2[:, :, 45:] = 1e9
    estimate2[:, :, 45:] = -1e9
    cropped = metrics.assess(reference[:, :, :45], estimate[:, :, :45], valid[:, :45], 3)
    masked = metrics.assess(reference2, estimate2, valid2, 3)
    for key in ("PSNR", "SAM", "ERGAS", "RMSE", "CC", "SSIM"):
        assert masked[key] == pytest.approx(cropped[key], rel=1e-9, abs=1e-12), key
    assert before["valid_pixels"] == 2000 and masked["valid_pixels"] == 1800


def test_bands_where_a_metric_is_undefined_are_left_out_and_listed(pair):
    reference, estimate, valid = pair
    with_zero = np.concatenate([reference, np.zeros((1,) + reference.shape[1:])])
    estimate_zero = np.concatenate([estimate, np.full((1,) + reference.shape[1:], 0.01)])
    result = metrics.assess(with_zero, estimate_zero, valid, 3)
    plain = metrics.assess(reference, estimate, valid, 3)
    for key in ("PSNR", "ERGAS", "SSIM", "CC"):
        assert np.isfinite(result[key]) and result[key] == pytest.approx(plain[key]), key
    assert result["zero_peak_bands"] == result["zero_mean_bands"] == result["zero_variance_bands"] == [5]
