"""Weights files: a state dict plus a model card, loaded without executing code.

A weights file is a ``torch.save`` of ``{"format": …, "card": {…}, "state_dict": {…}}``
holding only tensors, strings, numbers, lists and dicts. Loading uses
``torch.load(weights_only=True)``, whose restricted unpickler refuses any other object,
so a crafted file cannot run code. The card says what the weights are for (method,
hyper-parameters, bands, wavelengths, ratio, training) and is checked against the inputs
before a model is built.

Every file is validated when it is loaded (:func:`validate_weights`), before anything uses
it: a damaged or hand-edited file is refused with one line naming the field or tensor,
instead of failing later with a traceback or fusing to NaN.
"""
from __future__ import annotations

import datetime
import inspect
import math
import os
import pickle
import zipfile

from ..environment import PLUGIN_DIR
from ..errors import UserInputError
from ..registry import METHODS
from ..storage.files import atomic_path
from .torch_support import require_torch

FORMAT = "hyperfuse-weights/1"
WAVELENGTH_TOLERANCE_NM = 5.0      # HS band centres: the same sensor, different processing versions
MS_WAVELENGTH_TOLERANCE_NM = 15.0  # MS band centres: Sentinel-2A against 2B; not Landsat's NIR, 32 nm off B8
ZIP_MAGIC = b"PK\x03\x04"          # torch.save writes a zip archive; anything else is not ours
# Bounds on what a card may ask the network builder for, so a hostile card cannot make it loop
# for hours: no method takes a setting above 256 (MHF-net's RANK) or a ratio near 1000.
MAX_HYPERPARAMETER = 1024
MAX_RATIO = 1000
# field: (kind, required). The fields make_card writes; a card may leave out the descriptive ones.
CARD_FIELDS = {
    "method": ("str", True), "hyperparameters": ("dict", True), "hs_bands": ("int", True),
    "ms_bands": ("int", True), "ratio": ("int", True), "hs_wavelengths_nm": ("list", False),
    "ms_wavelengths_nm": ("list", False), "ms_description": ("str", False), "training": ("dict", False),
    "validation": ("dict", False), "seed": ("int", False), "plugin_version": ("str", False),
    "created": ("str", False), "generic": ("dict", False),
}
CARD_KIND_WORDS = {"int": "an integer", "str": "text", "dict": "a dict", "list": "a list of numbers (or None)"}
REEXPORT_ADVICE = "Re-export it with train_model (or OUTPUT_WEIGHTS of a fusion), or use MODEL = auto."
NOT_WEIGHTS_ADVICE = ("Choose a weights file written by HyperFuse (train_model or OUTPUT_WEIGHTS of a fusion), or "
                      "use MODEL = auto.")


class InvalidWeightsFile(UserInputError):
    """The file itself is unusable (not a weights file, damaged, inconsistent), whatever the inputs.

    A separate class from a card that does not fit the inputs (:func:`check_card`), so a caller
    that tries several files (the bundled models) can skip misfits but report a broken file.
    """


def _wavelength_range(values) -> str:
    return f"{len(values)} bands at {min(values):.0f}–{max(values):.0f} nm"


