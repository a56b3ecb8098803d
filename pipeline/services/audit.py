"""`pipeline audit`: is everything the manifest names still there and intact, and are the charts
complete? The store's own check (`store/audit.py`) plus the chart deficiencies, which need the
patient index: a discharged encounter with no discharge summary for that patient dated from
admission to 30 days after discharge.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from pipeline.patients import lookup
from pipeline.store.audit import DEFICIENCY, AuditReport, Finding, run_audit
from pipeline.store.manifest import Manifest
from pipeline.store.objects import ObjectStore

DISCHARGE_SUMMARY = "discharge_summary"
#: a discharge summary dated up to this long after discharge still completes the chart
DISCHARGE_SUMMARY_WINDOW = timedelta(days=30)


def audit(manifest: Manifest, store: ObjectStore, *, quick: bool = False, journal_check: bool = False,
          today: date | None = None) -> AuditReport:
    report = run_audit(manifest, store, quick=quick, journal_check=journal_check)
    gaps = deficiencies(manifest, today or date.today())
    return replace(report, findings=report.findings + tuple(gaps)) if gaps else report


def deficiencies(manifest: Manifest, today: date) -> list[Finding]:
    """Discharged encounters without a discharge summary in the window, oldest encounter first."""
    encounters = lookup.encounters(manifest.engine, discharged_only=True)
    if not encounters:
        return []
    summaries: dict[int, list[date]] = {}
    for patient_id, day in manifest.filed_days(DISCHARGE_SUMMARY):
        summaries.setdefault(patient_id, []).append(day)
    findings = []
    for encounter in encounters:
        discharged = encounter.end or encounter.start  # always set: discharged_only
        if any(encounter.start <= day <= discharged + DISCHARGE_SUMMARY_WINDOW
               for day in summaries.get(encounter.patient_id, ())):
            continue
        findings.append(Finding(DEFICIENCY, "no-discharge-summary",
                                f"patient {encounter.patient_id}: encounter {encounter.visit_number or encounter.id} "
                                f"discharged {discharged.isoformat()} has no discharge summary "
                                f"({(today - discharged).days} days ago)"))
    return findings
