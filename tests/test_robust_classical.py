"""One wild pixel stays local: outlier-resistant global statistics (core/protocol/robust.py) in the classical
methods and the response estimation, and σ refused where the inputs carry no spatial detail."""
import numpy as np
import pytest
import rasterio
from hyperfuse.core import synthetic
from hyperfuse.core.classical.run import fuse_classical
from hyperfuse.core.errors import UserInputError
from hyperfuse.core.protocol import responses, robust, simulation, srf
from hyperfuse.core.protocol.degradation import gaussian_sigma
from hyperfuse.core.storage.raster_io import open_raster, read_raster
from test_responses import _pair, _truth

RATIO = 3
WILD = 1000.0                     # × the scene's maximum, in every band of one pixel
LR_PIXEL = (7, 12)                # the wild LR pixel (row, col) of the 20 × 20 LR grid
REACH_LR = 5                      # neighbourhood (LR pixels, each way) allowed to change
METHODS = [("gsa", {}), ("glp", {"lowpass": "mtf"}), ("cnmf", {}), ("hysure", {})]


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    """A 60 × 60 generated scene with 30 bands, simulated at ratio 3, and its clean fusions."""
    folder = tmp_path_factory.mktemp("robust")
    paths = {k: str(folder / f"{k}.tif") for k in ("scene", "lr", "ms", "ref")}
    synthetic.write_scene(paths["scene"], 60, 60, wavelengths_nm=np.linspace(420, 1000, 30), seed=5)
    settings = simulation.SimulationSettings(ratio=RATIO, srf=srf.preset("s2a_10m").load())
    simulation.simulate(paths["scene"], settings, paths["lr"], paths["ms"], paths["ref"])
    clean = {}
    for method_id, options in METHODS:
        output = str(folder / f"clean_{method_id}.tif")
        fuse_classical(method_id, paths["lr"], paths["ms"], output, **options)
        clean[method_id] = read_raster(open_raster(output))[0]
    return {"folder": folder, "paths": paths, "clean": clean}


def _with_wild_pixel(paths: dict, folder, key: str, row: int, col: int, factor: float) -> str:
    """A copy of input ``key`` with pixel (row, col) set to ``factor`` × the image's maximum in every band."""
    with rasterio.open(paths[key]) as src:
        profile, data = src.profile, src.read()
    data[:, row, col] = factor * data.max()
    path = str(folder / f"{key}_wild_{factor:g}.tif")
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
    return path


def _far_from_wild_pixel(shape) -> np.ndarray:
    """HR pixels more than REACH_LR LR pixels (Chebyshev) from the wild LR pixel."""
    far = np.ones(shape, dtype=bool)
    (i, j), r = LR_PIXEL, RATIO
    far[max(0, (i - REACH_LR) * r):(i + REACH_LR + 1) * r, max(0, (j - REACH_LR) * r):(j + REACH_LR + 1) * r] = False
    return far


@pytest.mark.parametrize("key,factor", [("lr", WILD), ("lr", -WILD), ("ms", WILD)],
                         ids=["lr-bright", "lr-negative", "ms-bright"])
@pytest.mark.parametrize("method_id,options", METHODS, ids=[m for m, _ in METHODS])
def test_one_wild_pixel_stays_local(scene, method_id, options, key, factor):
    """‖out_wild − out_clean‖ / ‖out_clean‖ over HR pixels outside the 5-LR-pixel neighbourhood < 1 %.

    The norm is over all bands of those pixels, relative to the clean output's norm there
    (not to the error against the reference). Before core/protocol/robust.py a bright wild LR pixel
    changed that ratio to 3.9e3 for GSA, 0.079 for GLP, 12.7 for CNMF and 3.4 for HySure, and
    a negative one made GSA fail. A wild HR-MSI pixel (inside the same neighbourhood) is
    checked the same way.
    """
    paths = scene["paths"]
    i, j = LR_PIXEL
    row, col = (i, j) if key == "lr" else (i * RATIO + 1, j * RATIO + 1)
    wild = _with_wild_pixel(paths, scene["folder"], key, row, col, factor)
    inputs = (wild, paths["ms"]) if key == "lr" else (paths["lr"], wild)
    output = str(scene["folder"] / f"wild_{method_id}_{key}_{factor:g}.tif")
    fuse_classical(method_id, *inputs, output, **options)
    fused, clean = read_raster(open_raster(output))[0], scene["clean"][method_id]
    far = _far_from_wild_pixel(clean.shape[1:])
    change = np.linalg.norm((fused - clean)[:, far]) / np.linalg.norm(clean[:, far])
    assert change < 0.01, f"{method_id}: relative change {change:.2e} far from the wild pixel"


