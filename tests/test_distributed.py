"""The Dask backend: blocks on a LocalCluster of 2 workers give what in-process fusion gives, to the bit."""
import os
import subprocess
import sys
import time

import numpy as np
import pytest
import rasterio
from helpers import CancelAfter, save_random_weights
from hyperfuse.core import registry
from hyperfuse.core.classical.run import fuse_classical
from hyperfuse.core.errors import UserInputError
from hyperfuse.core.feedback import Feedback
from hyperfuse.core.inference import distributed, fusion
from hyperfuse.core.inference.fusion import MODEL_WEIGHTS, NetworkFusionSettings, fuse_with_function
from hyperfuse.core.protocol.grids import open_pair
from hyperfuse.core.storage.raster_io import open_raster

dask_distributed = pytest.importorskip("distributed", reason="dask[distributed] is installed by `make test`")

DEEPSEN3 = registry.method("deepsen3")


@pytest.fixture(scope="module")
def cluster():
    """A LocalCluster of 2 single-threaded worker processes, as DASK_SCHEDULER = local:2 starts one. A block is
    retried once when its worker dies (allowed-failures 1, 3 by default), so that the test of a block that kills
    every worker ends after two deaths."""
    import dask

    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        with distributed.connected("local:2") as client:
            yield client


def _pixels(path):
    with rasterio.open(path) as src:
        return src.read(), src.transform, src.crs, src.tags(), [src.tags(b) for b in range(1, src.count + 1)]


def _same_rasters(a, b):
    values_a, transform_a, crs_a, tags_a, band_tags_a = _pixels(a)
    values_b, transform_b, crs_b, tags_b, band_tags_b = _pixels(b)
    assert np.abs(values_a - values_b).max() == 0
    assert (transform_a, crs_a, tags_a, band_tags_a) == (transform_b, crs_b, tags_b, band_tags_b)


def test_a_network_with_a_weights_file_on_two_workers_equals_in_process(small_pair, cluster, tmp_path):
    save_random_weights(str(tmp_path / "w.pt"), 40, 4, 3)
    outputs, results = {}, {}
    for name, scheduler in (("here", None), ("dask", cluster)):
        outputs[name] = str(tmp_path / f"{name}.tif")
        feedback = Feedback()
        results[name] = fusion.fuse_with_network(
            DEEPSEN3, small_pair["lr"], small_pair["ms"], outputs[name], feedback=feedback,
            settings=NetworkFusionSettings(model=MODEL_WEIGHTS, weights_path=str(tmp_path / "w.pt"), block_size=24,
                                           scheduler=scheduler))
        results[name].log = feedback.messages
    assert results["dask"].blocks == results["here"].blocks == 9
    _same_rasters(outputs["here"], outputs["dask"])
    # Both workers computed blocks, and the projection's consistency report sums the workers' blocks.
    assert any("9 block(s) on 2 Dask worker(s)" in line for line in results["dask"].log)
    report = [next(line for line in results[name].log if line.startswith("Consistency")) for name in results]
    assert report[0] == report[1]


class _RecordedProgress(Feedback):
    def __init__(self):
        super().__init__()
        self.fractions = []

    def progress(self, fraction):
        self.fractions.append(fraction)
        super().progress(fraction)


def test_a_classical_method_on_two_workers_equals_in_process(small_pair, cluster, tmp_path):
    outputs = {name: str(tmp_path / f"{name}.tif") for name in ("here", "dask")}
    here = fuse_classical("gsa", small_pair["lr"], small_pair["ms"], outputs["here"], block_size=24)
    feedback = _RecordedProgress()
    there = fuse_classical("gsa", small_pair["lr"], small_pair["ms"], outputs["dask"], block_size=24,
                           scheduler=cluster, feedback=feedback)
    assert here.blocks == there.blocks == 9
    _same_rasters(outputs["here"], outputs["dask"])
    # Progress counts the blocks written, one ninth at a time.
    assert feedback.fractions == pytest.approx([n / 9 for n in range(1, 10)])


def _counting_predict(log_path: str):
    """Bicubic up-sampling that notes the process every time it is unpickled."""
    method = registry.method("bicubic")

    class CountingPredict:
        def __setstate__(self, state):
            self.__dict__.update(state)
            with open(state["log"], "a", encoding="utf-8") as handle:
                handle.write(f"{os.getpid()}\n")

        def __call__(self, lr, lr_valid, hr, hr_valid, ratio):
            return method.predict(lr, lr_valid, hr, hr_valid, ratio)

    counting = CountingPredict()
    counting.log = log_path
    return counting


