"""Patient identifiers printed on a document: `extract_identifiers(ocr) -> DocumentIdentifiers`.

Labelled fields are read line by line ("Patient: DOE, JANE", "DOB: 01/02/1980", "MRN: 123456",
"Sex:", "Phone:", "Address:", "Account #", "Accession #", "Date of Service:"); several fields may
share a line. Each value carries `Evidence`: page, the box of its words, and the label.

Barcodes (cover sheets, patient labels) take precedence over text. Payload format, defined here:
    MRN:123456|DOB:1980-01-02|TYPE:11488-4|NAME:DOE^JANE|SEX:F|ACCT:998877
keys in any order and case, separated by '|' or ';', any subset; or a bare number (4-20
letters/digits, mostly digits), which `parse_barcode` reports as a possible MRN but the labelled
reader does not take: a wristband's barcode often carries the admission number, so the header
reader offers a bare number to the index like any digit run (`reading.py`). TYPE is a LOINC
document code. A barcode that is neither is ignored.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date

from pipeline.patients import normalize
from pipeline.records import Barcode, DocumentIdentifiers, Evidence, OcrResult, Word

log = logging.getLogger(__name__)

_O = "[O0o]"
_B = "[B8b]"
_LABELS: tuple[tuple[str, str, bool], ...] = (
    # (field, regex, colon required)
    ("birth_date", rf"d\.?\s?{_O}\.?\s?{_B}\.?|date\s+{_O}f\s+{_B}irth|{_B}irth\s*date", False),
    ("mrn", r"m\.?\s?r\.?\s?n\.?|mr\s*#|medical\s+record\s*(?:number|no\.?|#)?|"
            r"med\.?\s*rec(?:ord)?\.?\s*(?:#|no\.?|number)?|chart\s*(?:#|no\.?|number)|"
            r"patient\s+id|pt\.?\s*id|unit\s+(?:#|no\.?|number)", False),
    ("account", r"account\s*(?:#|no\.?|number)?|acct\.?\s*(?:#|no\.?|number)?|fin\s*#?|"
                r"visit\s*(?:#|no\.?|number)|encounter\s*(?:#|no\.?|number)", False),
    ("accession", r"accession\s*(?:#|no\.?|number)?|acc\.?\s*#", False),
    ("date_of_service", r"date\s+{o}f\s+service|d\.?{o}\.?s\.?|service\s+date|visit\s+date|"
                        r"date\s+{o}f\s+visit|encounter\s+date|admi(?:t|ssion)\s+date|exam\s+date|"
                        r"date\s+{o}f\s+exam|collection\s+date|collected".replace("{o}", _O), True),
    ("sex", r"[S5]ex|gender", False),
    ("phone", r"(?:home\s+|cell\s+|mobile\s+|work\s+)?(?:phone|tel(?:ephone)?)\s*(?:#|no\.?)?", True),
    ("address", r"address|addr\.?", True),
    ("name", r"pat[il]ent(?:'s)?\s+name|pt\.?\s+name|name\s+{o}f\s+pat[il]ent|pat[il]ent|name".replace("{o}", _O), True),
)
_LABEL_RE = re.compile(
    "|".join(
        rf"(?P<{field}>(?<![A-Za-z])(?:{pattern})(?![A-Za-z])\s*{':' if colon else '[:#]?'}\s*)"
        for field, pattern, colon in _LABELS
    ),
    re.IGNORECASE,
)
_STRONG_LABELS = {"birth_date", "mrn", "sex", "phone", "account", "accession"}
#: a word before an MRN label that makes it another facility's record number
_FOREIGN = re.compile(r"(?i)\b(?:their|outside|external|sending|referring|transferring|other|foreign|"
                      r"visiting|previous\s+facility|facility's)\W*$")
_MRN_TOKEN = re.compile(r"[A-Za-z0-9|][A-Za-z0-9|\-]{3,23}")
_SEX_RE = re.compile(r"(?i)^\s*(male|female|m|f|unknown|u)\b")
_ZIP_RE = re.compile(r"\b(\d{5})(?:-\d{4})?\s*$")
_DIGIT_RE = re.compile(r"\d")


@dataclass(frozen=True, slots=True)
class _Line:
    page: int
    text: str
    words: tuple[tuple[int, int, Word], ...]  # (start, end, word) spans in text


def extract_identifiers(ocr: OcrResult, *, today: date | None = None) -> DocumentIdentifiers:
    """The identifiers printed on the document; barcodes first, then labelled text."""
    found: dict[str, object] = {}
    evidence: dict[str, Evidence] = {}
    for barcode in ocr.barcodes:
        _read_barcode(barcode, found, evidence)
    for line in patient_lines(ocr):
        _read_line(line, found, evidence, today)
    log.debug("identifiers found: %s", sorted(found))
    return DocumentIdentifiers(
        family_name=found.get("family_name"),  # type: ignore[arg-type]
        given_name=found.get("given_name"),  # type: ignore[arg-type]
        birth_date=found.get("birth_date"),  # type: ignore[arg-type]
        mrn=found.get("mrn"),  # type: ignore[arg-type]
        sex=found.get("sex"),  # type: ignore[arg-type]
        phone=found.get("phone"),  # type: ignore[arg-type]
        address=found.get("address"),  # type: ignore[arg-type]
        postcode=found.get("postcode"),  # type: ignore[arg-type]
        account=found.get("account"),  # type: ignore[arg-type]
        accession=found.get("accession"),  # type: ignore[arg-type]
        date_of_service=found.get("date_of_service"),  # type: ignore[arg-type]
        doc_type_hint=found.get("doc_type_hint"),  # type: ignore[arg-type]
        evidence=tuple(evidence.values()),
    )


def extract_from_text(text: str, *, today: date | None = None) -> DocumentIdentifiers:
    """Identifiers from plain text (no boxes): for `pipeline match --document` and benchmarks."""
    from pipeline.records import OcrPage

    page = OcrPage(number=1, text=text, confidence=-1.0)
    return extract_identifiers(OcrResult(pages=(page,), searchable_pdf=None, engine="text"), today=today)


# ------------------------------------------------------------------------------------ barcodes


def parse_barcode(text: str) -> dict[str, str]:
    """The fields of one of our barcode payloads ({} when it is not one)."""
    raw = text.strip()
    if ":" in raw:
        fields: dict[str, str] = {}
        for part in re.split(r"[|;]", raw):
            key, sep, value = part.partition(":")
            if sep and value.strip():
                fields[key.strip().upper()] = value.strip()
        known = {"MRN", "DOB", "TYPE", "NAME", "SEX", "ACCT"}
        return {k: v for k, v in fields.items() if k in known}
    if re.fullmatch(r"[A-Za-z0-9\-]{4,20}", raw) and sum(c.isdigit() for c in raw) >= len(raw) / 2:
        return {"MRN": raw}
    return {}


def _read_barcode(barcode: Barcode, found: dict, evidence: dict) -> None:
    fields = parse_barcode(barcode.text)
    if not fields or ":" not in barcode.text:
        # a bare number may be an admission or accession number as well as an MRN: it is not
        # taken as the MRN here; the header reader offers it to the index (`reading.py`)
        return

    def put(name: str, value: object, shown: str) -> None:
        if name not in found:
            found[name] = value
            evidence[name] = Evidence(name, shown, "barcode", barcode.page, barcode.box, barcode.format)

    if "MRN" in fields:
        put("mrn", normalize.identifier(fields["MRN"]), fields["MRN"])
    if "DOB" in fields:
        parsed = normalize.parse_date(fields["DOB"])
        if parsed:
            put("birth_date", parsed[0], fields["DOB"])
    if "TYPE" in fields:
        put("doc_type_hint", fields["TYPE"], fields["TYPE"])
    if "NAME" in fields:
        family, _, given = fields["NAME"].partition("^")
        if family.strip():
            put("family_name", normalize.name(family), family)
        if given.strip():
            put("given_name", normalize.name(given), given)
    if "SEX" in fields and normalize.sex(fields["SEX"]):
        put("sex", normalize.sex(fields["SEX"]), fields["SEX"])
    if "ACCT" in fields:
        put("account", normalize.identifier(fields["ACCT"]), fields["ACCT"])


# --------------------------------------------------------------------------------------- lines


def lines_of(ocr: OcrResult) -> list[_Line]:
    """The text lines of every page, words left to right, with their word spans (for boxes)."""
    lines: list[_Line] = []
    for page in ocr.pages:
        if not page.words:
            lines.extend(_Line(page.number, text, ()) for text in page.text.splitlines())
            continue
        by_line: dict[int, list[Word]] = {}
        for word in page.words:
            by_line.setdefault(word.line, []).append(word)
        for number in sorted(by_line):
            words = sorted(by_line[number], key=lambda w: w.box[0])
            text, spans = "", []
            previous: Word | None = None
            for word in words:
                if previous is not None:
                    gap = word.box[0] - (previous.box[0] + previous.box[2])
                    # a wide gap separates columns: keep it visible as two spaces
                    text += "  " if gap > 2 * max(previous.box[3], 1) else " "
                spans.append((len(text), len(text) + len(word.text), word))
                text += word.text
                previous = word
            lines.append(_Line(page.number, text, tuple(spans)))
    return lines


#: words of a heading that opens a block about someone else: a registration face sheet's guarantor
#: or insured, a parent, an emergency contact, the referring physician
_PARTY_WORDS = frozenset("""guarantor guarantors responsible insured insureds subscriber subscribers policy holder
    policyholder emergency kin parent parents guardian guardians mother father spouse referring ordering
    primary care pcp provider physician doctor""".split())
#: words a heading may carry beside those without naming anyone ("RESPONSIBLE PARTY (IF OTHER THAN
#: PATIENT)", "GUARANTOR INFORMATION")
_HEADING_FILLER = frozenset("""information info details data identification demographics section party contact
    if other than patient pt s of and the to or next person""".split())
_PATIENT_WORDS = frozenset({"patient", "pt", "paciente"})
_PATIENT_HEADING_FILLER = frozenset("information info details data identification demographics section".split())
#: a line that starts with the patient's label: on a two-column form OCR may read the patient's
#: column after the other party's
_PATIENT_FIRST = re.compile(r"(?i)\W*(?:patient|pt|paciente)\b")
#: a heading that ends such a block: the patient's own, or the body's
_BODY_HEADING = re.compile(r"(?i)\b(?:report|results?|note|summary|history|assessment|plan|diagnos[ie]s|findings|"
                           r"impression|medications?|procedure|insurance|encounter|complaint)\b")
#: a block about someone else ends after this many lines at most (a guarantor's name, relationship,
#: birth date, phone, address, employer)
PARTY_BLOCK_LINES = 8


def _heading_words(text: str) -> list[str] | None:
    """The words of a line that could be a heading (letters only, no digits); None if it has digits."""
    if _DIGIT_RE.search(text):
        return None
    return re.findall(r"[a-z]+", label_view(text).lower())


def someone_else(lines: list[_Line]) -> set[int]:
    """Indexes of the lines inside a block about someone else than the patient: from a heading
    that names another party ("RESPONSIBLE PARTY / GUARANTOR", "Emergency contact", "Insured")
    to the patient's own heading, a body heading, the next page or `PARTY_BLOCK_LINES` lines."""
    inside: set[int] = set()
    opened: tuple[int, int] | None = None  # (page, line index) of the open block's heading
    for i, line in enumerate(lines):
        words = _heading_words(line.text)
        if opened is not None:
            if line.page != opened[0] or i - opened[1] > PARTY_BLOCK_LINES:
                opened = None
            elif _PATIENT_FIRST.match(label_view(line.text)) or words and (
                    set(words) <= _PATIENT_WORDS | _PATIENT_HEADING_FILLER or _BODY_HEADING.search(line.text)):
                opened = None  # the patient's own heading or label ("Pt Full Name: ..."), or the body's
        if (words and set(words) & _PARTY_WORDS and set(words) <= _PARTY_WORDS | _HEADING_FILLER
                and (not set(words) & _PATIENT_WORDS or "than" in words)):
            # "Subscriber Pt", "Patient/Insured" alone on a line are the patient's labels; "RESPONSIBLE
            # PARTY (IF OTHER THAN PATIENT)" is not
            opened = (line.page, i)
        if opened is not None:
            inside.add(i)
    return inside


