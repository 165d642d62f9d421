"""One registry of fusion methods (core/registry.py), one setting type, one conversion of settings to
Processing parameters (algorithms/base.py), and a public parameter interface that does not move."""
import json
import os
import re
import subprocess
import sys

import pytest
from hyperfuse.core import registry
from hyperfuse.core.registry import Setting

# Every algorithm's parameters and outputs as qgis_process help shows them, less the wording: recorded
# when the method registries were merged. A change to this file is a change of the
# public interface.
EXPECTED_INTERFACE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "algorithm_parameters.json")

NETWORK_IDS = ["mlpln", "ssjcn", "mhfnet", "msssfnet", "deepsen3"]
CLASSICAL_IDS = ["bicubic", "gsa", "glp", "cnmf", "hysure"]


def test_one_registry_lists_networks_and_classical_methods():
    assert list(registry.FUSION_METHODS) == NETWORK_IDS + CLASSICAL_IDS
    assert list(registry.METHODS) == NETWORK_IDS  # train_model's METHOD enum order
    assert list(registry.CLASSICAL_METHODS) == CLASSICAL_IDS
    for method_id, method in registry.FUSION_METHODS.items():
        assert isinstance(method, registry.FusionMethod)
        assert method.kind == ("network" if method_id in NETWORK_IDS else "classical")
        assert registry.method(method_id) is method
    with pytest.raises(KeyError, match="unknown method 'nope'"):
        registry.method("nope")


def test_every_method_setting_is_one_setting_type():
    from hyperfuse.core import classical

    for method in registry.FUSION_METHODS.values():
        assert isinstance(method.parameters, tuple)
        assert all(type(setting) is Setting for setting in method.parameters), method.id
    # No second setting type or registry is left behind.
    assert not hasattr(registry, "HyperParameter")
    assert not hasattr(classical, "Option") and not hasattr(classical, "METHODS")


@pytest.mark.parametrize("method_id", NETWORK_IDS + CLASSICAL_IDS)
def test_settings_are_well_formed(method_id):
    method = registry.method(method_id)
    keys = [s.key for s in method.parameters]
    assert len(set(keys)) == len(keys)
    for setting in method.parameters:
        assert re.fullmatch(r"[A-Z][A-Z_]*", setting.name) and setting.label
        assert setting.kind in ("int", "float", "enum")
        if setting.kind == "enum":
            assert setting.default in setting.choices and len(setting.labels) == len(setting.choices)
        else:
            assert setting.minimum is not None and setting.minimum <= setting.default
            assert setting.maximum is None or setting.default <= setting.maximum
    assert method.defaults == {s.key: s.default for s in method.parameters}


def test_glp_lowpass_choices_are_the_modules():
    from hyperfuse.core.classical import glp

    (lowpass,) = [s for s in registry.method("glp").parameters if s.name == "LOWPASS"]
    assert lowpass.choices == glp.LOWPASS


def test_registry_imports_no_method_module(plugin_parent):
    """Networks and classical modules are imported when first used, not by the registry."""
    code = ("import sys; import hyperfuse.core.registry as r\n"
            "def loaded(): return [m for m in sys.modules if m == 'torch' or m.startswith(('hyperfuse.nets', "
            "'hyperfuse.core.classical'))]\n"
            "print(loaded()); print(r.method('cnmf').max_pixels > 0, 'hyperfuse.core.classical.cnmf' in loaded())")
    completed = subprocess.run([sys.executable, "-c", code], cwd=plugin_parent, capture_output=True, text=True,
                               env={**os.environ, "PYTHONPATH": plugin_parent})
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split("\n")[:2] == ["[]", "True True"]


def _fusion_and_training_algorithm_ids():
    return [f"hyperfuse:fuse_{m}" for m in registry.FUSION_METHODS] + ["hyperfuse:train_model"]