def test_clean_scene_loses_no_pixel(scene):
    """The rule rejects nothing on clean data, so clean results are those of plain least squares."""
    for key in ("lr", "ms", "ref"):
        values, valid = read_raster(open_raster(scene["paths"][key]))
        assert np.array_equal(robust.inliers(values, valid), valid), key


def test_wild_pixel_is_rejected_in_a_tiny_image():
    """Even where the 99th percentile falls between the two largest samples, the wild one is out."""
    values = np.full((2, 5, 5), 0.3, dtype=np.float32)
    values[:, 1, 1] = 9.0
    keep = robust.inliers(values, np.ones((5, 5), dtype=bool))
    assert not keep[1, 1] and keep.sum() == 24


@pytest.mark.parametrize("factor", [WILD, -WILD, 20.0], ids=["bright", "negative", "moderate"])
def test_responses_with_a_wild_lr_pixel(factor):
    """R within 0.02 and σ within 10 % (the tolerances of test_responses.py) despite one wild LR pixel."""
    lr, lr_valid, ms, ms_valid = _pair(3, 0.25)
    lr[:, 8, 11] = factor * lr.max()
    estimate = responses.estimate_responses(lr, lr_valid, ms, ms_valid, 3)
    assert np.abs(estimate.response - _truth()).max() < 0.02
    assert abs(estimate.sigma / gaussian_sigma(3, 0.25) - 1) < 0.10


def test_responses_with_a_wild_ms_pixel():
    lr, lr_valid, ms, ms_valid = _pair(4, 0.25)
    ms[:, 30, 17] = WILD * ms.max()
    estimate = responses.estimate_responses(lr, lr_valid, ms, ms_valid, 4)
    assert np.abs(estimate.response - _truth()).max() < 0.02
    assert abs(estimate.sigma / gaussian_sigma(4, 0.25) - 1) < 0.10


def _constant(hs_level=0.3, ms_level=0.2, jitter=0.0):
    rng = np.random.default_rng(1)
    lr = np.full((40, 20, 20), hs_level, dtype=np.float32) * (1 + jitter * rng.standard_normal((40, 20, 20)))
    ms = np.full((4, 60, 60), ms_level, dtype=np.float32) * (1 + jitter * rng.standard_normal((4, 60, 60)))
    return lr.astype(np.float32), np.ones((20, 20), dtype=bool), ms.astype(np.float32), np.ones((60, 60), dtype=bool)


@pytest.mark.parametrize("jitter", [0.0, 1e-6], ids=["constant", "near-constant"])
def test_constant_rasters_refuse_sigma(jitter):
    with pytest.raises(UserInputError, match=r"The PSF σ cannot be estimated from these inputs: the LR-HSI .* and "
                                             r"the HR-MSI .* are constant or nearly so.*every σ blurs the HR-MSI "
                                             r"alike.*give the PSF \(MTF_GAIN above 0"):
        responses.estimate_responses(*_constant(jitter=jitter), RATIO)


def test_constant_lr_hsi_alone_is_named():
    lr, lr_valid, _, _ = _constant()
    _, _, ms, ms_valid = _pair(3, 0.25)
    with pytest.raises(responses.SigmaNotIdentifiable, match=r"inputs: the LR-HSI \(std / rms 0\.0e\+00\) is "
                                                             r"constant or nearly so"):
        responses.estimate_responses(lr, lr_valid, ms, ms_valid, RATIO)


def test_constant_rasters_with_a_given_sigma_still_give_r():
    """With σ given, R is estimated (only its action on the one spectrum present is determined), as documented."""
    estimate = responses.estimate_responses(*_constant(), RATIO, sigma=1.5)
    assert estimate.sigma == 1.5 and np.allclose(estimate.response.sum(axis=1), 1)
    assert np.allclose(estimate.gains, 0.2 / 0.3, rtol=1e-4) and (estimate.residuals < 1e-6).all()


def test_constant_rasters_through_the_methods():
    """A method whose PSF comes from MTF_GAIN fuses flat inputs; one that must estimate σ says why it cannot."""
    from hyperfuse.core import registry

    inputs = _constant()
    gsa = registry.method("gsa")
    assert np.allclose(gsa.predict(*inputs, RATIO, **gsa.defaults), 0.3)
    cnmf = registry.method("cnmf")
    assert cnmf.defaults["mtf_gain"] == 0.0
    with pytest.raises(UserInputError, match="The PSF σ cannot be estimated"):
        cnmf.predict(*inputs, RATIO, **cnmf.defaults)
