"""The one small object through which the core reports progress and checks for a cancel.

The algorithms wrap ``QgsProcessingFeedback`` in :class:`Feedback`; tests and scripts use
the plain :class:`Feedback` (optionally printing). Progress is always given as a fraction
of a *stage* so that nested steps (train, then infer) can share one progress bar.
"""
from __future__ import annotations

from .errors import Cancelled


class Feedback:
    """Progress, messages and cancellation for core routines.

    ``span(start, end)`` returns a child whose 0..1 progress maps onto ``start..end`` of
    this one, so a routine never needs to know where it sits in a longer run.
    """

    def __init__(self, verbose: bool = False):
        self.verbose = verbose
        self.cancel_requested = False
        self.last_progress = 0.0
        self.messages: list[str] = []

    # What subclasses override -------------------------------------------------------
    def _report_progress(self, percent: float) -> None:
        if self.verbose:
            print(f"  {percent:5.1f} %", flush=True)

    def _report_message(self, text: str) -> None:
        if self.verbose:
            print(text, flush=True)

    def is_cancelled(self) -> bool:
        return self.cancel_requested

    # What the core calls ------------------------------------------------------------
    def progress(self, fraction: float) -> None:
        fraction = min(max(float(fraction), 0.0), 1.0)
        self.last_progress = fraction
        self._report_progress(100.0 * fraction)

    def info(self, text: str) -> None:
        self.messages.append(text)
        self._report_message(text)

    def check_cancelled(self) -> None:
        if self.is_cancelled():
            raise Cancelled("The run was cancelled.")

    def span(self, start: float, end: float) -> "Feedback":
        return _SpanFeedback(self, start, end)

    def cancel_only(self) -> "Feedback":
        """A child that reports nothing and is cancelled with this one: for a step run once per block, whose
        progress the count of blocks already gives."""
        return _CancelOnlyFeedback(self)


class _SpanFeedback(Feedback):
    def __init__(self, parent: Feedback, start: float, end: float):
        super().__init__()
        self.parent, self.start, self.end = parent, start, end

    def progress(self, fraction: float) -> None:
        fraction = min(max(float(fraction), 0.0), 1.0)
        self.last_progress = fraction
        self.parent.progress(self.start + (self.end - self.start) * fraction)

    def info(self, text: str) -> None:
        self.parent.info(text)

    def is_cancelled(self) -> bool:
        return self.parent.is_cancelled()


class _CancelOnlyFeedback(Feedback):
    """Not verbose, so its progress and messages go nowhere; its cancel is its parent's."""

    def __init__(self, parent: Feedback):
        super().__init__()
        self.parent = parent

    def is_cancelled(self) -> bool:
        return self.parent.is_cancelled()
