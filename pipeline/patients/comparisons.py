"""The comparison levels of the Fellegi-Sunter model, in Python (runtime) and in SQL (training).

Each comparison sorts a (document, patient) pair into one level; the first level whose condition
holds wins. `level_*` functions are used when scoring at runtime; `SPLINK_COMPARISONS` builds the
same levels as Splink comparisons over the same derived columns (see `features`) so that the m/u
probabilities Splink estimates by EM belong to exactly these levels.

Both sides of a pair are *feature records* (dicts) with these keys, all already normalised:
    family, given, family_key, given_key, nicks (list of nickname-family names of `given`),
    dob (YYYYMMDD), dob_dm (DDMM swapped form: YYYYDDMM), mrn, sex, address, postcode, phone
Missing values are '' (Python) / NULL (SQL).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler

from pipeline.patients import normalize
from pipeline.patients.nicknames import NICKNAMES
from pipeline.records import FieldVerdict

NAME_JW = 0.92
ADDRESS_JW = 0.90

A, C, D, M = FieldVerdict.AGREE, FieldVerdict.CLOSE, FieldVerdict.DISAGREE, FieldVerdict.MISSING


@dataclass(frozen=True, slots=True)
class Level:
    label: str
    verdict: FieldVerdict


#: comparison name -> its levels, in order; level 0 is always "null" (not compared).
LEVELS: dict[str, tuple[Level, ...]] = {
    "name": (
        Level("null", M),
        Level("exact", A),
        Level("swapped given/family", C),
        Level("close (typo, phonetic, nickname)", C),
        Level("family agrees, given differs", D),
        Level("given agrees, family differs", D),
        Level("different", D),
    ),
    "birth_date": (
        Level("null", M),
        Level("exact", A),
        Level("day and month transposed", C),
        Level("one digit off", C),
        Level("different", D),
    ),
    "mrn": (Level("null", M), Level("exact", A), Level("one digit off", C), Level("different", D)),
    "sex": (Level("null", M), Level("exact", A), Level("different", D)),
    "address": (
        Level("null", M),
        Level("street exact", A),
        Level("street close", C),
        Level("postcode only", C),
        Level("different", D),
    ),
    "phone": (Level("null", M), Level("exact", A), Level("one digit off", C), Level("different", D)),
}


# ------------------------------------------------------------------------------------ features


def features(
    family: str | None,
    given: str | None,
    birth_date: date | None,
    mrn: str | None = None,
    sex: str | None = None,
    address: str | None = None,
    postcode: str | None = None,
    phone: str | None = None,
) -> dict[str, object]:
    """A feature record from raw values (normalised here)."""
    fam = normalize.compact(normalize.name(family))
    giv = normalize.compact(normalize.first_given(normalize.name(given)))
    dob = normalize.date_digits(birth_date)
    return {
        "family": fam,
        "given": giv,
        "family_key": normalize.phonetic(fam),
        "given_key": normalize.phonetic(giv),
        "nicks": sorted(NICKNAMES.get(giv, ())),
        "dob": dob,
        "dob_dm": dob[:4] + dob[6:8] + dob[4:6] if dob else "",
        "mrn": normalize.identifier(mrn),
        "sex": normalize.sex(sex) if normalize.sex(sex) in ("M", "F") else "",
        "address": normalize.address(address),
        "postcode": normalize.postcode(postcode) or normalize.postcode(_tail(address)),
        "phone": normalize.phone(phone),
    }


def _tail(text: str | None) -> str:
    return text[-12:] if text else ""


# ---------------------------------------------------------------------------- runtime levels


def _jw(a: str, b: str) -> float:
    return JaroWinkler.similarity(a, b)


def edits(a: str, b: str) -> int:
    """Slips between two strings: characters inserted, dropped, replaced, or two swapped."""
    return DamerauLevenshtein.distance(a, b)


def _edits_allowed(a: str, b: str) -> int:
    """One garbled character; two in names of eight letters or more."""
    return 2 if min(len(a), len(b)) >= 8 else 1


def _family_close(a: str, b: str, a_key: str, b_key: str) -> bool:
    return _jw(a, b) >= NAME_JW or bool(a_key and a_key == b_key) or edits(a, b) <= _edits_allowed(a, b)


def _given_close(a: str, b: str, a_key: str, b_key: str, a_nicks, b_nicks) -> bool:
    return (_family_close(a, b, a_key, b_key) or b in a_nicks or a in b_nicks or _initial(a, b))


def level_name(l: dict, r: dict) -> int:
    lf, lg, rf, rg = l["family"], l["given"], r["family"], r["given"]
    if not (lf and lg and rf and rg):
        return 0
    if lf == rf and lg == rg:
        return 1
    if lf == rg and lg == rf:
        return 2
    family_close = _family_close(lf, rf, l["family_key"], r["family_key"])
    given_close = _given_close(lg, rg, l["given_key"], r["given_key"], l["nicks"], r["nicks"])
    if not (family_close and given_close) and (
            _family_close(lf, rg, l["family_key"], r["given_key"])
            and _given_close(lg, rf, l["given_key"], r["family_key"], l["nicks"], ())):
        return 2  # swapped, with a garbled character
    if family_close and given_close:
        return 3
    if family_close:
        return 4
    if given_close:
        return 5
    return 6


def _initial(a: str, b: str) -> bool:
    """One side gives only the initial of the other's given name ("J. DOE")."""
    return (len(a) == 1 and b.startswith(a)) or (len(b) == 1 and a.startswith(b))


def level_birth_date(l: dict, r: dict) -> int:
    a, b = l["dob"], r["dob"]
    if not (a and b):
        return 0
    if a == b:
        return 1
    if l["dob_dm"] == b:
        return 2
    if edits(a, b) <= 1:
        return 3
    return 4


