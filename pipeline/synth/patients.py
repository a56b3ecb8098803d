"""Synthetic patients for the master patient index: realistic, reproducible, never real.

`generate_patients(n, seed)` draws US-style people from the weighted name and place lists in
`pipeline/synth/data/` (their provenance is in `data/README.md`), with the hard cases every real
index of size has, planted on purpose:

- twins: same family name, birth date, address and phone, another given name;
- namesakes: same family and given name (and sex), another birth date and address;
- duplicates (off by default): the same person a second time under a new MRN, with a nickname,
  a typo, a transposed birth date or a new address. `duplicate_of` names the first record's MRN.

Everything comes from one `numpy.random.Generator` seeded by `seed`, so a seed always gives the
same patients. Columns are drawn vectorised, so a million patients take a few seconds.
"""

from __future__ import annotations

import csv
import functools
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from importlib import resources
from pathlib import Path

import numpy as np

CSV_HEADER = (
    "mrn",
    "family_name",
    "given_name",
    "birth_date",
    "sex",
    "address",
    "city",
    "state",
    "postcode",
    "phone",
)
MRN_WIDTH = 8
_MRN_LOW = 10 ** (MRN_WIDTH - 1)  # no leading zero: spreadsheets would eat it
_MRN_SPACE = 10**MRN_WIDTH - _MRN_LOW
REFERENCE_DATE = date(2025, 1, 1)  # ages are counted back from here, not from today: reproducible
_EPOCH_ORDINAL = REFERENCE_DATE.toordinal()
_CHILD_SHARE = 0.15
_FEMALE_SHARE = 0.51
_APARTMENT_SHARE = 0.15
_STREET_SUFFIXES = ("St", "Ave", "Rd", "Dr", "Ln", "Ct", "Blvd", "Way", "Pl", "Ter")

NICKNAMES: dict[str, str] = {
    "William": "Bill",
    "Robert": "Bob",
    "Richard": "Dick",
    "James": "Jim",
    "John": "Jack",
    "Michael": "Mike",
    "Joseph": "Joe",
    "Thomas": "Tom",
    "Charles": "Chuck",
    "Christopher": "Chris",
    "Daniel": "Dan",
    "Matthew": "Matt",
    "Anthony": "Tony",
    "Steven": "Steve",
    "Andrew": "Andy",
    "Kenneth": "Ken",
    "Timothy": "Tim",
    "Edward": "Ed",
    "Elizabeth": "Liz",
    "Margaret": "Peggy",
    "Patricia": "Patty",
    "Jennifer": "Jenny",
    "Katherine": "Kathy",
    "Catherine": "Cathy",
    "Susan": "Sue",
    "Deborah": "Debbie",
    "Rebecca": "Becky",
    "Kimberly": "Kim",
    "Samantha": "Sam",
    "Victoria": "Vicky",
    "Barbara": "Barb",
    "Dorothy": "Dot",
}


@dataclass(frozen=True, slots=True)
class SyntheticPatient:
    mrn: str
    family_name: str
    given_name: str
    birth_date: date
    sex: str  # "F" or "M"
    address: str
    city: str
    state: str
    postcode: str
    phone: str
    duplicate_of: str | None = None  # MRN of the record this one duplicates (not in the CSV)

    def csv_row(self) -> tuple[str, ...]:
        return (
            self.mrn,
            self.family_name,
            self.given_name,
            self.birth_date.isoformat(),
            self.sex,
            self.address,
            self.city,
            self.state,
            self.postcode,
            self.phone,
        )


@dataclass(frozen=True, slots=True)
class _Lists:
    family: tuple[str, ...]
    family_p: np.ndarray
    given: dict[str, tuple[str, ...]]  # by sex
    given_p: dict[str, np.ndarray]
    places: tuple[tuple[str, str, str, str], ...]  # city, state, zip3, area code
    places_p: np.ndarray
    streets: tuple[str, ...]


@functools.cache
def _lists() -> _Lists:
    data = resources.files("pipeline.synth") / "data"

    def rows(name: str) -> list[dict[str, str]]:
        with (data / name).open(encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))

    def probabilities(weights: list[float]) -> np.ndarray:
        array = np.asarray(weights, dtype=float)
        return array / array.sum()

    family = rows("family_names.csv")
    given: dict[str, list[str]] = defaultdict(list)
    given_w: dict[str, list[float]] = defaultdict(list)
    for row in rows("given_names.csv"):
        given[row["sex"]].append(row["name"])
        given_w[row["sex"]].append(float(row["weight"]))
    places = rows("places.csv")
    return _Lists(
        family=tuple(r["name"] for r in family),
        family_p=probabilities([float(r["weight"]) for r in family]),
        given={sex: tuple(names) for sex, names in given.items()},
        given_p={sex: probabilities(w) for sex, w in given_w.items()},
        places=tuple((r["city"], r["state"], r["zip3"], r["area_code"]) for r in places),
        places_p=probabilities([float(r["weight"]) for r in places]),
        streets=tuple(r["name"] for r in rows("streets.csv")),
    )