def test_the_model_is_sent_once_per_worker_not_once_per_block(small_pair, cluster, tmp_path):
    log = str(tmp_path / "unpickled")
    result = _bicubic_run(small_pair, str(tmp_path / "out.tif"), _counting_predict(log), cluster)
    with open(log, encoding="utf-8") as handle:
        in_workers = [pid for pid in handle.read().split() if int(pid) != os.getpid()]
    assert result.blocks == 9
    assert 1 <= len(in_workers) <= 2 and len(set(in_workers)) == len(in_workers)


def _bicubic_run(small_pair, output, predict, scheduler, feedback=None):
    lr, hr, pair = open_pair(small_pair["lr"], small_pair["ms"])
    return fuse_with_function("test", lr, hr, pair, output, predict, lambda ratio: 2 * ratio, block_size=24,
                              scheduler=scheduler, feedback=feedback)


def _killing_predict(marker: str, every_time: bool):
    """Bicubic up-sampling whose worker process dies on its first block (or on every one): the process ends at
    once, as when the system kills it."""
    method = registry.method("bicubic")

    def predict(lr, lr_valid, hr, hr_valid, ratio):
        if every_time or not os.path.exists(marker):
            with open(marker, "w", encoding="utf-8"):
                pass
            os._exit(1)
        return method.predict(lr, lr_valid, hr, hr_valid, ratio)
    return predict


def test_a_killed_worker_makes_the_block_run_again(small_pair, cluster, tmp_path):
    method = registry.method("bicubic")
    expected, output = str(tmp_path / "here.tif"), str(tmp_path / "dask.tif")
    _bicubic_run(small_pair, expected, method.predict, None)
    _bicubic_run(small_pair, output, _killing_predict(str(tmp_path / "killed"), every_time=False), cluster)
    assert os.path.exists(tmp_path / "killed")          # a worker did die
    _same_rasters(expected, output)


def test_a_block_that_kills_every_worker_stops_the_run_and_writes_nothing(small_pair, cluster, tmp_path):
    output = str(tmp_path / "dask.tif")
    with pytest.raises(distributed.WorkerFailure, match=r"died each time they tried it.*nothing was written"):
        _bicubic_run(small_pair, output, _killing_predict(str(tmp_path / "killed"), every_time=True), cluster)
    assert sorted(os.listdir(tmp_path)) == ["killed"]
    # The cluster is still usable afterwards.
    _bicubic_run(small_pair, output, registry.method("bicubic").predict, cluster)
    assert open_raster(output).count == 40


