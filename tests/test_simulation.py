"""Simulate degradation: presets, exact grids, reproducible noise, clear errors."""
import numpy as np
import pytest
import rasterio
from hyperfuse.core import synthetic
from hyperfuse.core.errors import UserInputError
from hyperfuse.core.protocol import simulation, srf
from hyperfuse.core.protocol.degradation import PointSpread
from hyperfuse.core.storage.raster_io import open_raster, read_raster


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("scene") / "scene.tif")
    synthetic.write_scene(path, 50, 47, wavelengths_nm=np.linspace(400, 1000, 40), seed=4)
    return path


def _outputs(tmp_path, prefix=""):
    return [str(tmp_path / f"{prefix}{k}.tif") for k in ("lr", "ms", "ref")]


def _settings(ratio, response=None, **options):
    """Simulation settings with the Sentinel-2A 10 m responses unless ``response`` is given."""
    return simulation.SimulationSettings(ratio=ratio, srf=response or srf.preset("s2a_10m").load(), **options)


@pytest.mark.parametrize("key,bands", [("s3a_olci", 21), ("s3b_olci", 21), ("worldview2", 8), ("rgb_camera", 3),
                                       ("l8_oli", 9), ("s2b_all", 13)])
def test_presets_have_their_band_counts_and_sources(key, bands):
    response = srf.preset(key).load()
    assert len(response.band_names) == bands and response.source


def test_olci_centres_match_the_published_band_centres():
    centres = srf.preset("s3a_olci").load().centres_nm()
    published = [400, 412.5, 442.5, 490, 510, 560, 620, 665, 673.75, 681.25, 708.75, 753.75, 761.25, 764.375,
                 767.5, 778.75, 865, 885, 900, 940, 1020]
    assert np.abs(centres - published).max() < 5


def test_lr_grid_is_the_hr_grid_times_the_ratio_from_the_same_origin(scene, tmp_path):
    lr, ms, ref = _outputs(tmp_path)
    simulation.simulate(scene, _settings(4), lr, ms, ref)
    lr_info, ms_info, ref_info, src = open_raster(lr), open_raster(ms), open_raster(ref), open_raster(scene)
    assert (ref_info.height, ref_info.width) == (48, 44) and (lr_info.height, lr_info.width) == (12, 11)
    assert (ms_info.height, ms_info.width) == (48, 44)
    a, b, c, d, e, f = src.transform
    assert ref_info.transform == src.transform == ms_info.transform
    assert lr_info.transform == (4 * a, 0.0, c, 0.0, 4 * e, f)
    assert ms_info.band_names == ["B2 (492 nm)", "B3 (560 nm)", "B4 (665 nm)", "B8 (833 nm)"]
    assert np.allclose(lr_info.wavelengths_nm, src.wavelengths_nm)


def test_box_psf_gives_block_means(scene, tmp_path):
    lr, ms, ref = _outputs(tmp_path)
    simulation.simulate(scene, _settings(2, psf="box"), lr, ms, ref)
    reference, _ = read_raster(open_raster(ref))
    low, _ = read_raster(open_raster(lr))
    expected = reference.reshape(40, 25, 2, 23, 2).mean(axis=(2, 4))
    assert np.allclose(low, expected, atol=1e-6)


def test_kernel_file_psf(scene, tmp_path):
    taps = PointSpread.gaussian(3).taps
    kernel = str(tmp_path / "kernel.csv")
    np.savetxt(kernel, np.outer(taps, taps), delimiter=",")
    results = []
    for psf, psf_file, prefix in (("gaussian", None, "g"), ("kernel", kernel, "k")):
        lr, ms, ref = _outputs(tmp_path, prefix)
        simulation.simulate(scene, _settings(3, psf=psf, psf_file=psf_file), lr, ms, ref)
        results.append(read_raster(open_raster(lr))[0])
    assert np.allclose(results[0], results[1], atol=1e-6)
    even = str(tmp_path / "even.csv")
    np.savetxt(even, np.ones((4, 4)), delimiter=",")
    with pytest.raises(UserInputError, match="cannot be centred on the LR pixel centre at ratio 3"):
        simulation.simulate(scene, _settings(3, psf="kernel", psf_file=even), *_outputs(tmp_path, "e"))


