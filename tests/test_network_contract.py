"""Every registered network provides the contract of nets/contract.py."""
from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch
from hyperfuse.core import registry
from hyperfuse.nets.blocks import FusionModel
from hyperfuse.nets.contract import DataInitialised, FusionNetwork

# Small settings: the contract does not depend on the widths.
SMALL = {"deepsen3": {"width": 8, "modules": 1}, "msssfnet": {"width": 8}, "mhfnet": {"stages": 2},
         "ssjcn": {"width": 8}, "mlpln": {}}
INITIALISED_FROM_DATA = {"mhfnet", "mlpln"}
PARAMETERS = {
    "forward": ["lr_hsi", "hr_msi"],
    "receptive_field": ["ratio"],
    "alignment": ["ratio"],
    "training_loss": ["lr_hsi", "hr_msi", "target", "mask"],
}
HS, MS = 12, 3


def build(method_id: str, ratio: int):
    torch.manual_seed(0)
    return registry.method(method_id).build(HS, MS, ratio, **SMALL[method_id])


def parameter_names(function) -> list:
    return list(inspect.signature(function).parameters)


def test_every_registered_network_is_checked():
    assert set(registry.METHODS) == set(SMALL)


@pytest.mark.parametrize("method_id", sorted(SMALL))
def test_network_provides_the_contract(method_id):
    net = build(method_id, 4)
    assert isinstance(net, FusionNetwork)
    for name, expected in PARAMETERS.items():
        assert parameter_names(getattr(net, name)) == expected, f"{method_id}.{name}"
    assert isinstance(net, DataInitialised) == (method_id in INITIALISED_FROM_DATA)
    if isinstance(net, DataInitialised):
        assert parameter_names(net.initialise_from_data) == ["lr_hsi", "hr_msi", "target", "valid"]


@pytest.mark.parametrize("method_id", sorted(SMALL))
def test_halo_and_alignment_follow_the_ratio_argument(method_id):
    """A network answers for the ratio it is asked about: the same as one built for that ratio."""
    built_at_2 = build(method_id, 2)
    for ratio in (2, 3, 4, 6):
        built = build(method_id, ratio)
        assert built_at_2.receptive_field(ratio) == built.receptive_field(ratio) > 0
        assert built_at_2.alignment(ratio) == built.alignment(ratio)
        assert built.alignment(ratio) % ratio == 0


def test_fusion_model_provides_both_contracts_and_delegates():
    net = build("ssjcn", 3)
    model = FusionModel(net, HS, MS)
    assert isinstance(model, FusionNetwork) and isinstance(model, DataInitialised)
    assert model.receptive_field(3) == net.receptive_field(3)
    assert model.alignment(3) == net.alignment(3) == 12


def test_fusion_model_refuses_a_module_without_the_contract():
    with pytest.raises(TypeError, match="contract"):
        FusionModel(torch.nn.Conv2d(HS, HS, 1), HS, MS)


def test_initialisation_from_data_is_skipped_for_networks_without_it():
    model = FusionModel(build("deepsen3", 2), HS, MS)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    rng = np.random.default_rng(0)
    model.initialise_from_data(rng.random((HS, 4, 4)), rng.random((MS, 8, 8)), rng.random((HS, 8, 8)),
                               np.ones((8, 8), bool))
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