def test_every_method_parameter_comes_from_setting_parameter(qgis_app, monkeypatch):
    """Each algorithm's method settings are declared by algorithms.base.setting_parameter, and by nothing else."""
    from hyperfuse.algorithms import base
    from qgis.core import QgsApplication

    made = []

    def spy(setting):
        parameter = convert(setting)
        made.append((setting, parameter))
        return parameter

    convert = base.setting_parameter
    monkeypatch.setattr(base, "setting_parameter", spy)
    processing_registry = QgsApplication.processingRegistry()
    for algorithm_id in _fusion_and_training_algorithm_ids():
        made.clear()
        algorithm = processing_registry.algorithmById(algorithm_id).create()  # runs initAlgorithm
        if algorithm_id == "hyperfuse:train_model":
            expected = [s for m in registry.METHODS.values() for s in m.parameters]
        else:
            expected = list(registry.method(algorithm_id.split("_", 1)[1]).parameters)
        assert [setting for setting, _ in made] == expected, algorithm_id
        for setting, parameter in made:
            declared = algorithm.parameterDefinition(setting.name)
            assert declared.toVariantMap() == parameter.toVariantMap(), (algorithm_id, setting.name)
            assert declared.flags() & declared.FlagAdvanced


def test_read_settings_returns_the_method_keywords(qgis_app):
    from hyperfuse.algorithms.base import read_settings
    from qgis.core import QgsApplication, QgsProcessingContext

    algorithm = QgsApplication.processingRegistry().algorithmById("hyperfuse:fuse_glp").create()
    method = registry.method("glp")
    context = QgsProcessingContext()
    assert read_settings(algorithm, method.parameters, {}, context) == method.defaults
    assert read_settings(algorithm, method.parameters, {"LOWPASS": 1, "MTF_GAIN": 0.3}, context) == {
        "lowpass": "box", "mtf_gain": 0.3}
    cnmf = registry.method("cnmf")
    algorithm = QgsApplication.processingRegistry().algorithmById("hyperfuse:fuse_cnmf").create()
    values = read_settings(algorithm, cnmf.parameters, {"ENDMEMBERS": 7}, context)
    assert values == {**cnmf.defaults, "endmembers": 7} and isinstance(values["endmembers"], int)


def describe_parameter(parameter) -> dict:
    """What qgis_process help and a caller rely on, without the wording (labels, help texts)."""
    facts = {"name": parameter.name(), "type": parameter.type(), "default": parameter.defaultValue(),
             "advanced": bool(parameter.flags() & parameter.FlagAdvanced),
             "optional": bool(parameter.flags() & parameter.FlagOptional)}
    if facts["type"] == "number":
        facts.update(data_type=int(parameter.dataType()), min=parameter.minimum(), max=parameter.maximum())
    elif facts["type"] == "enum":
        facts.update(options=parameter.options(), multiple=parameter.allowMultiple())
    elif facts["type"] == "file":
        facts.update(extension=parameter.extension())
    elif facts["type"] == "fileDestination":
        facts.update(extensions=re.findall(r"\*\.(\w+)", parameter.fileFilter()))
    if facts["type"].endswith("Destination"):
        facts.update(create_by_default=parameter.createByDefault())
    return facts


def describe_provider() -> dict:
    from qgis.core import QgsApplication

    provider = QgsApplication.processingRegistry().providerById("hyperfuse")
    return {algorithm.id(): {"group": algorithm.groupId(),
                             "parameters": [describe_parameter(p) for p in algorithm.parameterDefinitions()],
                             "outputs": [[o.name(), o.type()] for o in algorithm.outputDefinitions()]}
            for algorithm in provider.algorithms()}


def test_public_parameters_are_unchanged(qgis_app):
    with open(EXPECTED_INTERFACE, encoding="utf-8") as f:
        expected = json.load(f)
    actual = json.loads(json.dumps(describe_provider()))  # the same number types as the file's
    assert sorted(actual) == sorted(expected)
    for algorithm_id, facts in expected.items():
        assert actual[algorithm_id]["group"] == facts["group"], algorithm_id
        assert actual[algorithm_id]["outputs"] == facts["outputs"], algorithm_id
        assert [p["name"] for p in actual[algorithm_id]["parameters"]] == [p["name"] for p in facts["parameters"]]
        for got, want in zip(actual[algorithm_id]["parameters"], facts["parameters"]):
            assert got == want, (algorithm_id, got["name"])
