"""The Processing UI in the language QGIS runs in (i18n/, algorithms/i18n.py).

The French translation must be complete and compiled, and the plugin must pick it from the
QGIS locale in the desktop and in qgis_process alike, leaving English untouched.
"""
import json
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest
from conftest import qgis_process_env
from helpers import PROVIDER_ALGORITHMS, ROOT

TS = os.path.join(ROOT, "i18n", "hyperfuse_fr.ts")
QM = os.path.join(ROOT, "i18n", "hyperfuse_fr.qm")
NETWORK, CLASSICAL = "hyperfuse:fuse_mhfnet", "hyperfuse:fuse_gsa"
HELP_SECTIONS = ("SUMMARY", "INPUTS", "OUTPUTS", "CITATION", "RUN_TIME")
# What a translation must keep as it is: placeholders, parameter names, numbers.
PLACEHOLDER = re.compile(r"\{[^{}]*\}")
PARAMETER_NAME = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b")
NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?![\w.])")


def _messages(path: str = TS) -> list:
    """(context, source, translation element) of every message of a .ts file."""
    return [(context.findtext("name"), message.findtext("source"), message.find("translation"))
            for context in ET.parse(path).getroot().iter("context") for message in context.iter("message")]


@pytest.fixture(scope="module")
def french() -> dict:
    return {source: translation.text for _, source, translation in _messages()}


def test_the_ts_holds_one_context_and_only_finished_translations():
    messages = _messages()
    assert ET.parse(TS).getroot().get("language") == "fr_FR"
    assert len(messages) > 100
    # pylupdate5 files a bare tr("…") under "@default": every text must be in the context tr() reads.
    assert {context for context, _, _ in messages} == {"HyperFuse"}
    unfinished = [source for _, source, translation in messages
                  if translation.get("type") in ("unfinished", "obsolete", "vanished") or not translation.text]
    assert not unfinished, f"{len(unfinished)} messages are not translated, e.g. {unfinished[:3]}"


def test_translations_keep_placeholders_parameter_names_and_numbers(french):
    for source, translation in french.items():
        assert sorted(PLACEHOLDER.findall(translation)) == sorted(PLACEHOLDER.findall(source)), source
        assert set(PARAMETER_NAME.findall(source)) <= set(PARAMETER_NAME.findall(translation)), source
        assert set(NUMBER.findall(source)) <= set(NUMBER.findall(translation)), source


def test_the_qm_is_compiled_from_the_ts(tmp_path):
    lrelease = shutil.which("lrelease")
    if lrelease is None:
        pytest.skip("lrelease is not installed (Debian: qttools5-dev-tools; `make i18n` installs it)")
    compiled = tmp_path / "hyperfuse_fr.qm"
    subprocess.run([lrelease, "-silent", "-nounfinished", TS, "-qm", str(compiled)], check=True)
    with open(QM, "rb") as committed:
        assert committed.read() == compiled.read_bytes(), "i18n/hyperfuse_fr.qm is stale: run `make i18n`"


