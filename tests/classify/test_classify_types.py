"""The type list: the shipped default, a site's edited copy, and every kind of mistake in it."""

from __future__ import annotations

from pathlib import Path

import re

import pytest

from pipeline.classify.types import DEFAULT_TYPES_PATH, load_types, loinc_check_digit_ok
from pipeline.errors import ConfigurationError

DOMAIN_CODES = {
    "18842-5", "34117-2", "11488-4", "11506-3", "34111-5", "11504-8", "28570-0", "18748-4", "11502-2",
    "11526-1", "57133-1", "51852-2", "59284-0", "42348-3", "64290-0", "56445-0", "57833-6", "64285-0",
    "11503-0", "101904-1", "34109-9",
}


def test_default_list_is_the_domain_list() -> None:
    types = load_types()
    assert types.source == DEFAULT_TYPES_PATH
    assert {t.loinc for t in types} == DOMAIN_CODES
    assert types["other"].loinc == "34109-9" and types["other"].always_review
    assert types["discharge_summary"].display == "Discharge summary"
    assert not types["consent"].always_review and types["consent"].threshold is None
    assert types.threshold("consent", 0.6) == 0.6
    assert "referral" in types and "fax" not in types


def test_loinc_check_digit() -> None:
    assert loinc_check_digit_ok("18842-5") and loinc_check_digit_ok("101904-1")
    assert not loinc_check_digit_ok("18842-4") and not loinc_check_digit_ok("18842") and not loinc_check_digit_ok("x-1")


def test_a_site_can_add_rename_drop_and_set_thresholds(tmp_path: Path) -> None:
    path = tmp_path / "types.toml"
    path.write_text(
        '[types.discharge_note]\nloinc = "18842-5"\ndisplay = "Discharge paperwork"\nthreshold = 0.8\n\n'
        '[types.ekg]\nloinc = "11524-6"\ndisplay = "EKG study"\nalways_review = true\n\n'
        '[types.other]\nloinc = "34109-9"\ndisplay = "Note"\n'
    )
    types = load_types(path)
    assert types.keys() == ("discharge_note", "ekg", "other")
    assert types.threshold("discharge_note", 0.6) == 0.8
    assert types["ekg"].always_review and types["other"].always_review  # other is reviewed even if not marked


def test_every_problem_is_reported_at_once_naming_file_and_entry(tmp_path: Path) -> None:
    path = tmp_path / "site-types.toml"
    path.write_text(
        '[types.consent]\nloinc = "59284-1"\ndisplay = "Consent"\n\n'
        '[types.Letters]\nloinc = "51852-2"\ndisplay = ""\ncolour = "blue"\n\n'
        '[types.card]\nloinc = "64290-0"\ndisplay = "Card"\nthreshold = 1.5\nalways_review = "yes"\n\n'
        '[types.card2]\nloinc = "64290-0"\ndisplay = "Card again"\n'
    )
    with pytest.raises(ConfigurationError) as caught:
        load_types(path)
    problems = caught.value.problems
    text = "\n".join(problems)
    assert all(str(path) in p for p in problems)
    assert "[types.consent]: loinc 59284-1 has a wrong check digit" in text
    assert "[types.Letters]: the key must be lower-case" in text
    assert "[types.Letters]: unknown field(s) colour" in text
    assert "[types.Letters]: display must be a non-empty name" in text
    assert "[types.card]: threshold must be a number from 0 to 1; got 1.5" in text
    assert "[types.card]: always_review must be true or false" in text
    assert "[types.card2]: loinc 64290-0 is already used by [types.card]" in text
    assert "must keep a [types.other] entry" in text
    assert caught.value.exit_code == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[types.other\n", "not valid TOML"),
        ("title = 'no types'\n", "no [types.<key>] tables found"),
        ('[types.other]\nloinc = "34109-9"\ndisplay = "Note"\n', "at least two types"),
        ('[types.other]\ndisplay = "Note"\n\n[types.a]\nloinc = 5\ndisplay = "A"\n', "loinc must be a LOINC code"),
    ],
)
def test_unreadable_lists_are_configuration_errors(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "types.toml"
    path.write_text(content)
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        load_types(path)


def test_missing_file_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="PIPELINE_TYPES_PATH"):
        load_types(tmp_path / "nope.toml")