def _exact_or_one_off(a: str, b: str) -> int:
    if not (a and b):
        return 0
    if a == b:
        return 1
    if edits(a, b) <= 1:
        return 2
    return 3


def level_mrn(l: dict, r: dict) -> int:
    return _exact_or_one_off(l["mrn"], r["mrn"])


def level_phone(l: dict, r: dict) -> int:
    return _exact_or_one_off(l["phone"], r["phone"])


def level_sex(l: dict, r: dict) -> int:
    if not (l["sex"] and r["sex"]):
        return 0
    return 1 if l["sex"] == r["sex"] else 2


def level_address(l: dict, r: dict) -> int:
    la, ra, lp, rp = l["address"], r["address"], l["postcode"], r["postcode"]
    if not ((la and ra) or (lp and rp)):
        return 0
    if la and ra and la == ra:
        return 1
    if la and ra and _jw(la, ra) >= ADDRESS_JW:
        return 2
    if lp and rp and lp == rp:
        return 3
    return 4


LEVEL_FUNCTIONS = {
    "name": level_name,
    "birth_date": level_birth_date,
    "mrn": level_mrn,
    "sex": level_sex,
    "address": level_address,
    "phone": level_phone,
}


# ------------------------------------------------------------------------------ Splink (SQL)


def _present(*cols: str) -> str:
    return " AND ".join(f'"{c}_l" IS NOT NULL AND "{c}_r" IS NOT NULL' for c in cols)


def _jw_sql(col: str, threshold: float) -> str:
    return f'jaro_winkler_similarity("{col}_l", "{col}_r") >= {threshold}'


def _close_sql(left: str, right: str) -> str:
    """SQL twin of `_family_close` for columns `left`_l and `right`_r."""
    return (f'(jaro_winkler_similarity("{left}_l", "{right}_r") >= {NAME_JW} '
            f'OR "{left}_key_l" = "{right}_key_r" '
            f'OR damerau_levenshtein("{left}_l", "{right}_r") <= '
            f'CASE WHEN least(length("{left}_l"), length("{right}_r")) >= 8 THEN 2 ELSE 1 END)')


_FAMILY_CLOSE = _close_sql("family", "family")
_SWAPPED_CLOSE = f"({_close_sql('family', 'given')} AND {_close_sql('given', 'family')})"
_GIVEN_CLOSE = (
    f'({_close_sql("given", "given")} '
    'OR list_contains("nicks_l", "given_r") OR list_contains("nicks_r", "given_l") '
    'OR (length("given_l") = 1 AND starts_with("given_r", "given_l")) '
    'OR (length("given_r") = 1 AND starts_with("given_l", "given_r")))'
)

#: comparison name -> [(sql condition, label)] in level order; the null level first.
SQL_LEVELS: dict[str, list[tuple[str, str]]] = {
    "name": [
        (f"NOT ({_present('family', 'given')})", "null"),
        ('"family_l" = "family_r" AND "given_l" = "given_r"', "exact"),
        (f'("family_l" = "given_r" AND "given_l" = "family_r") OR (NOT ({_FAMILY_CLOSE} AND {_GIVEN_CLOSE}) '
         f'AND {_SWAPPED_CLOSE})', "swapped given/family"),
        (f"{_FAMILY_CLOSE} AND {_GIVEN_CLOSE}", "close (typo, phonetic, nickname)"),
        (_FAMILY_CLOSE, "family agrees, given differs"),
        (_GIVEN_CLOSE, "given agrees, family differs"),
        ("ELSE", "different"),
    ],
    "birth_date": [
        (f"NOT ({_present('dob')})", "null"),
        ('"dob_l" = "dob_r"', "exact"),
        ('"dob_dm_l" = "dob_r"', "day and month transposed"),
        ('damerau_levenshtein("dob_l", "dob_r") <= 1', "one digit off"),
        ("ELSE", "different"),
    ],
    "mrn": [
        (f"NOT ({_present('mrn')})", "null"),
        ('"mrn_l" = "mrn_r"', "exact"),
        ('damerau_levenshtein("mrn_l", "mrn_r") <= 1', "one digit off"),
        ("ELSE", "different"),
    ],
    "sex": [
        (f"NOT ({_present('sex')})", "null"),
        ('"sex_l" = "sex_r"', "exact"),
        ("ELSE", "different"),
    ],
    "address": [
        (
            f"NOT (({_present('address')}) OR ({_present('postcode')}))",
            "null",
        ),
        ('"address_l" = "address_r"', "street exact"),
        (_jw_sql("address", ADDRESS_JW), "street close"),
        ('"postcode_l" = "postcode_r"', "postcode only"),
        ("ELSE", "different"),
    ],
    "phone": [
        (f"NOT ({_present('phone')})", "null"),
        ('"phone_l" = "phone_r"', "exact"),
        ('damerau_levenshtein("phone_l", "phone_r") <= 1', "one digit off"),
        ("ELSE", "different"),
    ],
}


def splink_comparisons() -> list[dict]:
    """The comparisons as Splink settings dictionaries (comparison_levels with sql_condition)."""
    comparisons = []
    for name, levels in SQL_LEVELS.items():
        comparison_levels = []
        for index, (condition, label) in enumerate(levels):
            level: dict[str, object] = {"sql_condition": condition, "label_for_charts": label}
            if index == 0:
                level["is_null_level"] = True
            comparison_levels.append(level)
        comparisons.append(
            {"output_column_name": name, "comparison_levels": comparison_levels,
             "comparison_description": f"{name} ({len(levels)} levels)"}
        )
    return comparisons
