"""A weights file is validated before use: every hostile file gets one line naming the field or tensor."""
from __future__ import annotations

import copy
import os
import pickle
import re

import numpy as np
import pytest
import torch
from hyperfuse.core import registry
from hyperfuse.core.errors import UserInputError
from hyperfuse.core.inference import bundled, fusion, weights
from hyperfuse.core.inference.fusion import MODEL_WEIGHTS, NetworkFusionSettings
from hyperfuse.core.protocol import simulation, srf
from hyperfuse.core.training.trainer import TrainingConfig
from hyperfuse.core.training import runs as training_run
from hyperfuse.nets.blocks import FusionModel

DEEPSEN3 = registry.method("deepsen3")
TINY = {"width": 8, "modules": 1}
HS, MS, RATIO = 20, 4, 3
WAVELENGTHS = [float(w) for w in np.linspace(420, 1000, HS)]


def _content(hs=HS, ms=MS, ratio=RATIO):
    """The dict a HyperFuse weights file holds: a tiny DeepSen3 and its card."""
    torch.manual_seed(0)
    model = FusionModel(DEEPSEN3.build(hs, ms, ratio, **TINY), hs, ms)
    wavelengths = [float(w) for w in np.linspace(420, 1000, hs)]
    card = weights.make_card("deepsen3", {**DEEPSEN3.hyperparameters, **TINY}, hs, wavelengths, ms, "test",
                             ratio, training={"mode": "test", "data": ["scene.tif"]}, validation={}, seed=0)
    return {"format": weights.FORMAT, "card": card, "state_dict": model.state_dict()}


@pytest.fixture(scope="module")
def good():
    return _content()


def _write(tmp_path, content, name="w.pt"):
    path = str(tmp_path / name)
    torch.save(content, path)
    return path


def _refused(path) -> str:
    """The message of the UserInputError that loading ``path`` raises; it must be one line naming the file."""
    with pytest.raises(UserInputError) as info:
        weights.load_weights(path)
    message = str(info.value)
    assert "\n" not in message and path in message
    return message


def _edited(good, edit):
    content = copy.deepcopy(good)
    edit(content)
    return content


def test_a_good_file_loads_and_builds(good, tmp_path):
    path = _write(tmp_path, good)
    state, card = weights.load_weights(path)
    assert card["hs_bands"] == HS and set(state) == set(good["state_dict"])
    model, _ = weights.build_model(DEEPSEN3, path, HS, MS, RATIO, WAVELENGTHS)
    assert all(torch.equal(model.state_dict()[k], v) for k, v in state.items())


def test_nan_weights_are_refused_naming_the_tensor_and_no_output_is_written(small_pair, tmp_path):
    content = _content(hs=40)
    content["state_dict"]["net.head.0.weight"][0, 0, 0, 0] = float("nan")
    path = _write(tmp_path, content, "nan.pt")
    out = str(tmp_path / "fused.tif")
    with pytest.raises(UserInputError, match=r"tensor 'net\.head\.0\.weight' holds 1 NaN or infinite value") as info:
        fusion.fuse_with_network(DEEPSEN3, small_pair["lr"], small_pair["ms"], out,
                                 settings=NetworkFusionSettings(model=MODEL_WEIGHTS, weights_path=path))
    assert "\n" not in str(info.value) and "Re-export it with train_model" in str(info.value)
    assert not os.path.exists(out)


def test_nan_weights_are_refused_for_fine_tuning(small_pair, tmp_path):
    content = _content(hs=40)
    content["state_dict"]["hs_mean"][3] = float("inf")
    path = _write(tmp_path, content, "inf.pt")
    data = training_run.data_from_reference(small_pair["scene"],
                                            simulation.SimulationSettings(ratio=3, srf=srf.preset("s2a_10m").load()))
    out = str(tmp_path / "tuned.pt")
    with pytest.raises(UserInputError, match="tensor 'hs_mean' holds 1 NaN or infinite value"):
        training_run.run_training(DEEPSEN3, data, TrainingConfig.for_method(DEEPSEN3, steps=1), out,
                                  initial_weights=path)
    assert not os.path.exists(out)


