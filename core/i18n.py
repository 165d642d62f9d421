"""Marks the texts of the core that the Processing UI shows (setting labels, option labels, help).

The core runs without Qt, so it only marks: pylupdate5 (``make i18n``) extracts every
``QT_TRANSLATE_NOOP("HyperFuse", "…")`` literal into i18n/*.ts, and the algorithms translate
the value where they show it (algorithms/i18n.py). The context must be the literal
"HyperFuse": pylupdate5 reads the source text, not Python values.
"""


def QT_TRANSLATE_NOOP(context: str, text: str) -> str:  # noqa: N802 (the name pylupdate5 looks for)
    return text


class Text(str):
    """A text composed of a template and values that reads as its English composition (``str``) and
    that algorithms/i18n.py's ``tr`` translates part by part: the template, and every value that is a text.

    Composed texts (a method's name in a display name, a registry's labels in a help text) are
    in no .ts file; their template and their parts are. ``Text + str`` is a plain ``str``
    again, so compose with a template, not with ``+``.
    """

    def __new__(cls, template: str, **values):
        text = super().__new__(cls, template.format(**values))
        text.template, text.values = template, values
        return text

    def __getnewargs_ex__(self):
        # Copies and pickles rebuild the text from its parts, not from the composed English.
        return (self.template,), self.values


def joined(separator: str, texts) -> Text:
    """``separator.join(texts)`` as a :class:`Text`, so that each of ``texts`` is translated on its own (a
    template of placeholders and separators needs no translation, and has none)."""
    texts = list(texts)
    template = separator.replace("{", "{{").replace("}", "}}").join(f"{{t{i}}}" for i in range(len(texts)))
    return Text(template, **{f"t{i}": text for i, text in enumerate(texts)})
