"""Look up a patient: by MRN (exact, following merges, refusing an MRN two patients hold), or by name
and/or birth date through the matcher's blocking and scoring; each found patient is compared with
what the document says (the birth-date verdict the review rules need). What is read here about a
patient (name, birth date, sex) is shown to a clerk and never logged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine

from pipeline.errors import NotFoundError, PatientIndexError
from pipeline.patients import lookup
from pipeline.patients.matcher import Matcher
from pipeline.records import Candidate, DocumentIdentifiers, FieldVerdict


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


def patient_id_for_mrn(engine: Engine, mrn: str) -> int:
    """The surviving patient holding this MRN (NotFoundError, or PatientIndexError when ambiguous)."""
    return lookup.patient_id_for_mrn(engine, mrn)


def birth_date_verdict(document: date | None, patient: date | None) -> FieldVerdict:
    if document is None or patient is None:
        return FieldVerdict.MISSING
    return FieldVerdict.AGREE if document == patient else FieldVerdict.DISAGREE


def choice_for(engine: Engine, patient_id: int, ids: DocumentIdentifiers,
               candidate: Candidate | None = None) -> PatientChoice:
    """A patient of the index (following merges is the caller's job) as the chooser shows them."""
    patient = lookup.summary(engine, patient_id)
    if patient.family is not None:
        display = f"{patient.family}, {patient.given}"
    else:
        display = candidate.display_name if candidate else ""
    return PatientChoice(
        patient_id=patient_id, mrn=patient.mrn or (candidate.mrn if candidate else ""), display_name=display,
        birth_date=patient.birth_date, sex=patient.sex,
        birth_date_verdict=birth_date_verdict(ids.birth_date, patient.birth_date),
        fields={k: str(v) for k, v in candidate.fields.items()} if candidate else {},
        probability=candidate.probability if candidate else None)


def candidate_choices(engine: Engine, candidates: tuple[Candidate, ...],
                      ids: DocumentIdentifiers) -> tuple[PatientChoice, ...]:
    """The matcher's candidates stored with the review item, with their birth dates."""
    out = []
    for candidate in candidates:
        try:
            out.append(choice_for(engine, candidate.patient_id, ids, candidate))
        except NotFoundError:
            continue  # gone from the index since the item was queued
    return tuple(out)


def search(engine: Engine, matcher: Matcher, ids: DocumentIdentifiers, *, mrn: str = "",
           family: str = "", given: str = "", birth_date: date | None = None) -> SearchResult:
    """Patients for an MRN (exact), or else for a name and/or birth date (the matcher's candidates)."""
    if mrn:
        try:
            patient_id = patient_id_for_mrn(engine, mrn)
        except (NotFoundError, PatientIndexError) as exc:
            return SearchResult((), exc.message)
        return SearchResult((choice_for(engine, patient_id, ids),))
    if not (family or birth_date):
        return SearchResult((), "give an MRN, or a family name and/or a birth date")
    found = matcher.match(DocumentIdentifiers(family_name=family or None, given_name=given or None,
                                              birth_date=birth_date))
    choices = []
    for candidate in found.candidates:
        try:
            choices.append(choice_for(engine, candidate.patient_id, ids))
        except NotFoundError:
            continue
    if not choices:
        return SearchResult((), "no patient in the index fits; check the spelling and the birth date")
    return SearchResult(tuple(choices))