def test_noise_snr_and_seed_reproduce_bit_for_bit(tmp_path):
    # Large enough that the measured SNR of every band is accurate to about 0.1 dB.
    scene = str(tmp_path / "big.tif")
    synthetic.write_scene(scene, 160, 160, wavelengths_nm=np.linspace(420, 980, 12), seed=6)
    response = srf.preset("s2a_10m").load()
    runs = {}
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        lr, ms, ref = _outputs(tmp_path, name)
        simulation.simulate(scene, _settings(2, response, seed=seed, snr_hs=25.0, snr_ms=35.0), lr, ms, ref)
        runs[name] = [read_raster(open_raster(p))[0] for p in (lr, ms)]
    assert all(np.array_equal(x, y) for x, y in zip(runs["a"], runs["b"]))
    assert not np.array_equal(runs["a"][0], runs["c"][0])
    clean_lr, clean_ms, clean_ref = _outputs(tmp_path, "clean")
    simulation.simulate(scene, _settings(2, response), clean_lr, clean_ms, clean_ref)
    for noisy, clean_path, snr in ((runs["a"][0], clean_lr, 25.0), (runs["a"][1], clean_ms, 35.0)):
        clean = read_raster(open_raster(clean_path))[0].astype(np.float64)
        noise = noisy - clean
        measured = 10 * np.log10((clean ** 2).mean(axis=(1, 2)) / (noise ** 2).mean(axis=(1, 2)))
        assert np.abs(measured - snr).max() < 0.5


def test_response_matrix_csv(scene, tmp_path):
    out_srf = str(tmp_path / "r.csv")
    simulation.simulate(scene, _settings(2), *_outputs(tmp_path), out_srf=out_srf)
    rows = [line.split(",") for line in open(out_srf).read().splitlines() if not line.startswith("#")]
    assert rows[0][0] == "ms_band" and len(rows[0]) == 41 and [r[0] for r in rows[1:]] == ["B2", "B3", "B4", "B8"]
    matrix = np.array([[float(v) for v in r[1:]] for r in rows[1:]])
    assert (matrix >= 0).all() and np.allclose(matrix.sum(axis=1), 1.0)


def test_band_outside_coverage_is_named(scene, tmp_path):
    with pytest.raises(UserInputError, match=r"band\(s\) B12 .*mostly outside the HS wavelength coverage"):
        simulation.simulate(scene, _settings(2, srf.load_response("s2a_all", band_subset="B4,B12")),
                            *_outputs(tmp_path))


def test_missing_wavelengths_need_the_wavelengths_parameter(tmp_path):
    bare = str(tmp_path / "bare.tif")
    data = synthetic.generate_scene(20, 20, np.linspace(420, 980, 30), seed=1)
    with rasterio.open(bare, "w", driver="GTiff", width=20, height=20, count=30, dtype="float32") as dst:
        dst.write(data)
    with pytest.raises(UserInputError, match="no wavelength metadata.*WAVELENGTHS"):
        simulation.simulate(bare, _settings(2), *_outputs(tmp_path))
    listing = ",".join(f"{w:.1f}" for w in np.linspace(420, 980, 30))
    simulation.simulate(bare, _settings(2, wavelengths_nm=simulation.parse_wavelengths(listing)), *_outputs(tmp_path))
    csv = tmp_path / "wl.csv"
    csv.write_text("wavelength_nm\n" + "\n".join(f"{w / 1000:.4f}" for w in np.linspace(420, 980, 30)))
    assert np.allclose(simulation.parse_wavelengths(str(csv)), np.linspace(420, 980, 30), atol=0.1)


def test_ratio_larger_than_the_image_is_refused(scene, tmp_path):
    with pytest.raises(UserInputError, match="RATIO 60 is larger than the image"):
        simulation.simulate(scene, _settings(60), *_outputs(tmp_path))


@pytest.mark.parametrize("content", ["not,a\nnumber,table\n", "", "wavelength_nm,B1\n500,-1\n510,1\n", "\x00\x01"])
def test_unreadable_srf_csv_is_refused(tmp_path, content):
    path = tmp_path / "srf.csv"
    path.write_text(content)
    with pytest.raises(UserInputError, match="spectral response file|responses in"):
        srf.load_response("csv_file", str(path))


def test_csv_preset_and_band_subset_through_processing(qgis_app, scene, tmp_path):
    import processing

    csv = tmp_path / "sensor.csv"
    grid = np.arange(400, 1001)
    csv.write_text("# two made-up bands\nwavelength_nm,Vis,Nir\n" + "\n".join(
        f"{w},{float(500 <= w <= 600)},{float(800 <= w <= 900)}" for w in grid))
    result = processing.run("hyperfuse:simulate_degradation", {
        "INPUT": scene, "RATIO": 2, "SRF": len(srf.PRESETS) - 1, "SRF_FILE": str(csv), "MS_BANDS": "Nir",
        "OUTPUT_LR_HSI": str(tmp_path / "lr.tif"), "OUTPUT_HR_MSI": str(tmp_path / "ms.tif"),
        "OUTPUT_REFERENCE": str(tmp_path / "ref.tif"), "OUTPUT_SRF": str(tmp_path / "r.csv")})
    ms = open_raster(result["OUTPUT_HR_MSI"])
    assert ms.count == 1 and ms.band_names == ["Nir (850 nm)"]
    assert (tmp_path / "r.csv").exists()