def plugin_version() -> str:
    path = os.path.join(PLUGIN_DIR, "metadata.txt")
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("version="):
                    return line.split("=", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def make_card(method_id: str, hyperparameters: dict, hs_bands: int, hs_wavelengths, ms_bands: int,
              ms_description: str, ratio: int, *, training: dict, validation: dict, seed: int,
              ms_wavelengths=None) -> dict:
    """The model card: what the weights are for and how they were obtained (DESIGN.md "Weights")."""
    return {
        "method": method_id,
        "hyperparameters": dict(hyperparameters),
        "hs_bands": int(hs_bands),
        "hs_wavelengths_nm": None if hs_wavelengths is None else [float(w) for w in hs_wavelengths],
        "ms_bands": int(ms_bands),
        "ms_description": ms_description,
        "ms_wavelengths_nm": None if ms_wavelengths is None else [float(w) for w in ms_wavelengths],
        "ratio": int(ratio),
        "training": training,
        "validation": validation,
        "seed": int(seed),
        "plugin_version": plugin_version(),
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def save_weights(path: str, model, card: dict) -> None:
    """Write atomically: a temporary file next to ``path`` renamed when complete."""
    torch = require_torch()
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    with atomic_path(path) as temp:
        torch.save({"format": FORMAT, "card": card, "state_dict": state}, temp)


def load_weights(path: str) -> tuple[dict, dict]:
    """(state_dict, card) of a weights file that passed :func:`validate_weights`; never unpickles arbitrary objects.

    Every path that uses weights (MODEL = weights file, the bundled models, fine-tuning
    INIT_WEIGHTS) comes through here, so a file is checked before anything uses it.
    """
    if not path or not os.path.isfile(path):
        raise InvalidWeightsFile(f"The weights file '{path}' does not exist. Choose a file written by HyperFuse "
                                 "(OUTPUT_WEIGHTS of a fusion or the training algorithm).")
    return validate_weights(path, _read_container(path))


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0].rstrip(".")


def _not_weights(path: str, why: str) -> InvalidWeightsFile:
    return InvalidWeightsFile(f"'{path}' is not a HyperFuse weights file ({why}). {NOT_WEIGHTS_ADVICE}")


def _corrupt(path: str, why: str) -> InvalidWeightsFile:
    return InvalidWeightsFile(f"The weights file '{path}' is truncated or corrupt ({why}). Write it again, or "
                              "choose another file.")


def _read_container(path: str):
    """The unpickled content of a weights file, after checking it is an intact torch.save zip archive."""
    torch = require_torch()
    try:
        with open(path, "rb") as handle:
            head = handle.read(4)
    except OSError as exc:
        raise InvalidWeightsFile(f"The weights file '{path}' cannot be read ({_first_line(exc)}). Check its "
                                 "permissions, or choose another file.") from exc
    if not head:
        raise _not_weights(path, "the file is empty")
    if head[:1] == b"\x80":
        # A bare pickle (or torch's legacy format): HyperFuse never writes one, and it is not
        # unpickled at all, so a crafted one cannot run code.
        raise _not_weights(path, "a bare pickle, not the zip archive HyperFuse writes; it was not loaded")
    if head != ZIP_MAGIC:
        raise _not_weights(path, "not a zip archive written by torch.save")
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            if any(m.compress_type != zipfile.ZIP_STORED for m in members):
                # torch.save stores members uncompressed; reading compressed ones could inflate without bound.
                raise _not_weights(path, "a zip archive with compressed members, which torch.save does not write")
            damaged = archive.testzip()   # torch.load does not check the CRCs: a flipped bit would load
    except zipfile.BadZipFile as exc:
        raise _corrupt(path, "the zip archive's directory at its end is missing or damaged") from exc
    except (OSError, EOFError, ValueError, NotImplementedError) as exc:
        raise _corrupt(path, _first_line(exc)) from exc
    names = [m.filename for m in members]
    if damaged:
        raise _corrupt(path, f"'{damaged}' fails its checksum")
    if not any(n == "data.pkl" or n.endswith("/data.pkl") for n in names):
        raise _not_weights(path, "a zip archive without PyTorch's data.pkl")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise InvalidWeightsFile(
            f"The weights file '{path}' was refused: it holds objects other than tensors and plain data, which "
            "could run code when loaded. Only use weights files written by HyperFuse.") from exc
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError, KeyError, IndexError, TypeError,
            AttributeError) as exc:   # torch's reader fails in these ways on archives it did not write
        raise _corrupt(path, _first_line(exc)) from exc


