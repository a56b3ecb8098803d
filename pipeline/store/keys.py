"""Where things live in the object store. Keys are written once and never reused.

    patients/<patient id>/<doc type>/<yyyy>/<document id>.pdf            filed, searchable copy
    originals/patients/<patient id>/<doc type>/<yyyy>/<document id>.<ext> filed, the untouched original
    review/<yyyy>/<mm>/<document id>.pdf                                  queued for review, searchable copy
    originals/review/<yyyy>/<mm>/<document id>.<ext>                      queued for review, original
    batches/<yyyy>/<mm>/<batch sha256>.<ext>                              a batch file split into documents, whole
    quarantine/<yyyy>/<mm>/<dd>/<sha256 prefix>-<file name>               rejected input, as received
        ...<file name>.<HHMMSSffffff>-<random>.reason.txt                 why, one per rejection
    manifest/<yyyy>/<mm>/<dd>/<stamp>-<seq>-<document id>.ndjson          journal: one event per object
    manifest/<yyyy>/<mm>/<dd>/<stamp>-<seq>-snapshot.ndjson               journal: the whole manifest

`<yyyy>` is the year of the date of service found on the paper, else of the day it was received.
A refiled or merged document keeps its keys: the manifest, not the key, says whose it is.
"""

from __future__ import annotations

import re
from datetime import date, datetime

FILED_PREFIX = "patients/"
ORIGINALS_PREFIX = "originals/"
REVIEW_PREFIX = "review/"
QUARANTINE_PREFIX = "quarantine/"
BATCH_PREFIX = "batches/"
MANIFEST_PREFIX = "manifest/"

#: the prefixes that hold documents (everything an audit expects the manifest to know about)
DOCUMENT_PREFIXES = (FILED_PREFIX, ORIGINALS_PREFIX, REVIEW_PREFIX)

EXTENSIONS = {
    "application/pdf": ".pdf",
    "image/tiff": ".tif",
    "image/png": ".png",
    "image/jpeg": ".jpg",
}

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def extension_for(media_type: str, original_name: str = "") -> str:
    """The extension the original keeps: from its media type, else its own name's, else `.bin`."""
    if media_type in EXTENSIONS:
        return EXTENSIONS[media_type]
    suffix = _safe(original_name.rsplit(".", 1)[-1].lower()) if "." in original_name else ""
    return f".{suffix}" if 0 < len(suffix) <= 5 else ".bin"


def filed_keys(patient_id: int, doc_type: str, when: date, document_id: str, extension: str) -> tuple[str, str]:
    """(original key, searchable-copy key) for a document filed to a patient."""
    tail = f"patients/{int(patient_id)}/{_safe(doc_type)}/{when.year:04d}/{document_id}"
    return f"{ORIGINALS_PREFIX}{tail}{extension}", f"{tail}.pdf"


def review_keys(when: date, document_id: str, extension: str) -> tuple[str, str]:
    """(original key, searchable-copy key) for a document waiting in the review queue."""
    tail = f"review/{when.year:04d}/{when.month:02d}/{document_id}"
    return f"{ORIGINALS_PREFIX}{tail}{extension}", f"{tail}.pdf"


def batch_key(received_at: datetime, sha256: str, extension: str) -> str:
    return f"{BATCH_PREFIX}{received_at:%Y/%m}/{sha256}{extension}"


def quarantine_key(received_at: datetime, tag: str, original_name: str) -> str:
    stamp = received_at.strftime("%Y/%m/%d")
    return f"{QUARANTINE_PREFIX}{stamp}/{_safe(tag)}-{_safe(original_name) or 'unnamed'}"


def manifest_key(at: datetime, sequence: int, document_id: str) -> str:
    """Sortable by time, then by a per-process sequence, so a replay applies events in order."""
    return (f"{MANIFEST_PREFIX}{at:%Y/%m/%d}/{at:%Y%m%dT%H%M%S%f}-{sequence:08d}-{document_id}.ndjson")


def _safe(part: str) -> str:
    return _UNSAFE.sub("_", part).strip("._")[:120]
