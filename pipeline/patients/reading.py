"""Everything in a document's header zones that could identify the patient, read without labels.

`read_header(ocr) -> HeaderReading` collects, from the header zones (the first lines of page 1,
the first lines of every later page: continuation headers) and the footer zones (the last two
lines of every page), every

    date that could be a birth date, in every common form; a numeric date that reads both ways
      (03/04/1980) gives both readings, the day-first one marked `transposed`
    digit run that could be an MRN (OCR confusions O/0, l/1, S/5, B/8 undone)
    phone number and five-digit postcode
    word that could be part of a name, in reading order, with its line

each with its page and box. Nothing here decides anything: the matcher looks these up in the
index (`blocking_keys`) and verifies each candidate patient's own name, birth date, MRN, phone,
address and sex against them (`verify`), so a name printed plainly with no label, a garbled label,
a sticker, a grid or an "RE:" line is read as well as a labelled field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from pipeline.patients import normalize
from pipeline.patients.nicknames import NICKNAMES
from pipeline.records import OcrResult

FIRST_PAGE_LINES = 20  # header zone of page 1 (a letterhead, a date and an address block, then RE:)
LATER_PAGE_LINES = 5  # continuation header of later pages
FOOTER_LINES = 2  # footer zone of every page: "DOE, JANE  DOB ...  MRN ...  Printed ...  Page 1 of 2"
MAX_NAME_KEYS = 80

Box = tuple[int, int, int, int] | None


@dataclass(frozen=True, slots=True)
class Seen:
    """One value seen on the paper: normalised value, as printed, where."""

    value: str
    printed: str
    page: int
    box: Box
    line: int = 0  # index of the line in the header zone
    transposed: bool = False  # a date read day-first where month-first was also possible
    source: str = "text"  # or "barcode": a bare number on a label, read as the number it may be
    label: str = ""  # the barcode's format


@dataclass(frozen=True, slots=True)
class HeaderReading:
    dates: tuple[Seen, ...] = ()  # value YYYYMMDD
    numbers: tuple[Seen, ...] = ()  # MRN-like digit runs
    phones: tuple[Seen, ...] = ()  # 10 digits
    postcodes: tuple[Seen, ...] = ()
    words: tuple[Seen, ...] = ()  # name-like words (normalised, letters only), in reading order
    lines: tuple[Seen, ...] = ()  # each header line, normalised as an address is
    sex: Seen | None = None

    def birth_dates(self) -> list[date]:
        return sorted({date(int(s.value[:4]), int(s.value[4:6]), int(s.value[6:])) for s in self.dates})

    def name_keys(self) -> list[str]:
        keys = {normalize.phonetic(w.value) for w in self.words if len(w.value) > 1}
        return sorted(k for k in keys if k)[:MAX_NAME_KEYS]


_DIGIT = re.compile(r"\d")
_DIGITISH = "0-9OolISB|"
_NUMBER = re.compile(rf"(?<![A-Za-z0-9])[{_DIGITISH}](?:[{_DIGITISH}\-]{{3,14}})[{_DIGITISH}](?![A-Za-z0-9])")
_PHONE = re.compile(r"(?<!\d)\(?\d{3}\)?[\s.\-]{0,2}\d{3}[\s.\-]\d{4}(?!\d)")
_POSTCODE = re.compile(r"(?<![\d\-/])\d{5}(?:-\d{4})?(?![\d/\-])")
_WORD = re.compile(r"[A-Za-z0-9']+")
_SEX_WORD = re.compile(r"(?i)(?<![A-Za-z])(male|female|man|woman)(?![A-Za-z])")
#: a tick box just before a word ("[X] Female", "( ) Male"), and a tick in one
_BOX_BEFORE = re.compile(r"[\[({|][^\])}|]{0,3}[\])}|]\s*$")
_TICK = re.compile(r"[XxVv✓✔×*]")
#: words that mark a line about someone else (a clinician, a guarantor, a parent): the names on
#: such a line are not the patient's
_OTHER_PERSON = re.compile(
    r"(?i)\b(?:dr|md|m\.d|pa-c|np|rn|phd|physician|provider|attending|referring|referred|ordering|"
    r"signed|surgeon|radiologist|pathologist|consultant|practice|sincerely|dear|cc|guarantor|"
    r"insured|subscriber|policy\s*holder|mother|father|parent|guardian|spouse|emergency|"
    r"next\s+of\s+kin|responsible|contact\s+person|relationship|interpreter|witness)\b")
#: a label that names the patient as the insured too ("Patient/Insured", "Subscriber Pt"): not
#: someone else
_PATIENT_INSURED = re.compile(r"(?i)\b(?:patient|pt|paciente)\W{0,3}(?:insured|subscriber|policy\s*holder)\b|"
                              r"\b(?:insured|subscriber|policy\s*holder)\W{0,3}(?:patient|pt)\b")
#: a clinician's title: only the name beside it is someone else's, not its whole column
_TITLE = re.compile(r"(?i)dr|md|m\.d|pa-c|np|rn|phd")
_PREFIX_TITLE = re.compile(r"(?i)dr")
#: up to three name words after "Dr." / before "MD", stopping at a date, a number or a field separator
_NAME_RUN_AFTER = re.compile(r"\.?(?:[\s,]+[A-Za-z][A-Za-z'.\-]*){1,3}")
_NAME_RUN_BEFORE = re.compile(r"(?:[A-Za-z][A-Za-z'.\-]*[\s,]+){1,3}$")
#: a column of a line: words apart by single spaces (`extract.lines_of` marks a wide gap with two)
_COLUMN = re.compile(r"\S+(?: \S+)*")
#: a date just after one of these words is the date of something else than a birth
_OTHER_DATE = re.compile(
    r"(?i)\b(?:service|collected|received|reported|admi(?:t|tted|ssion)|discharged?|surgery|procedure|"
    r"exam|visit|seen|signed|printed|faxed|sent|dated|appointment|ordered|result(?:ed)?|specimen|"
    r"verified|dictated|transcribed|from|to)\b")
_STOP = frozenset("""PATIENT NAME NAMES DOB DATE BIRTH BORN MRN MR MED REC RECORD NUMBER NO SEX GENDER
    PHONE TEL ADDRESS ACCOUNT ACCT VISIT FIN ID UNIT HOSP HOSPITAL CHART PAGE OF AND THE FOR RE TO
    FROM CLINIC MEDICAL CENTER HEALTH GENERAL REPORT NOTE SUMMARY MALE FEMALE AGE YR YRS YEARS OLD
    ST AVE RD DR LN BLVD CT PL WAY APT STE SUITE STREET AVENUE ROAD DRIVE LANE
    LAST FIRST GIVEN FAMILY SURNAME FORENAME FORENAMES MIDDLE LEGAL
    PACIENTE NOMBRE NOMBRES APELLIDO APELLIDOS FECHA NACIMIENTO NAC SEXO DOMICILIO DIRECCION TELEFONO
    EXPEDIENTE CUENTA EDAD
    JR SR II III IV ILL MR MRS MS MX MISS""".split())  # the Spanish of US bilingual forms' labels;
# generational suffixes ("HICKS III, RAYMOND", OCR's "Ill") and courtesy titles are not name words


@lru_cache(maxsize=65536)
def _word_value(raw: str) -> str:
    return normalize.compact(normalize.name(raw))


def header_lines(ocr: OcrResult) -> list[tuple[int, str, tuple]]:
    """(page, text, word spans) of each line of the header zones."""
    # the same line assembly as the labelled reader, without the blocks about someone else
    from pipeline.patients.extract import patient_lines

    out: list[tuple[int, str, tuple]] = []
    if not ocr.pages:
        return out
    pages: dict[int, list] = {}
    for line in patient_lines(ocr):
        if line.text.strip():
            pages.setdefault(line.page, []).append(line)
    for page, lines in pages.items():
        limit = FIRST_PAGE_LINES if page == ocr.pages[0].number else LATER_PAGE_LINES
        # the header zone, then the footer zone (an EHR print's foot line) where it is apart from it
        for zone in (lines[:limit], lines[max(limit, len(lines) - FOOTER_LINES):]):
            out += [(line.page, line.text, line.words) for line in zone]
            out.append((page, "", ()))  # a gap: no name runs on from one zone into the next
    return out


def _box(spans: tuple, start: int, end: int) -> Box:
    boxes = [w.box for s, e, w in spans if s < end and e > start]
    if not boxes:
        return None
    left, top = min(b[0] for b in boxes), min(b[1] for b in boxes)
    return (left, top, max(b[0] + b[2] for b in boxes) - left, max(b[1] + b[3] for b in boxes) - top)


def read_header(ocr: OcrResult, *, today: date | None = None) -> HeaderReading:
    today = today or date.today()
    dates: dict[tuple, Seen] = {}
    numbers: list[Seen] = []
    phones: list[Seen] = []
    postcodes: list[Seen] = []
    words: list[Seen] = []
    lines: list[Seen] = []
    sex: Seen | None = None
    for index, (page, text, spans) in enumerate(header_lines(ocr)):
        taken: list[tuple[int, int]] = []
        digits = _DIGIT.search(text) is not None
        for start, end, value, transposed in (_dates(text, today) if digits else ()):
            if _OTHER_DATE.search(text, max(0, start - 24), start):
                taken.append((start, end))
                continue  # "Date of service: 03/04/2024", "Collected 4/9/26": not a birth date
            key = (value, transposed, page, start)
            dates[key] = Seen(normalize.date_digits(value), text[start:end], page, _box(spans, start, end),
                              index, transposed)
            if not text[start:end].isdigit():  # eight bare digits may as well be an MRN: both readings
                taken.append((start, end))
        for match in _PHONE.finditer(text) if digits else ():
            phones.append(Seen(normalize.phone(match.group(0)), match.group(0), page,
                               _box(spans, *match.span()), index))
            taken.append(match.span())
        for match in _NUMBER.finditer(text) if digits else ():
            start, end = match.span()
            if any(s <= start < e or s < end <= e for s, e in taken):
                continue
            value = normalize.identifier(match.group(0))
            if value.isdigit() and 5 <= len(value) <= 12:
                numbers.append(Seen(value, match.group(0), page, _box(spans, start, end), index))
                if len(value) == 5:
                    postcodes.append(numbers.pop())
        # about someone else: the column (text between wide gaps) naming a clinician, a guarantor...
        elsewhere = _about_someone_else(text)
        for match in _WORD.finditer(text):
            someone_else = any(start <= match.start() < end for start, end in elsewhere)
            raw = match.group(0)
            if sum(c.isdigit() for c in raw) > len(raw) / 2:
                continue
            if any(s <= match.start() < e for s, e in taken):
                continue  # the month of "May 25 1959" is not a given name
            before = text[max(0, match.start() - 2):match.start()]
            if len(raw) == 1 and len(before) == 2 and before[0].isalpha() and before[1] == "(":
                continue  # the plural of a label, "Apellido(s)", "Forename(s)", is not an initial
            value = _word_value(raw)
            if not value or value in _STOP or someone_else:
                continue
            words.append(Seen(value, raw, page, _box(spans, *match.span()), index))
        if sex is None and (found := _sex_on_line(text)):
            sex = Seen(normalize.sex(found.group(1)) or "", found.group(1), page, _box(spans, *found.span()), index)
        if digits:  # a street line has a house number
            lines.append(Seen(normalize.address(text), text, page, None, index))
    for barcode in reversed(ocr.barcodes):
        # a bare number in a barcode may be the MRN, or an admission or accession number (a
        # wristband's): like a digit run in the header, it counts only where the index confirms it
        # (and, read without OCR slips, it is the evidence shown first)
        value = normalize.identifier(barcode.text.strip())
        if ":" not in barcode.text and value.isdigit() and 5 <= len(value) <= 12:
            numbers.insert(0, Seen(value, barcode.text.strip(), barcode.page, barcode.box, -1,
                                   source="barcode", label=barcode.format))
    return HeaderReading(tuple(dates.values()), tuple(numbers), tuple(phones), tuple(postcodes),
                         tuple(words), tuple(lines), sex)


def _about_someone_else(text: str) -> list[tuple[int, int]]:
    """Spans of the line whose names are someone else's: the whole column (text between wide
    gaps) that names a guarantor, a parent, an attending or referring clinician...; where the
    column's only mark is a clinician's title ("J. PETROV MD" on a pharmacy label's one dense
    line, "Dr. Ines Marchetti"), just the name beside the title, up to a date, a number or a
    field separator."""
    spans: list[tuple[int, int]] = []
    for column in _COLUMN.finditer(text):
        words = _PATIENT_INSURED.sub(lambda m: " " * len(m.group(0)), column.group(0))
        marks = list(_OTHER_PERSON.finditer(words))
        if not marks:
            continue
        if any(not _TITLE.fullmatch(m.group(0)) for m in marks):
            spans.append(column.span())
            continue
        for mark in marks:
            start, end = column.start() + mark.start(), column.start() + mark.end()
            if _PREFIX_TITLE.fullmatch(mark.group(0)):
                after = _NAME_RUN_AFTER.match(text, end)
                spans.append((start, after.end() if after else end))
            else:
                before = _NAME_RUN_BEFORE.search(text, column.start(), start)
                spans.append((before.start() if before else start, end))
    return spans


def _sex_on_line(text: str) -> re.Match | None:
    """The sex a line states: its one sex word, or on a form with tick boxes ("[ ] Male  [X]
    Female") the one ticked. Both words with nothing to choose between them state nothing."""
    found = list(_SEX_WORD.finditer(text))
    boxed = [(m, _BOX_BEFORE.search(text, max(0, m.start() - 6), m.start())) for m in found]
    if any(box for _, box in boxed):
        found = [m for m, box in boxed if box and _TICK.search(box.group(0))]
    sexes = {normalize.sex(m.group(1)) for m in found}
    return found[0] if len(sexes) == 1 else None


def _dates(text: str, today: date):
    """(start, end, date, transposed) for every date in the line that could be a birth date."""
    for pattern in normalize.DATE_PATTERNS:
        for match, value in normalize.find_dates(pattern, text, today, True):
            if value >= today:
                continue
            yield match.start(), match.end(), value, False
            if pattern is normalize.MONTH_FIRST and value.day <= 12 and value.day != value.month:
                # 03/04/1980 read month-first; the day-first reading is kept, marked, for blocking
                # and as evidence against (never for) a patient born on 3 April
                if normalize.int_digits(match.group("m")) == value.month:
                    yield match.start(), match.end(), date(value.year, value.day, value.month), True


# ------------------------------------------------------------------------------ verification


def _close(a: str, b: str) -> bool:
    """Same word allowing OCR slips: one edit, two for long words."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 2 or min(len(a), len(b)) < 4:
        return False
    return DamerauLevenshtein.distance(a, b) <= (2 if min(len(a), len(b)) >= 8 else 1)


def _shape(word: str) -> str:
    """A word as OCR confuses it: l/1/I all read I, rn reads m ('Wi11iam' and 'WILLIAM' alike)."""
    return word.replace("L", "I").replace("RN", "M")


def _given_matches(word: str, given: str) -> tuple[int, str]:
    """(2 same name, nickname or OCR look-alike; 1 close: typo or initial; 0 no, the given name read)."""
    if word == given or _shape(word) == _shape(given):
        return 2, given
    if word in NICKNAMES.get(given, ()) or given in NICKNAMES.get(word, ()):
        return 2, word
    if _close(word, given) or (len(word) == 1 and given.startswith(word)):
        return 1, word
    return 0, word


def _family_at(words: tuple[Seen, ...], i: int, family: str, parts: frozenset[str]) -> tuple[int, int]:
    """(quality 2 exact / 1 close / 0 no, number of words used) for `family` starting at word i;
    a double or hyphenated surname may be printed as two words, joined, or one of its parts."""
    word = words[i].value
    if word == family or _shape(word) == _shape(family):
        return 2, 1
    if i + 1 < len(words) and words[i + 1].line - words[i].line <= 1 and word + words[i + 1].value == family:
        return 2, 2
    if _close(word, family):
        return 1, 1
    if word in parts:
        return 1, 1
    return 0, 0


def _family_starts(values: list[str], family: str, parts: frozenset[str]) -> list[int]:
    """Positions of the words where the family name may start (the fuzzy ones found in C)."""
    near = {i for _, _, i in process.extract(family, values, scorer=DamerauLevenshtein.distance,
                                             score_cutoff=2, limit=None)}
    shape = _shape(family)
    near.update(i for i, v in enumerate(values)
                if v in parts or (len(v) > 1 and family.startswith(v)) or _shape(v) == shape)
    return sorted(near)


@dataclass(frozen=True, slots=True)
class NameSeen:
    family: str  # the words as read (normalised, compact)
    given: str  # the word beside the family name ('' when there is none)
    evidence: tuple[Seen, ...]


def find_name(reading: HeaderReading, family: str, given: str) -> NameSeen | None:
    """The patient's name among the header words: family and given next to each other (either
    order, across a line break too), allowing OCR slips, nicknames, initials and double surnames.
    When only the family name is there, the word beside it most like the given name (on the same
    line first) is returned as the given name read (so a twin's name reads as "family agrees,
    given differs", and a badly garbled given name is still the one compared)."""
    words = reading.words
    fam, giv = normalize.compact(family), normalize.compact(given)
    if not (fam and words):
        return None
    split = [normalize.compact(p) for p in re.split(r"[ \-']", family)]
    parts = frozenset(p for p in split if len(p) > 2) if len(split) > 1 else frozenset()
    best: tuple[tuple[int, bool, int], NameSeen] | None = None
    for i in _family_starts([w.value for w in words], fam, parts):
        word = words[i]
        quality, used = _family_at(words, i, fam, parts)
        if not quality:
            continue
        # a typo stays a typo (the comparison calls it close); a part of a double surname, or the
        # two halves of one printed apart, stand for the whole surname
        read_family = word.value if quality == 1 and _close(word.value, fam) else fam
        for j in (i + used, i - 1, i + used + 1, i - 2):
            if not (0 <= j < len(words)) or abs(words[j].line - word.line) > 1:
                continue
            given_quality, read_given = _given_matches(words[j].value, giv) if giv else (0, words[j].value)
            apart = j in (i + used + 1, i - 2)  # a word between it and the surname
            if given_quality == 1 and (apart or (len(words[j].value) == 1 and _full_word_beside(words, i, used, j))):
                # "TIMOTHY BARBER M", "ROGERS, ADAM M": the M is the sex, not MICHAEL's or MARK's
                # initial; only the word next to the surname is read as the given name, and one
                # further off only when it is the very name (a typo there is another person's)
                continue
            score = (quality + given_quality * 2, words[j].line == word.line,
                     -DamerauLevenshtein.distance(words[j].value, giv))
            if best is None or score > best[0]:
                best = (score, NameSeen(read_family, read_given, (*words[i:i + used], words[j])))
        if giv and (best is None or best[0][0] <= 2) and _alone_on_line(words, i, used):
            # a form with the surname and the given name in fields of their own ("Last Name: DOE",
            # "First Name: JANE"), the given one perhaps in another column read as another block
            for j, other in enumerate(words):
                given_quality, read_given = _given_matches(other.value, giv)
                if given_quality and other.page == word.page and _alone_on_line(words, j, 1):
                    score = (quality + given_quality * 2, False, -DamerauLevenshtein.distance(other.value, giv))
                    if best is None or score > best[0]:
                        best = (score, NameSeen(read_family, read_given, (*words[i:i + used], other)))
    return best[1] if best else None


def _alone_on_line(words: tuple[Seen, ...], i: int, used: int) -> bool:
    """Whether words i to i+used-1 are the only name words of their line (labels are not name words)."""
    line = words[i].line
    return not any(w.line == line for k, w in enumerate(words) if not i <= k < i + used)


def _full_word_beside(words: tuple[Seen, ...], i: int, used: int, j: int) -> bool:
    """Whether a word of two letters or more sits on the other side of the surname (words i to
    i+used-1) from word j, on the surname's line."""
    other = i - 1 if j >= i + used else i + used
    return 0 <= other < len(words) and words[other].line == words[i].line and len(words[other].value) > 1


def find_value(seen: tuple[Seen, ...], wanted: str) -> tuple[int, Seen | None]:
    """(2 exact, 1 one digit off / transposed, 0 none) of `wanted` among values seen."""
    if not wanted:
        return 0, None
    close: Seen | None = None
    for s in seen:
        if s.value == wanted and not s.transposed:
            return 2, s
        if close is None and (s.value == wanted or DamerauLevenshtein.distance(s.value, wanted) <= 1):
            close = s
    return (1, close) if close else (0, None)


def find_address(reading: HeaderReading, line: str) -> Seen | None:
    """A header line holding the patient's street line (normalised), exactly or nearly."""
    if not line:
        return None
    for seen in reading.lines:
        if line in seen.value:
            return seen
    first = line.split(" ", 1)[0]
    for seen in reading.lines:
        if first.isdigit() and first in seen.value.split():
            tail = seen.value[seen.value.index(first):][:len(line)]
            if DamerauLevenshtein.distance(tail, line) <= 2:
                return seen
    return None