def test_a_cancel_stops_the_cluster_work_and_writes_nothing(small_pair, cluster, tmp_path):
    save_random_weights(str(tmp_path / "w.pt"), 40, 4, 3)
    with pytest.raises(Exception, match="cancelled"):
        fusion.fuse_with_network(DEEPSEN3, small_pair["lr"], small_pair["ms"], str(tmp_path / "fused.tif"),
                                 settings=NetworkFusionSettings(model=MODEL_WEIGHTS, weights_path=str(tmp_path / "w.pt"),
                                                                block_size=24, scheduler=cluster),
                                 feedback=CancelAfter(3))
    assert sorted(os.listdir(tmp_path)) == ["w.pt"]
    # The scheduler forgets the cancelled blocks (a block already running finishes, and its result is dropped).
    deadline = time.monotonic() + 10
    while any(cluster.processing().values()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(cluster.processing().values())


@pytest.mark.parametrize("text, message", [
    ("local:0", "write local:N"), ("local:two", "write local:N"), ("not an address", "neither local:N nor")])
def test_a_bad_scheduler_is_refused_before_any_work(small_pair, tmp_path, text, message):
    with pytest.raises(UserInputError, match=message):
        fuse_classical("gsa", small_pair["lr"], small_pair["ms"], str(tmp_path / "out.tif"), scheduler=text)
    assert os.listdir(tmp_path) == []


def test_an_empty_scheduler_fuses_in_process():
    assert distributed.parse_scheduler("  ") is None
    assert distributed.parse_scheduler("tcp://10.0.0.5:8786") == "tcp://10.0.0.5:8786"
    assert distributed.parse_scheduler("scheduler.example:8786") == "scheduler.example:8786"


def _simulated_pair(folder, seed):
    from hyperfuse.core import synthetic
    from hyperfuse.core.protocol import simulation, srf

    os.makedirs(folder, exist_ok=True)
    scene = os.path.join(folder, "scene.tif")
    synthetic.write_scene(scene, 72, 72, wavelengths_nm=np.linspace(420, 1000, 40), seed=seed)
    lr, ms = os.path.join(folder, "lr.tif"), os.path.join(folder, "ms.tif")
    simulation.simulate(scene, simulation.SimulationSettings(ratio=3, srf=srf.preset("s2a_10m").load()), lr, ms,
                        os.path.join(folder, "ref.tif"))
    return lr, ms


def test_the_batch_entry_point_fuses_three_pairs_on_a_local_cluster_as_single_runs(plugin_parent, tmp_path):
    import subprocess
    import sys

    save_random_weights(str(tmp_path / "w.pt"), 40, 4, 3)
    pairs = [_simulated_pair(str(tmp_path / f"pair{n}"), seed) for n, seed in ((1, 5), (2, 6), (3, 7))]
    methods = ["deepsen3", "deepsen3", "gsa"]
    with open(tmp_path / "pairs.csv", "w", encoding="utf-8") as handle:
        handle.write("lr_hsi,hr_msi,output,method\n")
        for n, ((lr, ms), method_id) in enumerate(zip(pairs, methods), 1):
            # Relative paths are taken from the CSV's folder.
            handle.write(f"{os.path.relpath(lr, tmp_path)},{os.path.relpath(ms, tmp_path)},out{n}.tif,{method_id}\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([plugin_parent, os.environ.get("PYTHONPATH", "")])}
    completed = subprocess.run([sys.executable, "-m", "hyperfuse.batch", str(tmp_path / "pairs.csv"), "--weights",
                                str(tmp_path / "w.pt"), "--block-size", "24", "--scheduler", "local:2"],
                               env=env, cwd=str(tmp_path / "pair1"), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, timeout=300)
    assert completed.returncode == 0, completed.stdout[-3000:]
    assert completed.stdout.count("9 block(s)") == 3
    for n, ((lr, ms), method_id) in enumerate(zip(pairs, methods), 1):
        single = str(tmp_path / f"single{n}.tif")
        if method_id == "gsa":
            fuse_classical("gsa", lr, ms, single, block_size=24)
        else:
            fusion.fuse_with_network(DEEPSEN3, lr, ms, single, settings=NetworkFusionSettings(
                model=MODEL_WEIGHTS, weights_path=str(tmp_path / "w.pt"), block_size=24))
        _same_rasters(single, str(tmp_path / f"out{n}.tif"))


def test_the_batch_entry_point_reports_a_failed_pair_and_goes_on(plugin_parent, small_pair, tmp_path):
    import subprocess
    import sys

    with open(tmp_path / "pairs.csv", "w", encoding="utf-8") as handle:
        handle.write("lr_hsi,hr_msi,output,method\n")
        handle.write(f"{small_pair['lr']},{tmp_path / 'missing.tif'},bad.tif,gsa\n")
        handle.write(f"{small_pair['lr']},{small_pair['ms']},good.tif,bicubic\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([plugin_parent, os.environ.get("PYTHONPATH", "")])}
    completed = subprocess.run([sys.executable, "-m", "hyperfuse.batch", str(tmp_path / "pairs.csv")], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
    assert completed.returncode == 1
    assert "bad.tif: failed, nothing written. The raster" in completed.stdout
    assert sorted(name for name in os.listdir(tmp_path) if name.endswith(".tif")) == ["good.tif"]


@pytest.mark.parametrize("projection", ["0", "1"])      # both observations (the default), none
def test_dask_scheduler_local_2_through_qgis_process_equals_in_process(qgis_process, small_pair, tmp_path,
                                                                        projection):
    """QGIS's program links OpenBLAS, which torch's matrix products then use: the workers load it too. Without the
    projection the windows are small enough for torch to compute through BLAS, and before the workers loaded
    QGIS's BLAS the two runs differed by up to 4.2e-7."""
    save_random_weights(str(tmp_path / "w.pt"), 40, 4, 3)
    outputs = {name: str(tmp_path / f"{name}.tif") for name in ("here", "dask")}
    logs = {}
    for name, scheduler in (("here", ""), ("dask", "local:2")):
        logs[name] = qgis_process("run", "hyperfuse:fuse_deepsen3", "--", f"LR_HSI={small_pair['lr']}",
                                  f"HR_MSI={small_pair['ms']}", "MODEL=1", f"WEIGHTS={tmp_path / 'w.pt'}",
                                  "BLOCK_SIZE=24", f"DASK_SCHEDULER={scheduler}", f"PROJECTION={projection}",
                                  f"OUTPUT={outputs[name]}").stdout
    # The worker processes ran outside QGIS's own executable, and computed every block.
    assert "9 block(s) on 2 Dask worker(s)" in logs["dask"]
    _same_rasters(outputs["here"], outputs["dask"])


def test_the_program_blas_is_found_only_where_the_program_loaded_one():
    """In plain Python torch keeps its own BLAS; with OpenBLAS loaded before Python (as QGIS's programs link it)
    its path is what workers must load."""
    code = ("import sys, torch; sys.path.insert(0, sys.argv[1]); "
            "from hyperfuse.core.inference.distributed import program_blas; print(program_blas())")
    package = os.path.dirname(os.path.dirname(os.path.dirname(distributed.__file__)))     # …/hyperfuse
    plugins = os.path.dirname(package)
    plain = subprocess.run([sys.executable, "-c", code, plugins], capture_output=True, text=True, check=True)
    assert plain.stdout.strip() == "None"
    openblas = "/lib/x86_64-linux-gnu/libblas.so.3"
    if not os.path.exists(openblas):
        pytest.skip(f"{openblas} (Debian's BLAS, which QGIS links) is not installed here")
    preloaded = subprocess.run([sys.executable, "-c", code, plugins], capture_output=True, text=True, check=True,
                               env={**os.environ, "LD_PRELOAD": openblas})
    assert preloaded.stdout.strip() == os.path.realpath(openblas)


def test_without_dask_the_parameter_says_how_to_install_it(monkeypatch, small_pair, tmp_path):
    import sys

    monkeypatch.setitem(sys.modules, "distributed", None)         # import distributed now raises ImportError
    with pytest.raises(UserInputError, match=r'(?s)DASK_SCHEDULER needs .*pip" install "dask\[distributed\]"'):
        fuse_classical("gsa", small_pair["lr"], small_pair["ms"], str(tmp_path / "out.tif"), scheduler="local:2")
    assert os.listdir(tmp_path) == []


def test_a_scheduler_address_runs_on_that_cluster(small_pair, cluster, tmp_path):
    outputs = {name: str(tmp_path / f"{name}.tif") for name in ("here", "dask")}
    fuse_classical("glp", small_pair["lr"], small_pair["ms"], outputs["here"], block_size=24)
    feedback = Feedback()
    fuse_classical("glp", small_pair["lr"], small_pair["ms"], outputs["dask"], block_size=24, feedback=feedback,
                   scheduler=cluster.scheduler.address)
    assert f"Dask scheduler {cluster.scheduler.address}: 2 worker(s)." in feedback.messages
    _same_rasters(outputs["here"], outputs["dask"])


def test_a_scheduler_without_workers_or_not_there_is_refused_before_any_work(small_pair, tmp_path, monkeypatch):
    monkeypatch.setattr(distributed, "CONNECT_TIMEOUT", "3s")
    with dask_distributed.LocalCluster(n_workers=0, processes=False, dashboard_address=":0") as empty:
        with pytest.raises(UserInputError, match="has no workers. Start some"):
            fuse_classical("gsa", small_pair["lr"], small_pair["ms"], str(tmp_path / "out.tif"),
                           scheduler=empty.scheduler_address, feedback=CancelAfter(0))
        address = empty.scheduler_address
    with pytest.raises(UserInputError, match="Cannot reach the Dask scheduler at"):
        fuse_classical("gsa", small_pair["lr"], small_pair["ms"], str(tmp_path / "out.tif"), scheduler=address,
                       feedback=CancelAfter(0))
    assert os.listdir(tmp_path) == []
