"""Translation of what the Processing UI shows, in the language QGIS runs in.

Every text goes through one Qt context, ``HyperFuse``. pylupdate5 (``make i18n``) reads
the sources, not Python values, so a text is found only as a string literal in
``translate("HyperFuse", "…")`` (translated where it is called) or
``QT_TRANSLATE_NOOP("HyperFuse", "…")`` (a marker: constants, class attributes and the
core's registries, translated where they are shown with :func:`tr`). A text with values
in it is a constant template formatted after translation, never an f-string: the
formatted string is in no .ts file.
"""
from __future__ import annotations

import os

from qgis.core import QgsSettings
from qgis.PyQt.QtCore import QCoreApplication, QLocale, QTranslator

from ..core.environment import PLUGIN_DIR
from ..core.i18n import QT_TRANSLATE_NOOP, Text, joined  # noqa: F401 (re-exported for the algorithms)

CONTEXT = "HyperFuse"
I18N_DIR = os.path.join(PLUGIN_DIR, "i18n")


def translate(context: str, text: str) -> str:
    """``text`` translated; called with literals, so that pylupdate5 finds them."""
    return QCoreApplication.translate(context, text)


def tr(text: str) -> str:
    """``text`` (a marked constant or a :class:`Text`) in the language of the installed translation."""
    if isinstance(text, Text):
        return tr(text.template).format(**{key: tr(value) if isinstance(value, str) else value
                                           for key, value in text.values.items()})
    return QCoreApplication.translate(CONTEXT, text) if text else text


def qgis_locale() -> str:
    """The language QGIS shows its interface in, e.g. 'fr' or 'fr_FR'.

    As QGIS decides it at start: the locale/userLocale setting when locale/overrideFlag is on
    (the user chose a language in the options), else the system's locale.
    """
    settings = QgsSettings()
    user_locale = settings.value("locale/userLocale", "", type=str)
    if settings.value("locale/overrideFlag", False, type=bool) and user_locale:
        return user_locale
    return QLocale.system().name()


def install_translator(locale: str | None = None) -> QTranslator | None:
    """Install i18n/hyperfuse_<locale>.qm (else the language's, fr_CA → fr) for :func:`tr` and
    :func:`translate`; None when there is no translation (English is the source language).

    The caller keeps the returned translator and passes it to :func:`remove_translator`:
    Qt does not own it, and Python would delete it, and with it the translation.
    """
    locale = locale if locale is not None else qgis_locale()
    for code in dict.fromkeys((locale, locale.split("_")[0])):
        path = os.path.join(I18N_DIR, f"hyperfuse_{code}.qm")
        translator = QTranslator()
        if code and os.path.isfile(path) and translator.load(path):
            QCoreApplication.installTranslator(translator)
            return translator
    return None


def remove_translator(translator: QTranslator | None) -> None:
    if translator is not None:
        QCoreApplication.removeTranslator(translator)