def patient_lines(ocr: OcrResult) -> list[_Line]:
    """`lines_of(ocr)` without the blocks about someone else (`someone_else`): what both readers
    read the patient's identifiers from."""
    lines = lines_of(ocr)
    skip = someone_else(lines)
    return [line for i, line in enumerate(lines) if i not in skip] if skip else lines


def _box(line: _Line, start: int, end: int) -> tuple[int, int, int, int] | None:
    boxes = [w.box for s, e, w in line.words if s < end and e > start]
    if not boxes:
        return None
    left = min(b[0] for b in boxes)
    top = min(b[1] for b in boxes)
    right = max(b[0] + b[2] for b in boxes)
    bottom = max(b[1] + b[3] for b in boxes)
    return (left, top, right - left, bottom - top)


_WORD_WITH_LETTERS = re.compile(r"[A-Za-z0-9|!]*[A-Za-z][A-Za-z0-9|!]*")
_LETTER_FOR_DIGIT = str.maketrans({"0": "O", "1": "I", "5": "S", "8": "B", "6": "G", "|": "I", "!": "I"})


def label_view(text: str) -> str:
    """The line with OCR digit-for-letter slips undone inside words ('PAT1ENT', 'D0B' -> 'PATIENT',
    'DOB'); same length, so positions found here hold in the original text. Numbers stay as they are."""
    return _WORD_WITH_LETTERS.sub(lambda m: m.group(0).translate(_LETTER_FOR_DIGIT), text)


