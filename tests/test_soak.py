"""Fifty consecutive fusions in one QGIS process: memory must not creep (nothing leaks per run)."""
import gc
import os

import pytest
from helpers import save_random_weights
from hyperfuse.core.storage.raster_io import open_raster

RUNS = 50
WARM_UP = 5


def resident_bytes() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.skipif(not os.path.exists("/proc/self/statm"), reason="reads RSS from /proc (Linux)")
def test_fifty_fusions_in_one_process_do_not_grow_memory(qgis_app, small_pair, tmp_path):
    import processing

    weights = str(tmp_path / "deepsen3.pt")
    save_random_weights(weights, open_raster(small_pair["lr"]).count, open_raster(small_pair["ms"]).count, 3)
    runs = [("hyperfuse:fuse_deepsen3", {"MODEL": 1, "WEIGHTS": weights}), ("hyperfuse:fuse_gsa", {})]
    resident = []
    for index in range(RUNS):
        algorithm, extra = runs[index % len(runs)]
        output = str(tmp_path / f"fused{index % 3}.tif")  # outputs are replaced, as in a user's session
        processing.run(algorithm, {"LR_HSI": small_pair["lr"], "HR_MSI": small_pair["ms"], "OUTPUT": output,
                                   **extra})
        gc.collect()
        resident.append(resident_bytes())
    growth = resident[-1] / resident[WARM_UP - 1] - 1.0
    print(f"RSS after run {WARM_UP}: {resident[WARM_UP - 1] / 2**20:.1f} MiB, after run {RUNS}: "
          f"{resident[-1] / 2**20:.1f} MiB ({100 * growth:+.2f} %)")
    assert growth < 0.10
