"""Release of information: bundle a patient's current filed documents for an authorized requester
and log the disclosure (date, recipient, what and why) in the access log.

The zip holds the PDFs, `index.json`, and `DocumentReference.ndjson` whose attachment URLs are the
file names in the zip.
"""

from __future__ import annotations

import hashlib
import json
import logging
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.clock import Clock, utc_now
from pipeline.errors import NotFoundError, StorageError
from pipeline.records import DocumentStatus, Outcome
from pipeline.store.fhir import document_reference
from pipeline.store.files import atomic_file
from pipeline.store.manifest import Manifest
from pipeline.store.objects import ObjectStore
from pipeline.store.rows import StoredDocument

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Release:
    patient_mrn: str
    recipient: str
    purpose: str
    documents: tuple[str, ...]
    out: Path

    def to_json(self) -> dict[str, Any]:
        return {"patient_mrn": self.patient_mrn, "recipient": self.recipient, "purpose": self.purpose,
                "documents": list(self.documents), "out": str(self.out)}


def release(manifest: Manifest, store: ObjectStore, *, patient_mrn: str, recipient: str, purpose: str,
            out: Path, actor: str, clock: Clock = utc_now) -> Release:
    """Bundle a patient's current filed documents into `out` (zip) and log the disclosure."""
    if not recipient.strip() or not purpose.strip():
        raise StorageError("a release needs the requester (--to) and the purpose (--purpose); both are logged")
    docs = [d for d in manifest.search(patient_mrn=patient_mrn, status=DocumentStatus.CURRENT, limit=1_000_000)
            if d.outcome is Outcome.FILED]
    if not docs:
        raise NotFoundError(f"no filed documents for MRN {patient_mrn}; check the MRN with `pipeline search`")
    now = clock()
    index, references = [], []
    with atomic_file(out) as handle, zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for doc in sorted(docs, key=lambda d: (d.date_of_service or d.filed_at.date(), d.document_id)):
            key = doc.searchable_key or doc.original_key
            data = store.get(key)
            name = _release_name(doc, key)
            bundle.writestr(name, data)
            index.append({"file": name, "document_id": doc.document_id, "type": doc.type_display or doc.doc_type,
                          "loinc": doc.loinc, "date_of_service": doc.date_of_service.isoformat()
                          if doc.date_of_service else None, "sha256": hashlib.sha256(data).hexdigest()})
            reference = document_reference(doc, lambda k, n=name, key=key: n if k == key else k)
            reference["content"] = [c for c in reference["content"] if c["attachment"]["url"] == name]
            references.append(json.dumps(reference, sort_keys=True))
        bundle.writestr("DocumentReference.ndjson", "\n".join(references) + "\n")
        bundle.writestr("index.json", json.dumps({
            "patient_mrn": patient_mrn, "recipient": recipient, "purpose": purpose, "released_at": now.isoformat(),
            "released_by": actor, "documents": index}, indent=2))
    for doc in docs:
        manifest.record_access(actor, "released", document_id=doc.document_id, patient_mrn=patient_mrn,
                               recipient=recipient, reason=purpose)
    log.info("released %d documents to a requester (%s)", len(docs), out.name)
    return Release(patient_mrn, recipient, purpose, tuple(d.document_id for d in docs), out)


def _release_name(doc: StoredDocument, key: str) -> str:
    when = (doc.date_of_service or doc.filed_at.date()).isoformat()
    return f"{when}_{doc.doc_type or 'document'}_{doc.document_id}{Path(key).suffix}"
