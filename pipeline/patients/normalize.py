"""Normalising identifiers so the index and the paper compare like with like.

Names are upper-case ASCII letters (accents folded, OCR digit confusions 0/1/5/8 mapped back to
letters); identifiers such as MRNs get the reverse mapping (O->0, l->1, S->5, ...). Phonetic keys are
metaphone. Birth dates are parsed from every common US form and from written months.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from functools import lru_cache

import jellyfish


_LETTER_FOR_DIGIT = str.maketrans({"0": "O", "1": "I", "5": "S", "8": "B", "6": "G", "2": "Z", "4": "A", "|": "I"})
_DIGIT_FOR_LETTER = str.maketrans(
    {"O": "0", "o": "0", "Q": "0", "I": "1", "l": "1", "i": "1", "|": "1", "L": "1",
     "S": "5", "s": "5", "B": "8", "Z": "2", "z": "2", "G": "6"}
)
_NAME_JUNK = re.compile(r"[^A-Z' -]")
_SPACES = re.compile(r"\s+")
_NAME_SUFFIXES = {"JR", "SR", "II", "III", "IV", "MD", "DO", "PHD", "RN"}
_NAME_PREFIXES = {"MR", "MRS", "MS", "MISS", "DR"}


def fold(text: str) -> str:
    """Accents removed, upper case."""
    if text.isascii():
        return text.upper()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).upper()


@lru_cache(maxsize=65536)
def name(text: str | None) -> str:
    """A name part as compared: upper-case letters, OCR digits mapped back, titles/suffixes dropped."""
    if not text:
        return ""
    value = fold(text.strip()).translate(_LETTER_FOR_DIGIT)
    value = _NAME_JUNK.sub(" ", value.replace(".", " "))
    words = [w.strip("-'") for w in _SPACES.split(value) if w.strip("-'")]
    words = [w for w in words if w not in _NAME_SUFFIXES and w not in _NAME_PREFIXES] or words
    return " ".join(words)


def compact(text: str) -> str:
    """A normalised name without spaces, hyphens or apostrophes (for string similarity)."""
    return re.sub(r"[^A-Z]", "", text)


@lru_cache(maxsize=65536)
def phonetic(text: str) -> str:
    """Metaphone key of a normalised name ('' for none)."""
    letters = compact(text)
    return jellyfish.metaphone(letters)[:32] if letters else ""


def first_given(text: str) -> str:
    """The first given name of a normalised given-name string."""
    return text.split(" ", 1)[0] if text else ""


def identifier(text: str | None) -> str:
    """An MRN / account number as compared: OCR letter confusions mapped to digits when the value
    is mostly digits, separators removed, leading zeros kept."""
    if not text:
        return ""
    if text.isdigit():
        return text
    value = re.sub(r"[\s\-./]", "", text.strip())
    digits = sum(c.isdigit() for c in value)
    if value and digits >= len(value) / 2:
        value = value.translate(_DIGIT_FOR_LETTER)
    return value.upper()


_NON_DIGITS = re.compile(r"\D")


def phone(text: str | None) -> str:
    """The last 10 digits of a phone number ('' when fewer than 7 digits)."""
    if not text:
        return ""
    digits = _NON_DIGITS.sub("", text if text.isdigit() else str(text).translate(_DIGIT_FOR_LETTER))
    if len(digits) < 7:
        return ""
    return digits[-10:]


_SEX = {"M": "M", "F": "F", "W": "F", "U": "U", "O": "U", "X": "U"}


def sex(text: str | None) -> str | None:
    if not text:
        return None
    return _SEX.get(text.strip()[:1].upper())


_ADDRESS_WORDS = {
    "STREET": "ST", "AVENUE": "AVE", "AV": "AVE", "ROAD": "RD", "DRIVE": "DR", "LANE": "LN",
    "BOULEVARD": "BLVD", "COURT": "CT", "PLACE": "PL", "TERRACE": "TER", "CIRCLE": "CIR",
    "HIGHWAY": "HWY", "PARKWAY": "PKWY", "APARTMENT": "APT", "SUITE": "STE", "NORTH": "N",
    "SOUTH": "S", "EAST": "E", "WEST": "W", "UNIT": "APT", "#": "APT",
}


_ADDRESS_JUNK = re.compile(r"[^A-Z0-9# ]")
_FIVE_DIGITS = re.compile(r"\d{5}")


def address(text: str | None) -> str:
    """A street line as compared: upper case, punctuation dropped, common words abbreviated."""
    if not text:
        return ""
    words = _ADDRESS_JUNK.sub(" ", fold(text)).split()
    get = _ADDRESS_WORDS.get
    return " ".join([get(w, w) for w in words])


def postcode(text: str | None) -> str:
    if not text:
        return ""
    if len(text) == 5 and text.isdigit():
        return text
    match = _FIVE_DIGITS.search(str(text).translate(_DIGIT_FOR_LETTER))
    return match.group(0) if match else ""


# ------------------------------------------------------------------------------------- dates

MONTHS = {
    "JAN": 1, "JANUARY": 1, "FEB": 2, "FEBRUARY": 2, "MAR": 3, "MARCH": 3, "APR": 4, "APRIL": 4,
    "MAY": 5, "JUN": 6, "JUNE": 6, "JUL": 7, "JULY": 7, "AUG": 8, "AUGUST": 8, "SEP": 9, "SEPT": 9,
    "SEPTEMBER": 9, "OCT": 10, "OCTOBER": 10, "NOV": 11, "NOVEMBER": 11, "DEC": 12, "DECEMBER": 12,
}
_MONTH_RE = r"(?P<mon>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_D = r"[0-9OolISB]"
# 01/02/1980, 1-2-80, 01.02.1980 (US: month first)
MONTH_FIRST = re.compile(rf"(?<!\d)(?P<m>{_D}{{1,2}})\s?[-/.]\s?(?P<d>{_D}{{1,2}})\s?[-/.]\s?(?P<y>{_D}{{4}}|{_D}{{2}})(?!\d)")
DATE_PATTERNS = (
    # 1980-01-02, 1980/01/02
    re.compile(rf"(?P<y>{_D}{{4}})[-/.](?P<m>{_D}{{1,2}})[-/.](?P<d>{_D}{{1,2}})(?!\d)"),
    MONTH_FIRST,
    # January 2, 1980 / Jan 2 1980 / Jan. 02, 1980
    re.compile(rf"(?i)(?<![A-Z]){_MONTH_RE}[\s\-]*(?P<d>{_D}{{1,2}})(?:st|nd|rd|th)?,?[\s\-]*(?P<y>{_D}{{4}})(?!\d)"),
    # 2 January 1980 / 02-Jan-1980 / 2nd Jan 1980
    re.compile(rf"(?i)(?<!\d)(?P<d>{_D}{{1,2}})(?:st|nd|rd|th)?[\s\-]*{_MONTH_RE}[\s\-,]*(?P<y>{_D}{{4}}|{_D}{{2}})(?!\d)"),
    # 01021980 (eight digits, month first)
    re.compile(r"(?<!\d)(?P<m>[01]\d)(?P<d>[0-3]\d)(?P<y>(?:19|20)\d\d)(?!\d)"),
    # 19800102 (eight digits, year first: device printouts, HL7-style exports)
    re.compile(r"(?<!\d)(?P<y>(?:18|19|20)\d\d)(?P<m>[01]\d)(?P<d>[0-3]\d)(?!\d)"),
)


def int_digits(text: str) -> int:
    return int(text.translate(_DIGIT_FOR_LETTER))


def parse_date(text: str, *, today: date | None = None, past: bool = True) -> tuple[date, int, int] | None:
    """The first date in `text`, as (date, start, end) of the match; None if there is none.

    Month-first like US paper; a day-first date is accepted only when the first number cannot be a
    month (13..31). Two-digit years are placed in the past when `past` (birth dates)."""
    today = today or date.today()
    best: tuple[date, int, int] | None = None
    for pattern in DATE_PATTERNS:
        for match, parsed in find_dates(pattern, text, today, past):
            if best is None or match.start() < best[1]:
                best = (parsed, match.start(), match.end())
            break
    return best


def find_dates(pattern: re.Pattern[str], text: str, today: date, past: bool):
    """(match, date) for each date of one pattern in `text`, retrying one character on after a
    match that is no date (so the "B. 01" of "D.O.B. 01/02/1980" does not hide the date)."""
    pos = 0
    while (match := pattern.search(text, pos)) is not None:
        parsed = build_date(match, today, past)
        if parsed is None:
            pos = match.start() + 1
            continue
        yield match, parsed
        pos = match.end()


def build_date(match: re.Match[str], today: date, past: bool) -> date | None:
    """The date a DATE_PATTERNS match spells (month first unless the month cannot be one)."""
    groups = match.groupdict()
    if any(groups.get(k) and not any(c.isdigit() for c in groups[k]) for k in ("y", "m", "d")):
        return None  # an OCR letter may stand for a digit, but not a whole number of them ("D.O.B.")
    try:
        year = int_digits(groups["y"])
        day = int_digits(groups["d"])
        month = MONTHS[groups["mon"].upper()] if groups.get("mon") else int_digits(groups["m"])
    except (ValueError, KeyError):
        return None
    if len(groups["y"]) == 2:
        year += 2000
        if past and year > today.year:
            year -= 100
    if month > 12 and day <= 12 and not groups.get("mon"):
        month, day = day, month
    try:
        value = date(year, month, day)
    except ValueError:
        return None
    if not 1880 <= value.year <= today.year + 1:
        return None
    return value


def date_digits(value: date | None) -> str:
    return value.strftime("%Y%m%d") if value else ""