def generate_patients(
    n: int,
    seed: int,
    *,
    twin_rate: float = 0.01,
    namesake_rate: float = 0.02,
    duplicate_rate: float = 0.0,
) -> list[SyntheticPatient]:
    """Make `n` synthetic patients, reproducibly for a given `seed`.

    `twin_rate` and `namesake_rate` are the share of records that belong to a twin pair or a
    namesake pair (so 0.01 of 1,000 gives 5 twin pairs); `duplicate_rate` the share of records
    that are a second record of another patient. MRNs are unique, `MRN_WIDTH` digits.
    """
    if n < 0:
        raise ValueError(f"n must be 0 or more, got {n}")
    for name, rate in (
        ("twin_rate", twin_rate),
        ("namesake_rate", namesake_rate),
        ("duplicate_rate", duplicate_rate),
    ):
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"{name} must be between 0 and 1, got {rate}")
    if twin_rate + namesake_rate + duplicate_rate > 1.0:
        raise ValueError("twin_rate + namesake_rate + duplicate_rate must not exceed 1")

    lists = _lists()
    rng = np.random.default_rng(seed)
    n_dup = round(n * duplicate_rate)
    n_base = n - n_dup

    columns = _draw_columns(rng, lists, n_base)
    pairs = rng.permutation(n_base)
    n_twins = round(n_base * twin_rate / 2)
    n_namesakes = round(n_base * namesake_rate / 2)
    twins = pairs[: 2 * n_twins].reshape(2, n_twins) if n_twins else np.empty((2, 0), int)
    rest = pairs[2 * n_twins : 2 * (n_twins + n_namesakes)]
    namesakes = rest.reshape(2, n_namesakes) if n_namesakes else np.empty((2, 0), int)
    _plant_twins(rng, lists, columns, twins)
    _plant_namesakes(columns, namesakes)

    mrns = rng.choice(_MRN_SPACE, size=n, replace=False) + _MRN_LOW
    mrn_text = [str(m) for m in mrns.tolist()]
    patients = [
        SyntheticPatient(mrn, f, g, date.fromordinal(b), s, a, c, st, p, ph)
        for mrn, f, g, b, s, a, c, st, p, ph in zip(
            mrn_text[:n_base],
            columns["family_name"],
            columns["given_name"],
            columns["birth_ordinal"],
            columns["sex"],
            columns["address"],
            columns["city"],
            columns["state"],
            columns["postcode"],
            columns["phone"],
            strict=True,
        )
    ]
    if n_dup:
        sources = rng.choice(n_base, size=n_dup, replace=False)
        for mrn, index in zip(mrn_text[n_base:], sources.tolist(), strict=True):
            patients.append(_duplicate(rng, lists, patients[index], mrn))
        order = rng.permutation(n)
        patients = [patients[i] for i in order.tolist()]
    return patients


def _draw_columns(rng: np.random.Generator, lists: _Lists, n: int) -> dict[str, list]:
    sex = np.where(rng.random(n) < _FEMALE_SHARE, "F", "M")
    family = np.asarray(lists.family, dtype=object)[rng.choice(len(lists.family), n, p=lists.family_p)]
    given = np.empty(n, dtype=object)
    for code in ("F", "M"):
        mask = sex == code
        names = np.asarray(lists.given[code], dtype=object)
        given[mask] = names[rng.choice(len(names), int(mask.sum()), p=lists.given_p[code])]

    child = rng.random(n) < _CHILD_SHARE
    age_days = np.where(
        child,
        rng.integers(0, 18 * 365, n),
        rng.integers(18 * 365, 96 * 365, n),
    )
    birth = _EPOCH_ORDINAL - age_days

    place = rng.choice(len(lists.places), n, p=lists.places_p)
    house = np.minimum((rng.pareto(1.1, n) + 1) * 20, 19999).astype(int)
    street = rng.integers(0, len(lists.streets), n)
    suffix = rng.integers(0, len(_STREET_SUFFIXES), n)
    apartment = np.where(rng.random(n) < _APARTMENT_SHARE, rng.integers(1, 40, n), 0)
    apt_letter = rng.integers(0, 4, n)
    zip_tail = rng.integers(0, 100, n)
    exchange = rng.integers(201, 1000, n)
    line = rng.integers(0, 10000, n)

    streets, places = lists.streets, lists.places
    address = [
        f"{h} {streets[s]} {_STREET_SUFFIXES[x]}" + (f" Apt {a}{'ABCD'[al]}" if a else "")
        for h, s, x, a, al in zip(
            house.tolist(), street.tolist(), suffix.tolist(), apartment.tolist(), apt_letter.tolist(), strict=True
        )
    ]
    place_list = place.tolist()
    return {
        "sex": sex.tolist(),
        "family_name": family.tolist(),
        "given_name": given.tolist(),
        "birth_ordinal": birth.tolist(),
        "address": address,
        "city": [places[p][0] for p in place_list],
        "state": [places[p][1] for p in place_list],
        "postcode": [f"{places[p][2]}{z:02d}" for p, z in zip(place_list, zip_tail.tolist(), strict=True)],
        "phone": [
            f"{places[p][3]}-{e:03d}-{ln:04d}"
            for p, e, ln in zip(place_list, exchange.tolist(), line.tolist(), strict=True)
        ],
    }