def test_the_ts_holds_every_text_the_sources_mark(tmp_path):
    pylupdate5 = shutil.which("pylupdate5")
    if pylupdate5 is None:
        pytest.skip("pylupdate5 is not installed (Debian: pyqt5-dev-tools; `make i18n` installs it)")
    extracted = tmp_path / "hyperfuse_fr.ts"
    shutil.copy(TS, extracted)
    sources = subprocess.run(["make", "-s", "-C", ROOT, "--no-print-directory", "-f", "-", "sources"],
                             input="include Makefile\nsources:\n\t@echo $(I18N_SOURCES)\n", text=True,
                             stdout=subprocess.PIPE, check=True).stdout.split()
    assert "algorithms/base.py" in sources and "core/registry.py" in sources
    subprocess.run([pylupdate5, "-noobsolete", *sources, "-ts", str(extracted)], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    now, committed = {m[1] for m in _messages(str(extracted))}, {m[1] for m in _messages()}
    assert now == committed, (f"i18n/hyperfuse_fr.ts is stale (`make i18n`): new {sorted(now - committed)[:5]}, "
                              f"gone {sorted(committed - now)[:5]}")


# In this process: every algorithm's labels and help, with the French translation installed.

@pytest.fixture
def french_translator(qgis_app):
    from hyperfuse.algorithms.i18n import install_translator, remove_translator

    translator = install_translator("fr_FR")
    assert translator is not None
    yield translator
    remove_translator(translator)


def _algorithm(algorithm_id: str):
    """A new instance: its parameters are declared, and their labels translated, now."""
    from qgis.core import QgsApplication

    return QgsApplication.processingRegistry().algorithmById(algorithm_id).create()


def _shown(algorithm_id: str) -> dict:
    """What the Toolbox and the dialog show of an algorithm, by where: name, group, each label."""
    algorithm = _algorithm(algorithm_id)
    return {"name": algorithm.displayName(), "group": algorithm.group(),
            **{f"parameter {p.name()}": p.description() for p in algorithm.parameterDefinitions()},
            **{f"output {o.name()}": o.description() for o in algorithm.outputDefinitions()}}


@pytest.mark.parametrize("algorithm_id", PROVIDER_ALGORITHMS)
def test_every_label_of_every_algorithm_is_translated(qgis_app, french, algorithm_id):
    from hyperfuse.algorithms.i18n import install_translator, remove_translator

    english = _shown(algorithm_id)
    translator = install_translator("fr_FR")
    try:
        shown = _shown(algorithm_id)
    finally:
        remove_translator(translator)
    assert shown.keys() == english.keys()
    assert shown["group"] == french[english["group"]]
    untranslated = [where for where, text in shown.items() if text == english[where]]
    assert not untranslated, f"{algorithm_id}: {untranslated} are in English"
    # A label is its .ts translation, so that Qt Linguist shows the text users see.
    for where in (key for key in english if key.startswith("parameter ")):
        assert shown[where] == french[english[where]], where


@pytest.mark.parametrize("algorithm_id", PROVIDER_ALGORITHMS)
def test_every_help_text_of_every_algorithm_is_translated(french_translator, algorithm_id):
    from hyperfuse.algorithms.i18n import tr

    algorithm = _algorithm(algorithm_id)
    texts = {section: getattr(algorithm, section) for section in HELP_SECTIONS}
    texts.update(getattr(algorithm, "PARAMETER_HELP", {}))
    untranslated = [name for name, text in texts.items() if tr(text) == str(text)]
    assert not untranslated, f"{algorithm_id}: no French for the help of {untranslated}"
    assert "Paramètres" in algorithm.shortHelpString()


def test_a_composed_text_reads_in_english_and_translates_part_by_part(french_translator):
    import copy

    from hyperfuse.algorithms.i18n import Text, joined, tr

    text = Text("Network: {name}", name=joined("; ", ["Generic RGB camera", "MHF-net", "CSV file (SRF_FILE)"]))
    assert text == "Network: Generic RGB camera; MHF-net; CSV file (SRF_FILE)"
    assert tr(text) == "Réseau : Caméra RVB générique; MHF-net; Fichier CSV (SRF_FILE)"
    assert tr(copy.deepcopy(text)) == tr(text)


def test_a_missing_language_leaves_english_and_a_country_falls_back_to_its_language(qgis_app):
    from hyperfuse.algorithms.i18n import install_translator, remove_translator, translate

    for locale in ("en_US", "en", "C", ""):
        assert install_translator(locale) is None, locale
    translator = install_translator("fr_CA")
    assert translate("HyperFuse", "Simulate degradation") == "Simuler la dégradation"
    remove_translator(translator)
    assert translate("HyperFuse", "Simulate degradation") == "Simulate degradation"


# qgis_process with a throw-away profile in the language under test: the plugin finds the language as
# QGIS does, from the profile's settings or, without the user's choice, from the system locale.

def _qgis_process(plugin_parent, folder, locale_settings: str = "", **env_overrides):
    """A qgis_process.bin runner for a new profile whose QGIS3.ini holds ``locale_settings``."""
    settings = os.path.join(folder, "profiles", "default", "QGIS")
    os.makedirs(settings)
    with open(os.path.join(settings, "QGIS3.ini"), "w") as ini:
        ini.write("[PythonPlugins]\nhyperfuse=true\n\n" + locale_settings)
    env = {**qgis_process_env(plugin_parent, folder), **env_overrides}

    def run(*args) -> str:
        done = subprocess.run(["qgis_process.bin", *args], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
        assert done.returncode == 0, f"qgis_process {' '.join(args)} failed:\n{done.stdout[-2000:]}"
        return done.stdout
    return run


def _listing(run) -> dict:
    """{algorithm id: (display name, group)} of the HyperFuse algorithms, from `qgis_process --json list`."""
    text = run("--json", "list")
    algorithms = json.loads(text[text.index("{"):])["providers"]["hyperfuse"]["algorithms"]
    return {key: (value["name"], value["group"]) for key, value in algorithms.items()}


def _labels(run, algorithm_id: str) -> dict:
    """{parameter name: description} from the Arguments part of `qgis_process help`."""
    text = run("help", algorithm_id)
    arguments = text[text.index("Arguments"):text.index("\nOutputs\n")]
    return dict(re.findall(r"^([A-Z][A-Z0-9_]*): (.+)$", arguments, re.MULTILINE))


@pytest.fixture(scope="module")
def in_french(plugin_parent, tmp_path_factory):
    return _qgis_process(plugin_parent, str(tmp_path_factory.mktemp("profile-fr")),
                         "[locale]\nuserLocale=fr\noverrideFlag=true\n")


@pytest.fixture(scope="module")
def in_english(plugin_parent, tmp_path_factory):
    return _qgis_process(plugin_parent, str(tmp_path_factory.mktemp("profile-en")),
                         "[locale]\nuserLocale=en_US\noverrideFlag=true\n")


@pytest.fixture(scope="module")
def english_listing(in_english):
    return _listing(in_english)


def test_qgis_process_lists_names_and_groups_in_french(in_french, english_listing, french):
    listing = _listing(in_french)
    assert set(listing) == set(PROVIDER_ALGORITHMS)
    assert listing["hyperfuse:simulate_degradation"] == (french["Simulate degradation"],
                                                         french["Simulation and assessment"])
    assert listing[NETWORK] == ("Réseau : MHF-net", french["Fusion"])
    assert listing["hyperfuse:fuse_bicubic"][0] == "Base de comparaison : suréchantillonnage bicubique"
    for algorithm_id, (name, group) in listing.items():
        english_name, english_group = english_listing[algorithm_id]
        assert name != english_name and group == french[english_group], algorithm_id


@pytest.mark.parametrize("algorithm_id", [NETWORK, CLASSICAL])
def test_qgis_process_help_labels_every_parameter_in_french(in_french, in_english, french, algorithm_id):
    labels, english = _labels(in_french, algorithm_id), _labels(in_english, algorithm_id)
    assert set(labels) == set(english) and len(labels) >= 8
    for name, label in labels.items():
        assert label != english[name] and label == french[english[name]], name
    assert labels["LR_HSI"] == "Image hyperspectrale basse résolution (LR-HSI)"


def test_in_english_nothing_changes(qgis_app, in_english, english_listing):
    from qgis.core import QgsApplication

    registry = QgsApplication.processingRegistry()
    for algorithm_id, (name, group) in english_listing.items():
        algorithm = registry.algorithmById(algorithm_id)
        assert (name, group) == (algorithm.displayName(), algorithm.group()), algorithm_id
    assert english_listing[NETWORK] == ("Network: MHF-net", "Fusion")
    for algorithm_id in (NETWORK, CLASSICAL):
        assert _labels(in_english, algorithm_id) == {
            p.name(): p.description() for p in registry.algorithmById(algorithm_id).parameterDefinitions()}


def test_without_a_language_chosen_in_qgis_the_system_locale_decides(plugin_parent, tmp_path):
    listing = _listing(_qgis_process(plugin_parent, str(tmp_path / "profile"), LC_ALL="fr_FR.UTF-8"))
    assert listing["hyperfuse:simulate_degradation"][0] == "Simuler la dégradation"