def test_a_damaged_bundled_file_is_never_chosen(good, tmp_path):
    """Damaged after `make weights` indexed it: reported by its SHA-256. Damaged before: never indexed."""
    from bundled_index import write_index

    damaged = _edited(good, lambda c: c["state_dict"]["net.head.0.bias"].fill_(float("nan")))
    _write(tmp_path, good, "deepsen3_test.pt")
    write_index(str(tmp_path))
    assert bundled.find_bundled_model(DEEPSEN3, HS, MS, RATIO, WAVELENGTHS, folder=str(tmp_path))
    _write(tmp_path, damaged, "deepsen3_test.pt")
    with pytest.raises(weights.InvalidWeightsFile, match=r"deepsen3_test\.pt.*SHA-256 does not match"):
        bundled.find_bundled_model(DEEPSEN3, HS, MS, RATIO, WAVELENGTHS, folder=str(tmp_path))
    with pytest.raises(weights.InvalidWeightsFile, match="tensor 'net.head.0.bias'"):
        write_index(str(tmp_path))


@pytest.mark.parametrize("edit,expected", [
    (lambda c: c.__setitem__("card", ["deepsen3"]), r"its 'card' is list .*expected a dict"),
    (lambda c: c.__setitem__("state_dict", None), r"its 'state_dict' is missing, expected a dict"),
    (lambda c: c["card"].pop("method"), r"its card has no field 'method'"),
    (lambda c: c["card"].__setitem__("hyperparameters", [8, 1]), r"card field 'hyperparameters' is list"),
    (lambda c: c["card"].__setitem__("method", "unet"), r"card field 'method' is 'unet', not one of mlpln"),
    (lambda c: c["card"].__setitem__("training", {"data": "scene.tif"}), r"card field 'training.data' is str"),
], ids=["card-not-dict", "no-state-dict", "no-method", "hyperparameters-list", "unknown-method", "training-data"])
def test_wrong_card_structure_is_named(good, tmp_path, edit, expected):
    message = _refused(_write(tmp_path, _edited(good, edit)))
    assert "is not valid" in message and "Re-export it with train_model" in message
    assert re.search(expected, message), message


@pytest.mark.parametrize("field,value,expected", [
    ("hs_bands", "20", "card field 'hs_bands' is str ('20'), expected an integer"),
    ("hs_bands", 20.0, "card field 'hs_bands' is float (20.0), expected an integer"),
    ("ratio", True, "card field 'ratio' is bool (True), expected an integer"),
    ("ms_description", 5, "card field 'ms_description' is int (5), expected text"),
    ("hs_wavelengths_nm", "420-1000", "card field 'hs_wavelengths_nm' is str"),
    ("ratio", 1, "card field 'ratio' is 1, expected an integer from 2 to 1000"),
])
def test_wrong_field_types_are_named(good, tmp_path, field, value, expected):
    message = _refused(_write(tmp_path, _edited(good, lambda c: c["card"].__setitem__(field, value))))
    assert expected in message, message


def test_card_listing_3_of_20_wavelengths_is_refused(good, tmp_path):
    content = _edited(good, lambda c: c["card"].__setitem__("hs_wavelengths_nm", WAVELENGTHS[:3]))
    message = _refused(_write(tmp_path, content))
    assert "card field 'hs_wavelengths_nm' lists 3 wavelengths for hs_bands = 20" in message


def test_nan_wavelength_in_the_card_is_named(good, tmp_path):
    content = _edited(good, lambda c: c["card"].__setitem__("ms_wavelengths_nm", [490.0, float("nan"), 665.0, 842.0]))
    message = _refused(_write(tmp_path, content))
    assert "card field 'ms_wavelengths_nm' entry 2 is float (nan), expected a positive wavelength" in message


def test_unknown_hyperparameter_is_named(good, tmp_path):
    content = _edited(good, lambda c: c["card"]["hyperparameters"].__setitem__("depth", 4))
    message = _refused(_write(tmp_path, content))
    assert ("has the key 'depth', which DeepSen3 does not take (it takes width, modules, slope, "
            "learnable_slope)") in message