def _plant_twins(rng: np.random.Generator, lists: _Lists, columns: dict[str, list], twins: np.ndarray) -> None:
    shared = ("family_name", "birth_ordinal", "address", "city", "state", "postcode", "phone")
    for first, second in zip(twins[0].tolist(), twins[1].tolist(), strict=True):
        for key in shared:
            columns[key][second] = columns[key][first]
        sex = "F" if rng.random() < _FEMALE_SHARE else "M"
        names, p = lists.given[sex], lists.given_p[sex]
        given = columns["given_name"][first]
        while given == columns["given_name"][first]:
            given = names[int(rng.choice(len(names), p=p))]
        columns["sex"][second] = sex
        columns["given_name"][second] = given


def _plant_namesakes(columns: dict[str, list], namesakes: np.ndarray) -> None:
    for first, second in zip(namesakes[0].tolist(), namesakes[1].tolist(), strict=True):
        for key in ("family_name", "given_name", "sex"):
            columns[key][second] = columns[key][first]
        if columns["birth_ordinal"][second] == columns["birth_ordinal"][first]:
            columns["birth_ordinal"][second] -= 3 * 365 + 17


def _duplicate(
    rng: np.random.Generator, lists: _Lists, patient: SyntheticPatient, mrn: str
) -> SyntheticPatient:
    """The same person registered again: a new MRN and one realistic difference."""
    family, given, birth = patient.family_name, patient.given_name, patient.birth_date
    address, city, state, postcode, phone = (
        patient.address,
        patient.city,
        patient.state,
        patient.postcode,
        patient.phone,
    )
    kind = int(rng.integers(0, 5))
    if kind == 0 and given in NICKNAMES:
        given = NICKNAMES[given]
    elif kind == 1 and len(family) > 3:
        family = _typo(rng, family)
    elif kind == 2 and birth.day <= 12 and birth.day != birth.month:
        birth = date(birth.year, birth.day, birth.month)  # day and month swapped
    elif kind == 3:
        moved = _draw_columns(rng, lists, 1)
        address, city, state = moved["address"][0], moved["city"][0], moved["state"][0]
        postcode, phone = moved["postcode"][0], moved["phone"][0]
    else:
        birth = birth + timedelta(days=1 if birth.day < 28 else -1)  # one digit off
    return SyntheticPatient(
        mrn, family, given, birth, patient.sex, address, city, state, postcode, phone, duplicate_of=patient.mrn
    )


def _typo(rng: np.random.Generator, word: str) -> str:
    position = int(rng.integers(1, len(word) - 1))
    if rng.random() < 0.5:  # transposition
        return word[:position] + word[position + 1] + word[position] + word[position + 2 :]
    return word[:position] + word[position + 1 :]  # a dropped letter


# ------------------------------------------------------------------------------ ground truth


def twin_pairs(patients: Iterable[SyntheticPatient]) -> list[tuple[SyntheticPatient, SyntheticPatient]]:
    """Pairs with the same family name, birth date and address but another given name."""
    groups: dict[tuple, list[SyntheticPatient]] = defaultdict(list)
    for patient in patients:
        if patient.duplicate_of is None:
            groups[(patient.family_name, patient.birth_date, patient.address, patient.postcode)].append(patient)
    return [
        (a, b)
        for group in groups.values()
        for i, a in enumerate(group)
        for b in group[i + 1 :]
        if a.given_name != b.given_name
    ]


def namesake_pairs(patients: Iterable[SyntheticPatient]) -> list[tuple[SyntheticPatient, SyntheticPatient]]:
    """Pairs with the same family and given name but another birth date."""
    groups: dict[tuple[str, str], list[SyntheticPatient]] = defaultdict(list)
    for patient in patients:
        if patient.duplicate_of is None:
            groups[(patient.family_name, patient.given_name)].append(patient)
    return [
        (a, b)
        for group in groups.values()
        for i, a in enumerate(group)
        for b in group[i + 1 :]
        if a.birth_date != b.birth_date
    ]


# ---------------------------------------------------------------------------------------- CSV


def write_patient_csv(patients: Iterable[SyntheticPatient], path: Path | str) -> Path:
    """Write the patient-import CSV (`pipeline patients import FILE`), header `CSV_HEADER`."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(CSV_HEADER)
        writer.writerows(patient.csv_row() for patient in patients)
    return target


def read_patient_csv(path: Path | str) -> list[SyntheticPatient]:
    """Read back a file written by `write_patient_csv` (for tests, samples and benchmarks)."""
    with Path(path).open(encoding="utf-8", newline="") as handle:
        return [
            SyntheticPatient(
                mrn=row["mrn"],
                family_name=row["family_name"],
                given_name=row["given_name"],
                birth_date=date.fromisoformat(row["birth_date"]),
                sex=row["sex"],
                address=row["address"],
                city=row["city"],
                state=row["state"],
                postcode=row["postcode"],
                phone=row["phone"],
            )
            for row in csv.DictReader(handle)
        ]