def validate_weights(path: str, content) -> tuple[dict, dict]:
    """(state_dict, card) of loaded ``content``; else an InvalidWeightsFile, one line naming the field or tensor.

    Checks the container, the card's fields and types, the band lists against the band
    counts, the hyper-parameters against the network's constructor, every tensor's name
    and shape against the network the card describes, and that every value is finite.
    """
    if not isinstance(content, dict) or content.get("format") != FORMAT:
        found = content.get("format") if isinstance(content, dict) else type(content).__name__
        raise _not_weights(path, f"format {found!r}, expected {FORMAT!r}")
    for key in ("card", "state_dict"):
        if not isinstance(content.get(key), dict):
            raise _invalid(path, f"its '{key}' is {_kind(content.get(key))}, expected a dict")
    card, state = content["card"], content["state_dict"]
    _check_card_fields(path, card)
    _check_tensor_values(path, state)
    _check_against_network(path, card, state)
    return state, card


def _invalid(path: str, problem: str) -> InvalidWeightsFile:
    return InvalidWeightsFile(f"The weights file '{path}' is not valid: {problem}. {REEXPORT_ADVICE}")


def _kind(value) -> str:
    return "missing" if value is None else f"{type(value).__name__} {_short(value)}"


def _short(value) -> str:
    text = repr(value)
    return f"({text})" if len(text) <= 40 else f"({text[:37]}…)"


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)   # True is an int to Python, not a band count


def _is_number(value) -> bool:
    return (_is_int(value) or isinstance(value, float)) and math.isfinite(value)


def _check_card_fields(path: str, card: dict) -> None:
    """Types of the card's fields, the band lists' lengths, and the method."""
    checks = {"int": _is_int, "str": lambda v: isinstance(v, str), "dict": lambda v: isinstance(v, dict),
              "list": lambda v: isinstance(v, list)}
    for name, (kind, required) in CARD_FIELDS.items():
        value = card.get(name)
        if value is None:
            if required:
                raise _invalid(path, f"its card has no field '{name}'")
            continue
        if not checks[kind](value):
            raise _invalid(path, f"card field '{name}' is {_kind(value)}, expected {CARD_KIND_WORDS[kind]}")
    if card["method"] not in METHODS:
        raise _invalid(path, f"card field 'method' is {card['method']!r}, not one of {', '.join(METHODS)}")
    for name in ("hs_bands", "ms_bands"):
        if card[name] < 1:
            raise _invalid(path, f"card field '{name}' is {card[name]}, expected at least 1")
    if not 2 <= card["ratio"] <= MAX_RATIO:
        raise _invalid(path, f"card field 'ratio' is {card['ratio']}, expected an integer from 2 to {MAX_RATIO}")
    for name, count_field in (("hs_wavelengths_nm", "hs_bands"), ("ms_wavelengths_nm", "ms_bands")):
        _check_band_list(path, card, name, count_field)
    data = (card.get("training") or {}).get("data", [])
    if not isinstance(data, list) or not all(isinstance(d, str) for d in data):
        raise _invalid(path, f"card field 'training.data' is {_kind(data)}, expected a list of scene names")


def _check_band_list(path: str, card: dict, name: str, count_field: str) -> None:
    values = card.get(name)
    if values is None:      # the card may give band counts only
        return
    if len(values) != card[count_field]:
        raise _invalid(path, f"card field '{name}' lists {len(values)} wavelengths for {count_field} = "
                             f"{card[count_field]}")
    for index, value in enumerate(values):
        if not _is_number(value) or value <= 0:
            raise _invalid(path, f"card field '{name}' entry {index + 1} is {_kind(value)}, expected a positive "
                                 "wavelength in nm")


def _check_tensor_values(path: str, state: dict) -> None:
    """Every entry a tensor, every value finite, the band scales positive."""
    torch = require_torch()
    for name, tensor in state.items():
        if not isinstance(name, str) or not isinstance(tensor, torch.Tensor):
            raise _invalid(path, f"state_dict entry {name!r} is {type(tensor).__name__}, expected a tensor")
        if tensor.is_floating_point() or tensor.is_complex():
            bad = int((~torch.isfinite(tensor)).sum())
            if bad:
                raise _invalid(path, f"tensor '{name}' holds {bad} NaN or infinite value(s) of {tensor.numel()}")
    for name in ("hs_std", "ms_std"):
        # The model divides by these: zero or negative gives Inf or flipped outputs.
        if name in state and state[name].numel() and not bool((state[name] > 0).all()):
            raise _invalid(path, f"tensor '{name}' holds a value ≤ 0; band scales must be positive")


