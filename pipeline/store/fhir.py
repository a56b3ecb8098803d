"""A manifest row as a FHIR R4 DocumentReference (a plain dict, ready for JSON).

    status            current | entered-in-error (checked here: fhir.resources does not check codes)
    docStatus         final when filed, preliminary while it waits in the review queue or while its
                      type awaits a clerk's confirmation ("content unverified", R4 composition-status)
    type              LOINC document code;  category: clinical-note. A type not yet confirmed says so
                      in `type.text` and in an extension on `type` (TYPE_CONFIRMED_URL, valueBoolean false)
    subject           Patient/<patient id> with the MRN as identifier (absent while in review)
    date              the filing instant, with time zone
    content           the searchable PDF and the untouched original: contentType, url, size,
                      hash (base64 SHA-1 of the bytes), title (original file name), creation (scan time)
    context.period    the date of service found on the paper
    context.sourcePatientInfo  a contained Patient: what the paper itself said about the patient
    relatesTo         replaces -> the entry a refile corrected
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from pipeline.records import DocumentIdentifiers, DocumentStatus, Encounter, Outcome
from pipeline.store.rows import StoredDocument

LOINC = "http://loinc.org"
CATEGORY_SYSTEM = "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category"
MRN_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v2-0203"
DOCUMENT_ID_SYSTEM = "urn:ietf:rfc:3986"
SEX_TO_GENDER = {"M": "male", "F": "female", "U": "unknown", "O": "other"}
ALLOWED_STATUS = {str(DocumentStatus.CURRENT), str(DocumentStatus.ENTERED_IN_ERROR), "superseded"}
#: extension on DocumentReference.type: false while the type awaits a clerk's confirmation
TYPE_CONFIRMED_URL = "urn:pipeline:fhir:StructureDefinition:type-confirmed"
TYPE_UNCONFIRMED_NOTE = "type awaits confirmation"


def document_reference(doc: StoredDocument, url_for: Callable[[str], str] = lambda key: key,
                       mrn_system: str = "urn:pipeline:mrn", encounter: Encounter | None = None) -> dict[str, Any]:
    """The DocumentReference for one manifest row. `url_for(key)` turns a store key into a URL;
    `encounter` is the visit the date of service falls in, when the patient index knows it."""
    status = str(doc.status)
    if status not in ALLOWED_STATUS:
        raise ValueError(f"document {doc.document_id}: status {status!r} is not a DocumentReference status")
    resource: dict[str, Any] = {
        "resourceType": "DocumentReference",
        "id": doc.document_id,
        "masterIdentifier": {"system": DOCUMENT_ID_SYSTEM, "value": f"urn:uuid:{doc.document_id}"},
        "identifier": [{"system": "urn:pipeline:sha256", "value": doc.sha256}],
        "status": status,
        "docStatus": "final" if doc.outcome is Outcome.FILED and doc.type_confirmed else "preliminary",
        "category": [{"coding": [{"system": CATEGORY_SYSTEM, "code": "clinical-note", "display": "Clinical Note"}]}],
        "date": _instant(doc.filed_at),
        "content": [],
    }
    if doc.loinc:
        resource["type"] = {"coding": [{"system": LOINC, "code": doc.loinc,
                                        **({"display": doc.type_display} if doc.type_display else {})}],
                            "text": doc.type_display or doc.doc_type}
        if not doc.type_confirmed:
            resource["type"]["text"] = f"{resource['type']['text']} ({TYPE_UNCONFIRMED_NOTE})"
            resource["type"]["extension"] = [{"url": TYPE_CONFIRMED_URL, "valueBoolean": False}]
    else:
        resource["type"] = {"text": "not yet typed (in the review queue)"}
    if doc.patient_id is not None and doc.outcome is Outcome.FILED:
        resource["subject"] = {"reference": f"Patient/{doc.patient_id}", "identifier": _mrn(doc.patient_mrn, mrn_system)}
    if doc.searchable_key:
        resource["content"].append({"attachment": _attachment(
            "application/pdf", url_for(doc.searchable_key), doc.searchable_size, doc.searchable_sha1,
            f"{doc.original_name} (searchable PDF)", doc.received_at)})
    resource["content"].append({"attachment": _attachment(
        doc.media_type, url_for(doc.original_key), doc.size, doc.sha1, doc.original_name, doc.received_at)})
    context: dict[str, Any] = {}
    if doc.date_of_service:
        context["period"] = {"start": doc.date_of_service.isoformat(), "end": doc.date_of_service.isoformat()}
    source = _source_patient(doc.source_patient_info, mrn_system)
    if source is not None:
        resource["contained"] = [source]
        context["sourcePatientInfo"] = {"reference": "#source-patient"}
    if encounter is not None:
        reference: dict[str, Any] = {"reference": f"Encounter/{encounter.id}"}
        if encounter.visit_number:
            reference["identifier"] = {"value": encounter.visit_number}
        context["encounter"] = [reference]
    if context:
        resource["context"] = context
    if doc.relates_to:
        resource["relatesTo"] = [{"code": doc.relates_code or "replaces",
                                  "target": {"reference": f"DocumentReference/{doc.relates_to}"}}]
    return resource


def encounter_for(doc: StoredDocument, encounters: Mapping[int, list[Encounter]]) -> Encounter | None:
    """The patient's encounter whose admission..discharge covers the date of service (latest first)."""
    if doc.patient_id is None or doc.date_of_service is None:
        return None
    covering = [e for e in encounters.get(doc.patient_id, ()) if e.covers(doc.date_of_service)]
    return max(covering, key=lambda e: e.start) if covering else None


def _attachment(content_type: str, url: str, size: int | None, sha1: str | None, title: str,
                creation: datetime) -> dict[str, Any]:
    out: dict[str, Any] = {"contentType": content_type, "url": url, "title": title, "creation": _instant(creation)}
    if size is not None:
        out["size"] = int(size)
    if sha1:
        out["hash"] = base64.b64encode(bytes.fromhex(sha1)).decode()
    return out


def _mrn(mrn: str | None, system: str) -> dict[str, Any]:
    return {"type": {"coding": [{"system": MRN_TYPE_SYSTEM, "code": "MR"}]}, "system": system, "value": mrn or ""}


def _source_patient(ids: DocumentIdentifiers, mrn_system: str) -> dict[str, Any] | None:
    patient: dict[str, Any] = {"resourceType": "Patient", "id": "source-patient"}
    if ids.family_name or ids.given_name:
        name: dict[str, Any] = {"use": "usual"}
        if ids.family_name:
            name["family"] = ids.family_name
        if ids.given_name:
            name["given"] = [ids.given_name]
        patient["name"] = [name]
    if ids.birth_date:
        patient["birthDate"] = ids.birth_date.isoformat()
    if ids.sex in SEX_TO_GENDER:
        patient["gender"] = SEX_TO_GENDER[ids.sex]
    if ids.mrn:
        patient["identifier"] = [_mrn(ids.mrn, mrn_system)]
    if ids.phone:
        patient["telecom"] = [{"system": "phone", "value": ids.phone}]
    if ids.address or ids.postcode:
        address: dict[str, Any] = {}
        if ids.address:
            address["line"] = [ids.address]
        if ids.postcode:
            address["postalCode"] = ids.postcode
        patient["address"] = [address]
    return patient if len(patient) > 2 else None


def _instant(value: datetime | date) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("a FHIR instant needs a time zone")
        return value.isoformat()
    return value.isoformat()
