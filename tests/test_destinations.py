"""No algorithm may overwrite one of its inputs, or one output with another (core/storage/files.py check_destinations)."""
import hashlib
import os
import shutil
import time

import pytest
import rasterio
from helpers import PROVIDER_ALGORITHMS
from hyperfuse.core.errors import UserInputError
from hyperfuse.core.storage.files import check_destinations, remove_stale_temporaries, temporary_path


@pytest.fixture(scope="module")
def processing(qgis_app):
    import processing as qgis_processing

    return qgis_processing


@pytest.fixture
def files(small_pair, tmp_path):
    """Copies of the pair, a weights file and an SRF CSV in a folder of their own, with a sibling folder."""
    folder = tmp_path / "data"
    folder.mkdir()
    (tmp_path / "elsewhere").mkdir()
    paths = {}
    for key in ("lr", "ms", "ref"):
        paths[key] = str(folder / f"{key}.tif")
        shutil.copy(small_pair[key], paths[key])
    paths["weights"] = str(folder / "model.pt")
    with open(paths["weights"], "wb") as handle:
        handle.write(b"not read: the run is refused before any input is opened")
    paths["srf"] = str(folder / "srf.csv")
    with open(paths["srf"], "w") as handle:
        handle.write("wavelength_nm,B2,B3,B4,B8\n")
    return paths


def _digest(path):
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def _through_symlink(path, tmp_path):
    link = str(tmp_path / ("link-" + os.path.basename(path)))
    os.symlink(path, link)
    return link


def _through_dotdot(path):
    folder, name = os.path.split(path)
    return os.path.join(folder, "..", "elsewhere", "..", os.path.basename(folder), name)


def _temporary_outputs(algorithm_id):
    """Every destination set to a temporary file, as the dialog does when left untouched."""
    from qgis.core import QgsApplication

    algorithm = QgsApplication.processingRegistry().algorithmById(algorithm_id)
    return {d.name(): "TEMPORARY_OUTPUT" for d in algorithm.destinationParameterDefinitions()}


def _fusion_parameters(files):
    return {"LR_HSI": files["lr"], "HR_MSI": files["ms"]}


# For every algorithm: its parameters, the output parameter aimed at an input, and that input.
CASES = {
    "hyperfuse:simulate_degradation": (lambda f: {"INPUT": f["ref"], "RATIO": 3}, "OUTPUT_LR_HSI", "ref"),
    "hyperfuse:quality_assessment": (lambda f: {"REFERENCE": f["ref"], "FUSED": [f["lr"]]}, "OUTPUT_JSON", "lr"),
    "hyperfuse:estimate_responses": (_fusion_parameters, "OUTPUT_JSON", "lr"),
    "hyperfuse:train_model": (lambda f: {**_fusion_parameters(f), "INIT_WEIGHTS": f["weights"]},
                              "OUTPUT_WEIGHTS", "weights"),
    "hyperfuse:fuse_gsa": (lambda f: {**_fusion_parameters(f), "SRF_FILE": f["srf"]}, "OUTPUT", "srf"),
    "hyperfuse:fuse_mhfnet": (lambda f: {**_fusion_parameters(f), "MODEL": 1, "WEIGHTS": f["weights"]},
                              "OUTPUT_WEIGHTS", "weights"),
    "hyperfuse:compare_fusion_methods": (lambda f: {"REFERENCE": f["ref"], "RATIO": 3}, "assess:REPORT", "ref"),
}
for _algorithm in PROVIDER_ALGORITHMS:
    CASES.setdefault(_algorithm, (_fusion_parameters, "OUTPUT", "hr" if "ssjcn" in _algorithm else "lr"))


@pytest.mark.parametrize("route", ["symlink", "dotdot"])
@pytest.mark.parametrize("algorithm", PROVIDER_ALGORITHMS)
def test_every_algorithm_refuses_to_overwrite_its_input(processing, files, tmp_path, algorithm, route):
    from qgis.core import QgsProcessingException

    make_parameters, output_name, input_key = CASES[algorithm]
    files = {**files, "hr": files["ms"]}
    target = files[input_key]
    before = _digest(target)
    aimed = _through_symlink(target, tmp_path) if route == "symlink" else _through_dotdot(target)
    parameters = {**_temporary_outputs(algorithm), **make_parameters(files), output_name: aimed}
    with pytest.raises(QgsProcessingException, match="is the same file as the input"):
        processing.run(algorithm, parameters)
    assert _digest(target) == before
    assert sorted(os.listdir(os.path.dirname(target))) == sorted(os.listdir(os.path.dirname(files["lr"])))


def test_two_outputs_on_one_file_are_refused(processing, files, tmp_path):
    from qgis.core import QgsProcessingException

    same = str(tmp_path / "fused.tif")
    with pytest.raises(QgsProcessingException, match="OUTPUT and OUTPUT_WEIGHTS are the same file"):
        processing.run("hyperfuse:fuse_deepsen3", {**_fusion_parameters(files), "MODEL": 2, "OUTPUT": same,
                                                    "OUTPUT_WEIGHTS": _through_dotdot(same)})
    assert not os.path.exists(same)