def _check_hyperparameters(path: str, method, hyperparameters: dict) -> None:
    """Keys the network's constructor takes, with finite numbers of a size a network can have."""
    accepted = [p for p in inspect.signature(method.network_class().__init__).parameters
                if p not in ("self", "hs_bands", "ms_bands", "ratio")]
    for key, value in hyperparameters.items():
        if key not in accepted:
            raise _invalid(path, f"card field 'hyperparameters' has the key {key!r}, which {method.name} does not "
                                 f"take (it takes {', '.join(accepted)})")
        if not _is_number(value) or abs(value) > MAX_HYPERPARAMETER:
            raise _invalid(path, f"hyper-parameter '{key}' is {_kind(value)}, expected a number of at most "
                                 f"{MAX_HYPERPARAMETER}")


def _network_tensors(path: str, card: dict) -> dict:
    """Name: tensor (shapes only, no memory) of the model the card describes."""
    torch = require_torch()
    from ...nets.blocks import FusionModel

    method = METHODS[card["method"]]
    _check_hyperparameters(path, method, card["hyperparameters"])
    try:
        # On the meta device the network has shapes but no storage: a card that asks for a
        # huge network costs nothing before its tensors are compared with the file's.
        with torch.device("meta"):
            net = method.build(card["hs_bands"], card["ms_bands"], card["ratio"],
                               **method.card_hyperparameters(card["hyperparameters"]))
            return FusionModel(net, card["hs_bands"], card["ms_bands"]).state_dict()
    except (UserInputError, ValueError, TypeError, RuntimeError) as exc:
        raise _invalid(path, f"{method.name} cannot be built from its card's hyper-parameters "
                             f"({_first_line(exc)})") from exc


def _check_against_network(path: str, card: dict, state: dict) -> None:
    """The file's tensors are exactly the network's: names, shapes, kinds of number."""
    expected = _network_tensors(path, card)
    problems = []
    missing = [n for n in expected if n not in state]
    unexpected = [n for n in state if n not in expected]
    if missing:
        problems.append(f"missing tensor(s) {_names(missing)}")
    if unexpected:
        problems.append(f"unexpected tensor(s) {_names(unexpected)}")
    for name in expected:
        if name not in state:
            continue
        tensor, target = state[name], expected[name]
        if tuple(tensor.shape) != tuple(target.shape):
            problems.append(f"tensor '{name}' has shape {tuple(tensor.shape)}, the network expects "
                            f"{tuple(target.shape)}")
        elif tensor.is_complex() or tensor.is_floating_point() != target.is_floating_point():
            problems.append(f"tensor '{name}' has dtype {tensor.dtype}, the network expects {target.dtype}")
    if problems:
        more = f"; and {len(problems) - 3} more" if len(problems) > 3 else ""
        raise _invalid(path, f"its tensors do not fit the {METHODS[card['method']].name} network its card "
                             f"describes: {'; '.join(problems[:3])}{more}")


