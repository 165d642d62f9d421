"""Exceptions that cross from the core into the algorithms.

:class:`UserInputError` is a problem with what the user gave (a grid that does not line up,
a wrong band count, an unwritable path). Its message says what is wrong and how to fix it;
the algorithms turn it into a ``QgsProcessingException`` unchanged.
"""


class UserInputError(Exception):
    """Bad input: the message is shown to the user as is."""


class Cancelled(Exception):
    """The user cancelled the run; whatever was being written has been removed."""