def _labels(text: str) -> list[tuple[str, int, int, str]]:
    """(field, value start, value end, label) for each label on the line."""
    hits: list[tuple[str, int, int, str]] = []  # field, label start, value start, label
    view = label_view(text)
    for match in _LABEL_RE.finditer(view):
        start = match.start()
        before = text[:start]
        # a label starts the line or follows a gap / punctuation, never mid-sentence; the strong
        # ones (DOB:, MRN:, Sex:, Phone: ...) may follow a single space, as OCR text often has
        field = match.lastgroup or ""
        strong = field in _STRONG_LABELS and bool(re.search(r"[:#]\s*$", match.group(0)))
        if (re.search(r"[A-Za-z0-9]", before) and not re.search(r"(\s\s|[|,;]\s*|\t)$", before)
                and not (strong and before.endswith(" "))):
            continue
        if field == "mrn" and _FOREIGN.search(view[max(0, start - 24):start]):
            # "Their MRN:", "Outside MRN", "Sending facility MRN": another hospital's number, never
            # compared with ours as an MRN (the unlabelled reader still tries it against the index)
            field = "foreign_mrn"
        hits.append((field, start, match.end(), text[start:match.end()].strip()))
    result = []
    for i, (field, _, value_start, label) in enumerate(hits):
        value_end = hits[i + 1][1] if i + 1 < len(hits) else len(text)
        result.append((field, value_start, max(value_start, value_end), label))
    return result


