"""The Processing help of every algorithm, as QGIS renders it (rich text).

Help texts are plain text; QGIS shows them as HTML, where a bare '<' opens a tag and
hides the rest ("(s < S bands)" showed as "(s "). These tests render the help the way
the dialog does and check that every source text survives in full.
"""
import re

import pytest
from helpers import PROVIDER_ALGORITHMS

SECTIONS = ("SUMMARY", "INPUTS", "OUTPUTS", "CITATION", "RUN_TIME")
# A year a paper could have: 1900–2099.
YEAR = re.compile(r"\b(19|20)\d{2}\b")


def _plain(html_text: str) -> str:
    """What a rich-text view shows of ``html_text``, whitespace collapsed as HTML does."""
    from qgis.PyQt.QtGui import QTextDocument

    document = QTextDocument()
    document.setHtml(html_text)
    return _collapse(document.toPlainText())


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _parameter_help(algorithm) -> dict:
    return getattr(algorithm, "PARAMETER_HELP", {})


@pytest.fixture(scope="module")
def algorithms(qgis_app):
    from qgis.core import QgsApplication

    registry = QgsApplication.processingRegistry()
    found = {algorithm_id: registry.algorithmById(algorithm_id) for algorithm_id in PROVIDER_ALGORITHMS}
    assert None not in found.values(), [key for key, value in found.items() if value is None]
    return found


@pytest.mark.parametrize("algorithm_id", PROVIDER_ALGORITHMS)
def test_help_shows_every_source_text_in_full(algorithms, algorithm_id):
    algorithm = algorithms[algorithm_id]
    shown = _plain(algorithm.shortHelpString())
    for section in SECTIONS:
        text = getattr(algorithm, section, "")
        assert text, f"{algorithm_id}: {section} is missing or empty"
        assert _collapse(text) in shown, f"{algorithm_id}: {section} is cut or altered in the rendered help"
    for name, text in _parameter_help(algorithm).items():
        assert f"{name} (" in shown or f"{name}:" in shown, f"{algorithm_id}: {name} is missing from the help"
        assert _collapse(text) in shown, f"{algorithm_id}: the help of {name} is cut or altered"


@pytest.mark.parametrize("algorithm_id", PROVIDER_ALGORITHMS)
def test_parameter_tooltips_keep_their_text(algorithms, algorithm_id):
    algorithm = algorithms[algorithm_id]
    for parameter in algorithm.parameterDefinitions():
        source = _parameter_help(algorithm).get(parameter.name())
        assert source, f"{algorithm_id}: {parameter.name()} has no help"
        assert _plain(parameter.help()) == _collapse(source), f"{algorithm_id}: {parameter.name()}'s help"
        # The tooltip QGIS builds embeds the help in its own HTML.
        assert _collapse(source) in _plain(parameter.toolTip()), f"{algorithm_id}: {parameter.name()}'s tooltip"


@pytest.mark.parametrize("algorithm_id", PROVIDER_ALGORITHMS)
def test_help_names_a_reference_with_its_year(algorithms, algorithm_id):
    algorithm = algorithms[algorithm_id]
    citation = getattr(algorithm, "CITATION", "")
    assert YEAR.search(citation), f"{algorithm_id}: no year in its CITATION {citation!r}"
    assert _collapse(citation) in _plain(algorithm.shortHelpString())


@pytest.mark.parametrize("algorithm_id", PROVIDER_ALGORITHMS)
def test_enum_options_are_named_by_their_labels(algorithms, algorithm_id):
    """Options are described by what the dialog shows, not by their number ("0 auto; 1 weights file")."""
    from qgis.core import QgsProcessingParameterEnum

    algorithm = algorithms[algorithm_id]
    for parameter in algorithm.parameterDefinitions():
        if not isinstance(parameter, QgsProcessingParameterEnum):
            continue
        text = _parameter_help(algorithm).get(parameter.name(), "")
        for index, label in enumerate(parameter.options()):
            assert label.split(" (")[0] in text, f"{algorithm_id}: {parameter.name()} does not name '{label}'"
            assert not re.search(rf"(^|[;:,(]\s*){index} {re.escape(label.split()[0])}", text), \
                f"{algorithm_id}: {parameter.name()} names '{label}' by its number {index}"


def test_text_with_angle_brackets_survives(algorithms):
    """The two texts the issue found cut at their '<'."""
    simulate = _plain(algorithms["hyperfuse:simulate_degradation"].shortHelpString())
    assert "(0 < g < 1); σ = r·sqrt(−2 ln g)/π HR pixels" in simulate
    fusion = algorithms["hyperfuse:fuse_mhfnet"]
    assert "(s < S bands) of the same scene" in _plain(fusion.shortHelpString())
    assert _plain(fusion.parameterDefinition("HR_MSI").toolTip()).count("(s < S bands) of the same scene") == 1