@pytest.mark.parametrize("algorithm, output, name, expected", [
    ("hyperfuse:fuse_gsa", "OUTPUT", "fused.png", "ends in '.png', but this output is written as .tif or .tiff"),
    ("hyperfuse:fuse_bicubic", "OUTPUT", "fused.nc", "ends in '.nc'"),
    ("hyperfuse:estimate_responses", "OUTPUT_JSON", "estimate.txt", "Give a file name ending in .json"),
])
def test_an_output_named_for_another_format_is_refused(processing, files, tmp_path, algorithm, output, name,
                                                       expected):
    from qgis.core import QgsProcessingException

    path = str(tmp_path / name)
    with pytest.raises(QgsProcessingException, match=expected.replace(".", r"\.").replace("(", r"\(")):
        processing.run(algorithm, {**_fusion_parameters(files), output: path})
    assert not os.path.exists(path)


def test_a_tiff_extension_is_accepted(processing, files, tmp_path):
    path = str(tmp_path / "fused.TIFF")
    processing.run("hyperfuse:fuse_bicubic", {**_fusion_parameters(files), "OUTPUT": path})
    assert os.path.getsize(path) > 0


def test_hard_link_to_an_input_is_refused(files, tmp_path):
    link = str(tmp_path / "hard.tif")
    os.link(files["lr"], link)
    with pytest.raises(UserInputError, match="OUTPUT .* is the same file as the input LR_HSI"):
        check_destinations({"LR_HSI": files["lr"]}, {"OUTPUT": (link, (".tif",))})


def test_stale_temporaries_are_removed_and_fresh_ones_kept(tmp_path):
    stale = temporary_path(str(tmp_path / "fused.tif"))
    fresh = temporary_path(str(tmp_path / "other.tif"))
    unrelated = str(tmp_path / ".notes.partial-draft.txt")
    for path in (stale, fresh, unrelated):
        open(path, "w").close()
    two_days_ago = time.time() - 2 * 24 * 3600
    for path in (stale, unrelated):
        os.utime(path, (two_days_ago, two_days_ago))
    # `fresh` belongs to a run of this process that is still writing: never touched.
    os.utime(fresh, (two_days_ago, two_days_ago))
    from hyperfuse.core.storage import files as files_module

    files_module._LIVE_TEMPORARIES.discard(stale)
    assert remove_stale_temporaries(str(tmp_path)) == [stale]
    assert not os.path.exists(stale) and os.path.exists(fresh) and os.path.exists(unrelated)
    files_module.discard_temporary(fresh)


def test_a_run_cleans_stale_temporaries_next_to_its_output(processing, files, tmp_path):
    output = str(tmp_path / "fused.tif")
    leftover = str(tmp_path / ".fused.tif.partial-0123abcd.tif")
    open(leftover, "w").close()
    os.utime(leftover, (time.time() - 3 * 24 * 3600,) * 2)
    processing.run("hyperfuse:fuse_bicubic", {**_fusion_parameters(files), "OUTPUT": output})
    assert os.path.exists(output) and not os.path.exists(leftover)


@pytest.mark.parametrize("algorithm", ["hyperfuse:fuse_gsa", "hyperfuse:fuse_deepsen3"])
def test_a_block_size_beyond_the_integer_range_is_refused(processing, files, tmp_path, algorithm):
    """Processing reads 3e9 as 0, which used to run silently in one-LR-pixel blocks."""
    from qgis.core import QgsProcessingException

    out = str(tmp_path / "fused.tif")
    with pytest.raises(QgsProcessingException, match="BLOCK_SIZE"):
        processing.run(algorithm, {**_fusion_parameters(files), "BLOCK_SIZE": 3_000_000_000, "OUTPUT": out})
    assert not os.path.exists(out)


def test_the_core_refuses_a_negative_block_size_and_sizes_blocks_itself_at_zero(small_pair, tmp_path):
    from hyperfuse.core.classical.run import fuse_classical
    from hyperfuse.core.feedback import Feedback

    with pytest.raises(UserInputError, match="BLOCK_SIZE is -1; it must be 0 .* or lie between 16 and 16384"):
        fuse_classical("gsa", small_pair["lr"], small_pair["ms"], str(tmp_path / "o.tif"), block_size=-1)
    assert not os.path.exists(tmp_path / "o.tif")
    feedback = Feedback()
    fuse_classical("gsa", small_pair["lr"], small_pair["ms"], str(tmp_path / "o.tif"), block_size=0,
                   feedback=feedback)
    chosen = [m for m in feedback.messages if "chosen from the available memory" in m]
    assert len(chosen) == 1 and chosen[0].startswith("Blocks of ")
    with rasterio.open(tmp_path / "o.tif") as dataset:
        assert dataset.count > 0 and dataset.read(1).size > 0
