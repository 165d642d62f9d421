"""Fine-tuning on the pair at full resolution (ADAPT_STEPS): it lowers both consistency misfits, is logged and
tagged, stays off by default, and leaves the output as it was with 0 steps."""
from __future__ import annotations

import numpy as np
import rasterio


def _run(small_pair, tmp_path, weights, name, **settings_kwargs):
    from hyperfuse.core import registry
    from hyperfuse.core.feedback import Feedback
    from hyperfuse.core.inference import fusion

    messages = []

    class Recording(Feedback):
        def info(self, text):
            messages.append(text)

    output = str(tmp_path / f"{name}.tif")
    fusion.fuse_with_network(registry.method("deepsen3"), small_pair["lr"], small_pair["ms"], output,
                             settings=fusion.NetworkFusionSettings(model=fusion.MODEL_WEIGHTS, weights_path=weights,
                                                                   projection="none", **settings_kwargs),
                             feedback=Recording())
    return output, messages


def test_fine_tuning_lowers_both_misfits_and_is_logged_and_tagged(small_pair, tmp_path):
    from helpers import consistency_with_pair, save_random_weights
    from hyperfuse.core.inference import fusion
    from hyperfuse.core.storage.raster_io import open_raster, read_raster

    lr_info, ms_info = open_raster(small_pair["lr"]), open_raster(small_pair["ms"])
    weights = str(tmp_path / "w.pt")
    save_random_weights(weights, lr_info.count, ms_info.count, 3)
    assert fusion.NetworkFusionSettings().adapt_steps == fusion.DEFAULT_ADAPT_STEPS == 0
    plain, plain_log = _run(small_pair, tmp_path, weights, "plain")
    none, _ = _run(small_pair, tmp_path, weights, "none", adapt_steps=0)
    tuned, tuned_log = _run(small_pair, tmp_path, weights, "tuned", adapt_steps=40)
    (plain_x, _), (none_x, _), (tuned_x, _) = (read_raster(open_raster(p)) for p in (plain, none, tuned))
    np.testing.assert_array_equal(plain_x, none_x)
    assert not any("Fine-tun" in m for m in plain_log)
    report = [m for m in tuned_log if m.startswith("Fine-tuned: 40 steps")]
    assert len(report) == 1 and "relative misfit to the LR-HSI" in report[0]
    with rasterio.open(tuned) as dataset:
        assert dataset.tags()["hyperfuse_fine_tuning"].startswith("40 steps on the inputs")
    with rasterio.open(plain) as dataset:
        assert "hyperfuse_fine_tuning" not in dataset.tags()

    # Measured on the whole image, independently of the fine-tuning's own patches and estimate.
    before, after = consistency_with_pair(small_pair["lr"], small_pair["ms"], 3, (plain_x, tuned_x))
    assert after.spatial < 0.7 * before.spatial and after.spectral < 0.7 * before.spectral, (before, after)


def test_the_patches_are_read_through_one_opening_of_each_input(tmp_path, monkeypatch):
    # GDAL decodes a tile again in every new opening of a file: 16 patches of a pixel-interleaved LR-HSI opened
    # once each decoded its tiles up to 16 times.
    from helpers import recorded_openings, save_random_weights
    from hyperfuse.core import synthetic
    from hyperfuse.core.protocol import simulation, srf
    from hyperfuse.core.storage.raster_io import open_raster

    pair = {k: str(tmp_path / f"{k}.tif") for k in ("scene", "lr", "ms", "ref")}
    synthetic.write_scene(pair["scene"], 240, 240, wavelengths_nm=np.linspace(420, 1000, 12), seed=4)
    simulation.simulate(pair["scene"], simulation.SimulationSettings(ratio=3, srf=srf.preset("s2a_10m").load()),
                        pair["lr"], pair["ms"], pair["ref"])
    weights = str(tmp_path / "w.pt")
    save_random_weights(weights, open_raster(pair["lr"]).count, open_raster(pair["ms"]).count, 3)
    opened = recorded_openings(monkeypatch)
    counts = {}
    for steps in (0, 1):
        opened.clear()
        _run(pair, tmp_path, weights, f"steps{steps}", adapt_steps=steps)
        counts[steps] = [path for path, _ in opened].count(pair["lr"])
    # The fine-tuning adds the observation source's reading (without it when the projection is off) and one
    # opening for all of its 16 patches.
    assert counts[1] - counts[0] <= 2, counts
