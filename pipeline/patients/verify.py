"""A candidate patient's own values, looked for in what the header shows.

`verified(doc, rec, reading, weights)` returns the document side of the comparison for one
candidate: every field a label gave stays as read (a labelled value that disagrees still
disagrees); every field no label gave is filled with what the header zones show of *this*
candidate's value, found OCR-tolerantly (`reading.find_*`), or left empty. So the comparison
levels and their weights are the model's own, whichever way a value was read.

Evidence only ever counts where it is real:
- a date read day-first where month-first was possible counts as "day and month transposed",
  never as exact; a date or number one digit off counts as close, which blocks auto-filing;
- an MRN, phone or address found only counts for the patient it belongs to; the same number
  belonging to another candidate sends the document to review ("belongs to another patient");
- a name is found only as family and given next to each other; a family name beside another
  given name reads as "family agrees, given differs" (a twin), which blocks auto-filing;
- names on lines about someone else (a clinician, a guarantor, a parent) are never read.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from pipeline.patients import comparisons as cmp
from pipeline.patients import normalize
from pipeline.patients.nicknames import NICKNAMES
from pipeline.patients.reading import HeaderReading, Seen, find_address, find_name, find_value
from pipeline.records import DocumentIdentifiers, Evidence

def verified(doc: dict, rec: dict, reading: HeaderReading, weights: dict) -> tuple[dict, dict]:
    """(document-side features for this candidate, {identifier field: (value, seen)} of the
    values found unlabelled that agree with it)."""
    out = dict(doc)
    found: dict[str, tuple[object, tuple[Seen, ...]]] = {}
    if not (doc["family"] or doc["given"]):
        _name(out, found, rec, reading, weights)
    if not doc["dob"] and rec["dob"]:
        _birth_date(out, found, rec["dob"], reading)
    if not doc["mrn"]:
        _number(out, found, "mrn", rec["mrns"], reading.numbers)
    if not doc["phone"]:
        _number(out, found, "phone", rec["phones"], reading.phones)
    if not (doc["address"] or doc["postcode"]):
        _address(out, found, rec["addresses"], reading)
    if not doc["sex"] and reading.sex is not None and reading.sex.value in ("M", "F"):
        out["sex"] = reading.sex.value
        found["sex"] = (reading.sex.value, (reading.sex,))
    return out, found


def printed_in_full(rec: dict, reading: HeaderReading) -> bool:
    """Whether the header shows this candidate's whole name (family and given, exactly as the index
    holds one of its names) and its birth date, exactly: a person the page names beyond doubt."""
    if not rec["dob"] or find_value(reading.dates, rec["dob"])[0] != 2:
        return False
    for _use, family, given, _fk, _gk, full_family in rec["names"]:
        seen = find_name(reading, full_family or family, given) if given else None
        if seen is not None and seen.family == normalize.compact(full_family or family) and seen.given == given:
            return True
    return False


def _name(out: dict, found: dict, rec: dict, reading: HeaderReading, weights: dict) -> None:
    best: tuple[float, dict, object] | None = None
    for _use, family, given, family_key, given_key, full_family in rec["names"]:
        seen = find_name(reading, full_family or family, given)
        if seen is None:
            continue
        side = {"family": seen.family, "given": seen.given, "family_key": normalize.phonetic(seen.family),
                "given_key": normalize.phonetic(seen.given), "nicks": sorted(NICKNAMES.get(seen.given, ()))}
        theirs = {"family": family, "given": given, "family_key": family_key, "given_key": given_key,
                  "nicks": sorted(NICKNAMES.get(given, ()))}
        level = cmp.level_name(side, theirs)
        if best is None or weights["name"][level] > best[0]:
            best = (weights["name"][level], side, (level, seen))
    if best is None:
        return
    out.update(best[1])
    level, seen = best[2]
    if cmp.LEVELS["name"][level].verdict in (cmp.A, cmp.C):
        found["family_name"] = (seen.family, seen.evidence[:-1])
        found["given_name"] = (seen.given, seen.evidence[-1:])


def _swap(digits: str) -> str:
    return digits[:4] + digits[6:8] + digits[4:6]


def _birth_date(out: dict, found: dict, dob: str, reading: HeaderReading) -> None:
    quality, seen = find_value(reading.dates, dob)
    if not quality:
        return
    if quality == 2:
        out["dob"], out["dob_dm"] = dob, _swap(dob)
        found["birth_date"] = (date(int(dob[:4]), int(dob[4:6]), int(dob[6:])), (seen,))
    elif seen.transposed and seen.value == dob:
        out["dob"], out["dob_dm"] = _swap(dob), dob  # printed month-first, it is another date
    else:
        out["dob"], out["dob_dm"] = seen.value, _swap(seen.value)  # one digit off


def _number(out: dict, found: dict, key: str, theirs: list[str], seen_values: tuple[Seen, ...]) -> None:
    """An MRN or phone of the candidate's among the numbers seen: exact, or one digit off."""
    close = None
    for value in theirs:
        quality, seen = find_value(seen_values, value)
        if quality == 2:
            out[key] = value
            found[key] = (value, (seen,))
            return
        if quality == 1 and close is None:
            close = seen.value
    if close:
        out[key] = close  # one digit off: evidence against, never for


def _address(out: dict, found: dict, addresses: list[tuple[str, str]], reading: HeaderReading) -> None:
    for line, postcode in addresses:
        seen = find_address(reading, line)
        if seen is not None:
            out["address"] = line
            found["address"] = (line, (seen,))
            return
    for _line, postcode in addresses:
        quality, seen = find_value(reading.postcodes, postcode)
        if quality == 2:
            out["postcode"] = postcode
            found["postcode"] = (postcode, (seen,))
            return


def found_identifiers(ids: DocumentIdentifiers, found: dict) -> DocumentIdentifiers:
    """`ids` with the values found unlabelled (for the best candidate) filled in, each with its
    evidence: page and box, no label."""
    values: dict[str, object] = {}
    evidence = list(ids.evidence)
    for field, (value, seen) in found.items():
        if getattr(ids, field) or not value or not seen:
            continue
        values[field] = value
        boxes = [s.box for s in seen if s.box]
        evidence.append(Evidence(field, " ".join(s.printed for s in seen), seen[0].source, seen[0].page,
                                 _union(boxes), seen[0].label))
    return replace(ids, **values, evidence=tuple(evidence)) if values else ids


def _union(boxes: list[tuple[int, int, int, int]]) -> tuple[int, int, int, int] | None:
    if not boxes:
        return None
    left, top = min(b[0] for b in boxes), min(b[1] for b in boxes)
    return (left, top, max(b[0] + b[2] for b in boxes) - left, max(b[1] + b[3] for b in boxes) - top)