def test_hyperparameter_of_the_wrong_type_or_size_is_named(good, tmp_path):
    content = _edited(good, lambda c: c["card"]["hyperparameters"].__setitem__("width", "8"))
    assert "hyper-parameter 'width' is str ('8')" in _refused(_write(tmp_path, content, "a.pt"))
    content = _edited(good, lambda c: c["card"]["hyperparameters"].__setitem__("modules", 10 ** 9))
    assert "hyper-parameter 'modules' is int (1000000000), expected a number of at most 1024" in \
        _refused(_write(tmp_path, content, "b.pt"))


def test_hyperparameter_the_network_refuses_is_named(tmp_path):
    content = _content()
    content["card"]["method"] = "ssjcn"
    content["card"]["hyperparameters"] = {"iterations": 0, "width": 8}
    assert "SSJCN cannot be built from its card's hyper-parameters (SSJCN needs at least one correction" in \
        _refused(_write(tmp_path, content))


def test_missing_unexpected_and_wrong_shaped_tensors_are_named(good, tmp_path):
    content = _edited(good, lambda c: c["state_dict"].pop("net.head.0.bias"))
    assert "missing tensor(s) 'net.head.0.bias'" in _refused(_write(tmp_path, content, "a.pt"))
    content = _edited(good, lambda c: c["state_dict"].__setitem__("net.extra", torch.zeros(3)))
    assert "unexpected tensor(s) 'net.extra'" in _refused(_write(tmp_path, content, "b.pt"))
    content = _edited(good, lambda c: c["state_dict"].__setitem__("hs_mean", torch.zeros(21)))
    assert "tensor 'hs_mean' has shape (21,), the network expects (20,)" in _refused(_write(tmp_path, content, "c.pt"))
    content = _edited(good, lambda c: c["state_dict"].__setitem__("net.head.0.bias", torch.zeros(8, dtype=torch.bool)))
    assert "tensor 'net.head.0.bias' has dtype torch.bool" in _refused(_write(tmp_path, content, "d.pt"))
    content = _edited(good, lambda c: c["state_dict"].__setitem__("hs_std", torch.zeros(20)))
    assert "tensor 'hs_std' holds a value ≤ 0" in _refused(_write(tmp_path, content, "e.pt"))
    content = _edited(good, lambda c: c["state_dict"].__setitem__("hs_std", [1.0] * 20))
    assert "state_dict entry 'hs_std' is list, expected a tensor" in _refused(_write(tmp_path, content, "f.pt"))


def test_card_for_a_larger_network_than_the_file_holds_is_refused(good, tmp_path):
    content = _edited(good, lambda c: c["card"].__setitem__("hs_bands", 10 ** 8))
    content["card"]["hs_wavelengths_nm"] = None
    assert "tensor 'hs_mean' has shape (20,), the network expects (100000000,)" in _refused(_write(tmp_path, content))


@pytest.mark.parametrize("data,expected", [
    (os.urandom(4096), "is not a HyperFuse weights file (not a zip archive written by torch.save)"),
    (b"", "is not a HyperFuse weights file (the file is empty)"),
    (b"hello, I am a text file\n", "is not a HyperFuse weights file (not a zip archive"),
    (pickle.dumps({"format": weights.FORMAT}), "is not a HyperFuse weights file (a bare pickle"),
], ids=["random-bytes", "empty", "text", "bare-pickle"])
def test_files_that_are_not_weights_files_say_so(tmp_path, data, expected):
    path = str(tmp_path / "w.pt")
    open(path, "wb").write(data)
    message = _refused(path)
    assert expected in message and "could run code" not in message


def test_other_torch_files_are_not_weights_files(tmp_path):
    path = _write(tmp_path, {"weight": torch.zeros(3)})
    assert "is not a HyperFuse weights file (format None, expected 'hyperfuse-weights/1')" in _refused(path)


