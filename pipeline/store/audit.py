"""`pipeline audit`: is everything the manifest says still there, intact, and complete?

    damage      an object the manifest names (a filed or queued document, a split batch's
                original under `batches/`, or a quarantined input) is missing, or its bytes no
                longer match their SHA-256
    warning     an orphan object no manifest row names (e.g. a crash between store and manifest),
                a document without OCR text, manifest changes not yet copied to the store's journal

This module checks what the store holds against the manifest; the chart deficiencies (a discharged
encounter without a discharge summary) need the patient index and are added by the audit use case
(`pipeline/services/audit.py`). Any damage makes the command exit with `AuditFailedError` (10).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import asdict, dataclass, field
from typing import Any

from pipeline.errors import IntegrityError, StorageError
from pipeline.store import journal
from pipeline.store.keys import BATCH_PREFIX, DOCUMENT_PREFIXES
from pipeline.store.manifest import Manifest
from pipeline.store.objects import ObjectStore

log = logging.getLogger(__name__)

DAMAGE, WARNING, DEFICIENCY = "damage", "warning", "deficiency"


@dataclass(frozen=True, slots=True)
class Finding:
    severity: str  # damage | warning | deficiency
    kind: str  # missing | hash-mismatch | unreadable | orphan | no-text | no-discharge-summary
    detail: str
    document_id: str | None = None
    key: str | None = None


@dataclass(frozen=True, slots=True)
class AuditReport:
    documents: int
    objects_checked: int
    findings: tuple[Finding, ...] = field(default_factory=tuple)

    @property
    def damaged(self) -> bool:
        return any(f.severity == DAMAGE for f in self.findings)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for finding in self.findings:
            out[finding.kind] = out.get(finding.kind, 0) + 1
        return out

    def to_json(self) -> dict[str, Any]:
        return {"documents": self.documents, "objects_checked": self.objects_checked, "damaged": self.damaged,
                "counts": self.counts(), "findings": [asdict(f) for f in self.findings]}


def run_audit(manifest: Manifest, store: ObjectStore, *, quick: bool = False,
              journal_check: bool = False) -> AuditReport:
    """Check every object the manifest names. `quick` compares the checksum the store recorded at
    write time (sidecar / S3 metadata) instead of reading every byte back. `journal_check` also
    replays the store's NDJSON journal and checks it holds every row as the database has it (so a
    `pipeline reindex` would rebuild the same manifest)."""
    findings: list[Finding] = []
    referenced: set[str] = set()
    verified: dict[str, str] = {}
    documents = 0
    for doc in manifest.iter_documents():
        documents += 1
        pairs = [(doc.original_key, doc.sha256)]
        if doc.searchable_key:
            pairs.append((doc.searchable_key, doc.searchable_sha256 or ""))
        for key, expected in pairs:
            referenced.add(key)
            if key not in verified:
                verified[key] = _check_object(store, key, expected, doc.document_id, findings, quick)
            elif verified[key] != expected:
                findings.append(Finding(DAMAGE, "hash-mismatch", f"two manifest rows give {key} different hashes",
                                        doc.document_id, key))
    for batch in manifest.batch_rows():  # a split batch's original, kept whole
        key = batch["original_key"]
        referenced.add(key)
        if key not in verified:
            verified[key] = _check_object(store, key, batch["sha256"], None, findings, quick, what="batch original")
    for event in manifest.intake_events("rejected"):
        key = event["quarantine_key"]
        if key and key not in verified:
            # a rejected input's bytes (hash known when it could be read) or just its reason
            expected = event["sha256"] if not key.endswith(".reason.txt") else None
            verified[key] = _check_quarantined(store, key, expected, findings)
    for prefix in (*DOCUMENT_PREFIXES, BATCH_PREFIX):
        for key in store.iter_keys(prefix):
            if key not in referenced:
                findings.append(Finding(WARNING, "orphan", "object not named by any manifest row", key=key))
    for document_id in manifest.documents_without_text():
        findings.append(Finding(WARNING, "no-text", "no OCR text: the document cannot be found by text search",
                                document_id))
    if journal_check:
        findings.extend(_journal_gaps(manifest, store))
    pending = manifest.pending_journal_events()
    if pending:
        findings.append(Finding(WARNING, "journal-pending", f"{pending} manifest changes are not yet in the store's "
                                "NDJSON journal; any store command with the store reachable copies them"))
    report = AuditReport(documents, len(verified), tuple(findings))
    log.info("audit: %d documents, %d objects checked, %s", documents, len(verified), report.counts() or "no findings")
    return report


def _check_object(store: ObjectStore, key: str, expected: str, document_id: str | None, findings: list[Finding],
                  quick: bool, what: str = "") -> str:
    try:
        head = store.head(key)
        if head is None:
            findings.append(Finding(DAMAGE, "missing", f"{what or 'object'} is missing from the store", document_id, key))
            return expected
        actual = head.sha256 if quick else hashlib.sha256(store.get(key)).hexdigest()
    except IntegrityError as exc:
        findings.append(Finding(DAMAGE, "hash-mismatch", exc.message, document_id, key))
        return expected
    except StorageError as exc:
        findings.append(Finding(DAMAGE, "unreadable", exc.message, document_id, key))
        return expected
    if actual != expected:
        findings.append(Finding(DAMAGE, "hash-mismatch",
                                f"{what + ': ' if what else ''}SHA-256 is {actual[:12]}..., the manifest recorded "
                                f"{expected[:12]}...",
                                document_id, key))
    return expected


def _check_quarantined(store: ObjectStore, key: str, expected: str | None, findings: list[Finding]) -> str:
    try:
        data = store.get(key)
    except IntegrityError as exc:
        findings.append(Finding(DAMAGE, "hash-mismatch", exc.message, key=key))
        return ""
    except StorageError:
        findings.append(Finding(DAMAGE, "missing", "quarantined input is missing from the store", key=key))
        return ""
    actual = hashlib.sha256(data).hexdigest()
    if expected and actual != expected:
        findings.append(Finding(DAMAGE, "hash-mismatch", f"quarantined input: SHA-256 is {actual[:12]}..., "
                                f"intake recorded {expected[:12]}...", key=key))
    return actual


def _journal_gaps(manifest: Manifest, store: ObjectStore) -> list[Finding]:
    manifest.flush_journal(store)
    found = journal.collect(store)
    findings = []
    for doc in manifest.iter_documents():
        held = found.documents.get(doc.document_id)
        if held is None:
            findings.append(Finding(WARNING, "journal-missing", "the store's journal does not know this document; "
                                    "run `pipeline reindex --snapshot`", doc.document_id))
        elif int(held.get("revision") or 1) != doc.revision:
            findings.append(Finding(WARNING, "journal-stale", f"the journal holds revision {held.get('revision')}, "
                                    f"the database {doc.revision}; run `pipeline reindex --snapshot`", doc.document_id))
    for batch in manifest.batch_rows():  # recorded before batches were journaled
        held = found.batches.get(batch["sha256"])
        if held is None or (batch["completed_at"] is not None and held.get("completed_at") is None):
            findings.append(Finding(WARNING, "journal-missing" if held is None else "journal-stale",
                                    f"the store's journal does not hold this batch{' as completed' if held else ''}; "
                                    "run `pipeline reindex --snapshot`", key=batch["original_key"]))
    journaled = {journal.intake_identity(event) for event in found.intake.values()}
    for event in manifest.intake_events():  # recorded before duplicates and rejections were journaled
        if journal.intake_identity(event) not in journaled:
            what = "duplicate" if event["kind"] == "duplicate" else "rejection"
            findings.append(Finding(WARNING, "journal-missing", f"the store's journal does not know this {what} "
                                    f"(intake event {event['id']}); run `pipeline reindex --snapshot`",
                                    event["document_id"], event["quarantine_key"]))
    return findings


def format_table(report: AuditReport) -> str:
    lines = [f"{report.documents} documents, {report.objects_checked} objects checked: "
             + (", ".join(f"{n} {k}" for k, n in sorted(report.counts().items())) or "no findings")]
    if report.findings:
        lines.append(f"{'SEVERITY':<11} {'KIND':<21} {'DOCUMENT':<37} DETAIL")
        for f in report.findings:
            detail = f.detail + (f" [{f.key}]" if f.key else "")
            lines.append(f"{f.severity:<11} {f.kind:<21} {f.document_id or '-':<37} {detail}")
    return "\n".join(lines)
