"""Prometheus metrics of the live report, exposed on jupyter_server's ``/metrics``.

A collector rather than gauges: each scrape asks the live report for its current state, which
re-checks certificates and files at most once per ``c.Hardening.recheck_interval``. So the
metrics follow the report even when nobody opens /hardening, and never show stale label sets.
The collector registered at startup is extension.ScrapedReport, which imports this module on
the first scrape.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric

from .rules import Severity

if TYPE_CHECKING:
    from .report import Report
    from .status import LiveReport

VERDICTS = ("ok", "warn", "refuse")


def _families() -> dict[str, GaugeMetricFamily]:
    return {
        "findings": GaugeMetricFamily(
            "jupyter_hardening_findings",
            "Findings of the hardening report per severity, accepted risks left out.",
            labels=["severity"],
        ),
        "accepted": GaugeMetricFamily(
            "jupyter_hardening_accepted_findings",
            "Findings accepted with c.Hardening.accepted_risks.",
        ),
        "verdict": GaugeMetricFamily(
            "jupyter_hardening_verdict",
            "1 for the current verdict of the hardening report (ok, warn, refuse), else 0.",
            labels=["verdict"],
        ),
        "rule": GaugeMetricFamily(
            "jupyter_hardening_rule_findings",
            "Findings per rule, accepted risks left out (only rules that found something).",
            labels=["id", "name", "severity"],
        ),
        "computed": GaugeMetricFamily(
            "jupyter_hardening_report_timestamp_seconds",
            "When the hardening report was last computed (Unix time).",
        ),
        "expiry": GaugeMetricFamily(
            "jupyter_hardening_certificate_expiry_timestamp_seconds",
            "notAfter of ServerApp.certfile (Unix time); absent without a readable certificate.",
        ),
    }


def report_metrics(report: Report) -> list[Metric]:
    """The metric families describing one report."""
    fam = _families()
    counts = report.counts()
    for severity in sorted(Severity, reverse=True):
        fam["findings"].add_metric([severity.label], counts[severity.label])
    fam["accepted"].add_metric([], counts["accepted"])
    for verdict in VERDICTS:
        fam["verdict"].add_metric([verdict], float(report.verdict == verdict))
    per_rule: dict[tuple[str, str, str], int] = {}
    for item in report.items:
        if not item.accepted:
            f = item.finding
            key = (f.id, f.name, f.severity.label)
            per_rule[key] = per_rule.get(key, 0) + 1
    for labels, count in per_rule.items():
        fam["rule"].add_metric(list(labels), count)
    fam["computed"].add_metric([], report.computed_at.timestamp())
    not_after = report.snapshot.tls.not_after
    metrics: list[Metric] = list(fam.values())
    if not_after is not None:
        fam["expiry"].add_metric([], not_after.timestamp())
    else:
        metrics.remove(fam["expiry"])
    return metrics


def collect(live: LiveReport, log: logging.Logger | logging.LoggerAdapter[Any]) -> Iterator[Metric]:
    """The current report's metrics (extension.ScrapedReport calls this on each scrape)."""
    try:
        report = live.current()
    except Exception:
        # A failing re-check must not take jupyter_server's own metrics down with it; the last
        # report computed (at worst the startup one) is still the best answer.
        log.exception("[jupyter_hardening] re-checking the report failed")
        report = live.last
    yield from report_metrics(report)
    yield from diagnosis_metrics(live)


def diagnosis_metrics(live: LiveReport) -> list[Metric]:
    """Requests that showed each proxy fault (JH71x), since the server started."""
    family = CounterMetricFamily(
        "jupyter_hardening_proxy_fault_requests",
        "Requests that showed a reverse-proxy fault, per finding id (see /hardening).",
        labels=["id", "name"],
    )
    diagnosis = live.diagnosis
    if diagnosis is not None:
        from .diagnosis import KINDS  # a Diagnosis exists: the watcher's module is loaded

        for kind, seen in sorted(diagnosis.seen.items()):
            family.add_metric([kind, KINDS[kind].name], seen.count)
    return [family]
