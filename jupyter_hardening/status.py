"""The live report of a running server: computed once at startup, re-checked on an interval."""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from .report import Report, evaluate
from .snapshot import Snapshot, refresh_files

if TYPE_CHECKING:
    from .config import Hardening
    from .diagnosis import Diagnosis


class LiveReport:
    """Caches the report; re-reads certificate and file facts at most once per interval."""

    def __init__(
        self,
        snapshot: Snapshot,
        hardening: Hardening,
        report: Report | None = None,
        provenance: Any = None,
    ):
        # provenance.Provenance: where each value came from, attached again after a re-check;
        # or a function that makes it, called on the first read (extension.audit_with).
        self._provenance = provenance
        self._snapshot = snapshot
        self._refuse_at = hardening.refuse_at
        self._accepted = dict(hardening.accepted_risks)
        self.interval = hardening.recheck_interval
        self._report = report or evaluate(snapshot, self._refuse_at, self._accepted)
        self._checked = time.monotonic()
        self._lock = threading.Lock()
        # Live proxy findings (JH71x), merged in only when their counts moved (see diagnosis.py).
        self.diagnosis: Diagnosis | None = None
        self._merged: tuple[Report, int, Report] | None = None

    @property
    def last(self) -> Report:
        """The report last computed, without re-checking (a fallback when a re-check fails)."""
        return self._report

    def _due(self) -> bool:
        # Compared as a sum, not a difference: (a + i) - a can round below i for large a.
        return time.monotonic() >= self._checked + self.interval

    def current(self) -> Report:
        """The cached report, refreshed first when the interval has passed."""
        if callable(self._provenance):  # a Provenance is not callable: only the function is
            with self._lock:
                if callable(self._provenance):
                    self._attach_provenance()
        if self._due():
            with self._lock:
                if self._due():
                    self._snapshot = refresh_files(self._snapshot)
                    self._report = evaluate(self._snapshot, self._refuse_at, self._accepted)
                    if self._provenance is not None:
                        from .provenance import attach

                        self._report = attach(self._report, self._provenance)
                    self._checked = time.monotonic()
        return self._with_diagnosis(self._report)

    def _attach_provenance(self) -> None:
        """Find where each setting came from (deferred from startup) and attach it."""
        from .provenance import attach

        try:
            self._provenance = self._provenance()
            self._report = attach(self._report, self._provenance)
        except Exception as e:
            # The report is served without sources rather than not at all; the exception's
            # text is not logged (it may quote a setting's value).
            self._provenance = None
            logging.getLogger(__name__).warning(
                "[jupyter_hardening] where the settings come from could not be found (%s)",
                type(e).__name__,
            )

    def _with_diagnosis(self, base: Report) -> Report:
        diagnosis = self.diagnosis
        if diagnosis is None or not diagnosis.version:
            return base
        merged = self._merged
        version = diagnosis.version
        if merged is None or merged[0] is not base or merged[1] != version:
            from .diagnosis import merge

            merged = (base, version, merge(base, diagnosis, self._accepted))
            self._merged = merged
        return merged[2]
