"""Synthetic patients: reproducible, unique MRNs, the planted twins/namesakes/duplicates, CSV."""

from __future__ import annotations

import csv
from collections import Counter

import pytest

from pipeline.synth.patients import (
    CSV_HEADER,
    MRN_WIDTH,
    generate_patients,
    namesake_pairs,
    read_patient_csv,
    twin_pairs,
    write_patient_csv,
)


def test_same_seed_same_patients_other_seed_other_patients() -> None:
    first = generate_patients(300, seed=11)
    assert first == generate_patients(300, seed=11)
    other = generate_patients(300, seed=12)
    assert [p.mrn for p in first] != [p.mrn for p in other]
    assert [p.family_name for p in first] != [p.family_name for p in other]


def test_mrns_are_unique_fixed_width_digits() -> None:
    patients = generate_patients(5000, seed=3)
    mrns = [p.mrn for p in patients]
    assert len(set(mrns)) == len(mrns)
    assert all(len(m) == MRN_WIDTH and m.isdigit() and m[0] != "0" for m in mrns)


def test_fields_look_like_us_patients() -> None:
    patients = generate_patients(2000, seed=5)
    assert {p.sex for p in patients} == {"F", "M"}
    assert all(p.postcode.isdigit() and len(p.postcode) == 5 for p in patients)
    assert all(len(p.phone) == 12 and p.phone[3] == "-" and p.phone[7] == "-" for p in patients)
    assert all(len(p.state) == 2 and p.state.isupper() for p in patients)
    years = [p.birth_date.year for p in patients]
    assert min(years) >= 1928 and max(years) <= 2025
    # frequent names are frequent: Smith is the most common surname in a large draw
    surnames = Counter(p.family_name for p in generate_patients(20000, seed=5))
    assert surnames.most_common(1)[0][0] == "Smith"
    assert len(surnames) > 500


def test_twins_share_surname_birth_date_and_address_with_another_given_name() -> None:
    patients = generate_patients(1000, seed=21, twin_rate=0.02, namesake_rate=0.0)
    pairs = twin_pairs(patients)
    assert len(pairs) >= 10  # 1000 * 0.02 / 2 planted, accidental ones may add
    for a, b in pairs:
        assert (a.family_name, a.birth_date, a.address, a.postcode) == (
            b.family_name,
            b.birth_date,
            b.address,
            b.postcode,
        )
        assert a.given_name != b.given_name
        assert a.mrn != b.mrn


def test_namesakes_share_the_name_with_another_birth_date() -> None:
    patients = generate_patients(1000, seed=22, twin_rate=0.0, namesake_rate=0.04)
    pairs = namesake_pairs(patients)
    assert len(pairs) >= 20
    for a, b in pairs:
        assert (a.family_name, a.given_name) == (b.family_name, b.given_name)
        assert a.birth_date != b.birth_date


def test_no_twins_planted_when_the_rate_is_zero() -> None:
    # accidental twins need the same surname, birth date AND address: vanishingly rare
    assert twin_pairs(generate_patients(1000, seed=23, twin_rate=0.0)) == []


def test_duplicates_point_at_an_existing_patient_and_differ_from_it() -> None:
    patients = generate_patients(1000, seed=24, duplicate_rate=0.05)
    assert len(patients) == 1000
    by_mrn = {p.mrn: p for p in patients}
    duplicates = [p for p in patients if p.duplicate_of]
    assert len(duplicates) == 50
    for dup in duplicates:
        original = by_mrn[dup.duplicate_of]
        assert original.duplicate_of is None
        assert dup.mrn != original.mrn
        assert dup.sex == original.sex
        changed = [
            f
            for f in ("family_name", "given_name", "birth_date", "address", "phone")
            if getattr(dup, f) != getattr(original, f)
        ]
        assert len(changed) <= 2  # one realistic difference (a move changes address and phone)


def test_csv_has_the_import_header_and_round_trips(tmp_path) -> None:
    patients = generate_patients(50, seed=9)
    path = write_patient_csv(patients, tmp_path / "sub" / "patients.csv")
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == list(CSV_HEADER)
    assert ",".join(rows[0]) == "mrn,family_name,given_name,birth_date,sex,address,city,state,postcode,phone"
    assert len(rows) == 51
    assert rows[1][3] == patients[0].birth_date.isoformat()
    assert read_patient_csv(path) == patients


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": -1}, "n must be"),
        ({"n": 10, "twin_rate": 1.5}, "twin_rate"),
        ({"n": 10, "twin_rate": 0.6, "namesake_rate": 0.6}, "must not exceed"),
    ],
)
def test_bad_arguments_are_refused(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        generate_patients(seed=1, **kwargs)


def test_zero_patients() -> None:
    assert generate_patients(0, seed=1) == []