@pytest.mark.parametrize("keep", [0.5, 0.1, 0.99])
def test_truncated_file_is_truncated_or_corrupt(good, tmp_path, keep):
    path = _write(tmp_path, good)
    data = open(path, "rb").read()
    open(path, "wb").write(data[: int(len(data) * keep)])
    message = _refused(path)
    assert "is truncated or corrupt" in message and "could run code" not in message


def test_flipped_byte_is_caught_by_the_checksum(good, tmp_path):
    path = _write(tmp_path, good)
    data = bytearray(open(path, "rb").read())
    offset = data.index(good["state_dict"]["net.head.0.weight"].numpy().tobytes())
    data[offset + 1] ^= 0x01                      # a small change: the value stays finite
    open(path, "wb").write(bytes(data))
    assert torch.load(path, weights_only=True)    # torch.load alone does not notice
    assert "fails its checksum" in _refused(path)


def test_every_bundled_file_passes_validation():
    for path in sorted(os.listdir(bundled.BUNDLED_DIR)):
        if path.endswith(".pt"):
            weights.load_weights(os.path.join(bundled.BUNDLED_DIR, path))


def test_a_zip_archive_that_torch_did_not_write_is_not_a_weights_file(tmp_path):
    import zipfile

    path = str(tmp_path / "w.pt")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("archive/data.pkl", b"\0" * 100000)
    assert "is not a HyperFuse weights file (a zip archive with compressed members" in _refused(path)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    assert "is not a HyperFuse weights file (a zip archive without PyTorch's data.pkl)" in _refused(path)


def test_a_broken_file_is_told_apart_from_one_that_does_not_fit(good, tmp_path):
    """find_bundled_model can skip weights for other inputs yet report a damaged bundled file."""
    path = _write(tmp_path, good)
    _, card = weights.load_weights(path)
    with pytest.raises(UserInputError) as misfit:
        weights.check_card(card, "deepsen3", HS + 1, MS, RATIO)
    assert not isinstance(misfit.value, weights.InvalidWeightsFile)
    open(path, "wb").write(b"junk")
    with pytest.raises(weights.InvalidWeightsFile):
        weights.load_weights(path)


def test_a_card_without_a_newer_setting_builds_the_network_it_was_trained_with():
    # DeepSen3 cards from before the learnable slope have no learnable_slope key: fixed Leaky ReLU.
    old = DEEPSEN3.build(5, 2, 2, **DEEPSEN3.card_hyperparameters({"width": 8, "modules": 1}))
    new = DEEPSEN3.build(5, 2, 2, **DEEPSEN3.card_hyperparameters({"width": 8, "modules": 1, "learnable_slope": 1}))
    assert not any(isinstance(m, torch.nn.PReLU) for m in old.modules())
    prelus = [m for m in new.modules() if isinstance(m, torch.nn.PReLU)]
    assert prelus and all(torch.allclose(m.weight, torch.tensor(0.2)) for m in prelus)   # starts at the old slope
    assert DEEPSEN3.hyperparameters["learnable_slope"] == 1                                # new networks learn it


def test_checking_a_card_builds_every_network_on_meta_without_more_of_torch():
    """The check of a weights file builds the network its card describes on the meta device. A factory such as
    torch.eye or torch.arange there runs through torch's Python decompositions, whose first use imported some 800
    modules, a second of every run's start; every network's construction must stay clear of them."""
    import subprocess
    import sys

    plugin_parent = os.path.dirname(os.path.dirname(os.path.dirname(registry.__file__)))
    script = ("import sys, torch\n"
              "from hyperfuse.core.registry import METHODS\n"
              "with torch.device('meta'):\n"
              "    torch.empty(1)\n"
              "before = set(sys.modules)\n"
              "for method in METHODS.values():\n"
              "    with torch.device('meta'):\n"
              "        method.build(218, 4, 3)\n"
              "print(sorted(name for name in set(sys.modules) - before if name.startswith('torch')))\n")
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                               env={**os.environ, "PYTHONPATH": plugin_parent})
    assert completed.stdout.strip() == "[]", completed.stdout[:500]