def _names(names: list) -> str:
    shown = ", ".join(f"'{n}'" for n in names[:3])
    return shown + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def check_card(card: dict, method_id: str, hs_bands: int, ms_bands: int, ratio: int, hs_wavelengths=None,
               ms_wavelengths=None) -> None:
    """Refuse weights that were trained for something else, naming expected against actual."""
    problems = []
    if card.get("method") != method_id:
        problems.append(f"method: the file is for {card.get('method')}, this algorithm is {method_id}")
    if card.get("hs_bands") != hs_bands:
        problems.append(f"HS bands: the file expects {card.get('hs_bands')}, the LR-HSI has {hs_bands} usable bands")
    if card.get("ms_bands") != ms_bands:
        problems.append(f"MS bands: the file expects {card.get('ms_bands')}, the HR-MSI has {ms_bands}")
    if card.get("ratio") != ratio:
        problems.append(f"ratio: the file expects {card.get('ratio')}, the inputs have ratio {ratio}")
    for kind, expected, actual, tolerance in (("HS", card.get("hs_wavelengths_nm"), hs_wavelengths,
                                               WAVELENGTH_TOLERANCE_NM),
                                              ("MS", card.get("ms_wavelengths_nm"), ms_wavelengths,
                                               MS_WAVELENGTH_TOLERANCE_NM)):
        if problems or not expected or actual is None:
            continue
        worst = max(abs(a - b) for a, b in zip(expected, actual))
        if worst > tolerance:
            problems.append(f"{kind} wavelengths differ by up to {worst:.1f} nm (the file expects "
                            f"{_wavelength_range(expected)}, the inputs have {_wavelength_range(actual)}; "
                            f"tolerance {tolerance:g} nm)")
    if problems:
        raise UserInputError("The weights file does not fit the inputs: " + "; ".join(problems) +
                             ". Use weights trained for these inputs, or choose MODEL = train on the inputs.")


def is_generic(card: dict) -> bool:
    """A generic model's card (nets/generic.py): any bands, ratios in its range."""
    return bool(card.get("generic"))


def _fusion_model(method, state: dict, card: dict):
    """The FusionModel a checked card describes, with the file's tensors (load_weights checked every name and
    shape against it)."""
    from ...nets.blocks import FusionModel

    hs_bands, ms_bands = card["hs_bands"], card["ms_bands"]
    net = method.build(hs_bands, ms_bands, card["ratio"], **method.card_hyperparameters(card["hyperparameters"]))
    model = FusionModel(net, hs_bands, ms_bands)
    model.load_state_dict(state)
    return model


def _generic_model(method, state: dict, card: dict, ratio: int):
    """A generic file's model for inputs at ``ratio``, bound to a pair later (nets/generic.py)."""
    from ...nets.generic import COMPONENTS, INNER_RATIO, MS_CHANNELS, GenericFusionModel

    check_card(card, method.id, COMPONENTS, MS_CHANNELS, INNER_RATIO)
    low, high = card["generic"].get("ratios", [INNER_RATIO, INNER_RATIO])
    if not low <= ratio <= high:
        raise UserInputError(f"The generic {method.name} model is trained for ratios {low} to {high}; the inputs have "
                             f"ratio {ratio}. Choose MODEL = train on the inputs, or a weights file for this ratio.")
    return GenericFusionModel(_fusion_model(method, state, card))


def build_generic_model(method, path: str, ratio: int):
    """(model, card) of a generic weights file for inputs at ``ratio``."""
    state, card = load_weights(path)
    return _generic_model(method, state, card, ratio), card


def build_model(method, path: str, hs_bands: int, ms_bands: int, ratio: int, hs_wavelengths=None,
                ms_wavelengths=None):
    """(model, card) from a sensor-specific weights file whose card has been checked against the inputs."""
    state, card = load_weights(path)
    check_card(card, method.id, hs_bands, ms_bands, ratio, hs_wavelengths, ms_wavelengths)
    return _fusion_model(method, state, card), card


def build_fusion_model(method, path: str, hs_bands: int, ms_bands: int, ratio: int, hs_wavelengths=None,
                       ms_wavelengths=None):
    """(model, card) for a fusion from any weights file, read once: a generic file's model for any bands, else
    :func:`build_model`'s checks."""
    state, card = load_weights(path)
    if is_generic(card):
        return _generic_model(method, state, card, ratio), card
    check_card(card, method.id, hs_bands, ms_bands, ratio, hs_wavelengths, ms_wavelengths)
    return _fusion_model(method, state, card), card