def _read_line(line: _Line, found: dict, evidence: dict, today: date | None) -> None:
    for field, start, end, label in _labels(line.text):
        raw = line.text[start:end]
        value = raw.strip(" \t,;|")
        if not value:
            continue
        offset = start + raw.find(value)
        for name, parsed, span in _parse(field, value, today):
            if name in found or parsed in (None, ""):
                continue
            found[name] = parsed
            s, e = offset + span[0], offset + span[1]
            evidence[name] = Evidence(name, line.text[s:e], "text", line.page, _box(line, s, e), label)


def _parse(field: str, value: str, today: date | None):
    """Yield (identifier name, parsed value, (start, end) in value)."""
    whole = (0, len(value))
    if field == "name":
        family, given = split_name(value)
        if family:
            yield "family_name", family, whole
        if given:
            yield "given_name", given, whole
    elif field == "birth_date":
        parsed = normalize.parse_date(value, today=today, past=True)
        if parsed:
            yield "birth_date", parsed[0], (parsed[1], parsed[2])
    elif field in ("mrn", "account", "accession"):
        match = _MRN_TOKEN.search(value)
        if match:
            token = normalize.identifier(match.group(0))
            if sum(c.isdigit() for c in token) >= max(3, len(token) // 2):
                yield field, token, match.span()
    elif field == "sex":
        match = _SEX_RE.match(value)
        if match:
            yield "sex", normalize.sex(match.group(1)), match.span(1)
    elif field == "phone":
        digits = normalize.phone(value[:24])
        if len(digits) == 10:
            yield "phone", digits, whole
    elif field == "address":
        zip_match = _ZIP_RE.search(value)
        street = value.split(",")[0].strip()
        if street and any(c.isdigit() for c in street[:8]):
            yield "address", street, (0, len(street))
        if zip_match:
            yield "postcode", zip_match.group(1), zip_match.span(1)
    elif field == "date_of_service":
        parsed = normalize.parse_date(value, today=today, past=False)
        if parsed:
            yield "date_of_service", parsed[0], (parsed[1], parsed[2])


_NAME_STOP = re.compile(r"\s{2,}|\s+(?:\(|age\b|\d+\s*y)", re.IGNORECASE)


def split_name(value: str) -> tuple[str, str]:
    """(family, given) from 'DOE, JANE Q', 'Jane Q. Doe' or 'DOE JANE' forms, normalised."""
    text = _NAME_STOP.split(value, maxsplit=1)[0]
    if "," in text:
        family, _, given = text.partition(",")
        family_n, given_n = normalize.name(family), normalize.name(given)
        return family_n, normalize.first_given(given_n)
    words = normalize.name(text).split()
    words = [w for w in words if len(w) > 1 or words.index(w) == 0] if len(words) > 2 else words
    if len(words) == 1:
        return words[0], ""  # a surname alone ("Patient: HENSON")
    if not words:
        return "", ""
    return words[-1], words[0]
