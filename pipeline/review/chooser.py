"""The patient chooser: find patients by MRN or by name and birth date, and compare each with what
the document says.

Search goes through the same code the pipeline and the CLI use: an MRN through
`store.commands.patient_id_for_mrn` (exact, follows merges, refuses an MRN two patients hold), a
name and/or birth date through the `Matcher`'s blocking and scoring. What the app shows a clerk about
a patient (name, birth date, sex) is read here; it is never logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from pipeline.errors import NotFoundError, PatientIndexError
from pipeline.patients import index
from pipeline.patients.matcher import Matcher
from pipeline.patients.tables import NAME_OFFICIAL, Name, Patient
from pipeline.records import Candidate, DocumentIdentifiers, FieldVerdict
from pipeline.store.commands import patient_id_for_mrn
from pipeline.store.manifest import Manifest


@dataclass(frozen=True, slots=True)
class PatientChoice:
    """One patient a clerk may file the document to, as the chooser shows them."""

    patient_id: int
    mrn: str
    display_name: str
    birth_date: date | None
    sex: str | None
    birth_date_verdict: FieldVerdict  # the patient's birth date against the document's
    fields: dict[str, str]  # per-field verdicts from the matcher (candidates only)
    probability: float | None = None  # match probability (candidates only)


@dataclass(frozen=True, slots=True)
class SearchResult:
    choices: tuple[PatientChoice, ...]
    message: str | None = None  # why nothing was found, or what to do


def birth_date_verdict(document: date | None, patient: date | None) -> FieldVerdict:
    if document is None or patient is None:
        return FieldVerdict.MISSING
    return FieldVerdict.AGREE if document == patient else FieldVerdict.DISAGREE


def choice_for(manifest: Manifest, patient_id: int, ids: DocumentIdentifiers,
               candidate: Candidate | None = None) -> PatientChoice:
    """A patient of the index (following merges is the caller's job) as the chooser shows them."""
    with manifest.engine.connect() as conn:
        patient = conn.execute(select(Patient.birth_date, Patient.sex).where(Patient.id == patient_id)).first()
        if patient is None:
            raise NotFoundError(f"no patient {patient_id} in the patient index")
        names = conn.execute(select(Name.family, Name.given, Name.use).where(Name.patient_id == patient_id)
                             .order_by(Name.id)).all()
        mrn = index.primary_mrn(conn, patient_id) or (candidate.mrn if candidate else "")
    official = [n for n in names if n.use == NAME_OFFICIAL] or names
    display = f"{official[0].family}, {official[0].given}" if official else (
        candidate.display_name if candidate else "")
    return PatientChoice(
        patient_id=patient_id, mrn=mrn, display_name=display, birth_date=patient.birth_date, sex=patient.sex,
        birth_date_verdict=birth_date_verdict(ids.birth_date, patient.birth_date),
        fields={k: str(v) for k, v in candidate.fields.items()} if candidate else {},
        probability=candidate.probability if candidate else None)


def candidate_choices(manifest: Manifest, candidates: tuple[Candidate, ...],
                      ids: DocumentIdentifiers) -> tuple[PatientChoice, ...]:
    """The matcher's candidates stored with the review item, with their birth dates."""
    out = []
    for candidate in candidates:
        try:
            out.append(choice_for(manifest, candidate.patient_id, ids, candidate))
        except NotFoundError:
            continue  # gone from the index since the item was queued
    return tuple(out)


def search(manifest: Manifest, matcher: Matcher, ids: DocumentIdentifiers, *, mrn: str = "",
           family: str = "", given: str = "", birth_date: date | None = None) -> SearchResult:
    """Patients for an MRN (exact), or else for a name and/or birth date (the matcher's candidates)."""
    if mrn:
        try:
            patient_id = patient_id_for_mrn(manifest, mrn)
        except (NotFoundError, PatientIndexError) as exc:
            return SearchResult((), exc.message)
        return SearchResult((choice_for(manifest, patient_id, ids),))
    if not (family or birth_date):
        return SearchResult((), "give an MRN, or a family name and/or a birth date")
    found = matcher.match(DocumentIdentifiers(family_name=family or None, given_name=given or None,
                                              birth_date=birth_date))
    choices = []
    for candidate in found.candidates:
        try:
            choice = choice_for(manifest, candidate.patient_id, ids)
        except NotFoundError:
            continue
        choices.append(choice)
    if not choices:
        return SearchResult((), "no patient in the index fits; check the spelling and the birth date")
    return SearchResult(tuple(choices))
