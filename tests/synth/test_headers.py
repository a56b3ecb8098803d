"""The header grammar and registration noise."""

from __future__ import annotations

import random
import re
from collections import Counter

import pytest

from pipeline.synth import headers
from pipeline.synth.render import ground_truth, render_pages

PERSON = {"mrn": "12345678", "family_name": "OKAFOR", "given_name": "WILLIAM", "birth_date": "1948-09-23",
          "sex": "M", "address": "5 Cedar Ct", "city": "Ashland", "state": "OH", "postcode": "44805",
          "phone": "4195550123"}


@pytest.mark.parametrize("held", [headers.HELD_OUT, headers.UNSEEN, headers.UNSEEN_2, headers.UNSEEN_3,
                                  headers.UNSEEN_4, headers.UNSEEN_5])
def test_a_held_out_part_shares_no_family_vocabulary_or_font_with_the_parts_before_it(held: headers.Part) -> None:
    before = list(headers.PARTS.values())[:list(headers.PARTS.values()).index(held)]
    tuned = headers.Part("the parts before it", sum((p.families for p in before), ()),
                         sum((p.vocabularies for p in before), ()), (), (), sum((p.fonts for p in before), ()), 0)
    assert not set(tuned.families) & set(held.families)
    assert not set(tuned.vocabularies) & set(held.vocabularies)
    assert not set(tuned.fonts) & set(held.fonts)
    tuned_words = {w for v in tuned.vocabularies for words in headers.VOCABULARIES[v].values() for w in words}
    held_words = {w for v in held.vocabularies for words in headers.VOCABULARIES[v].values() for w in words}
    assert not tuned_words & held_words


@pytest.mark.parametrize("part", list(headers.PARTS.values()))
def test_documents_draw_every_family_of_their_part_and_are_reproducible(part: headers.Part) -> None:
    def draw(seed: int) -> list[headers.HeaderDocument]:
        rng = random.Random(seed)
        return [headers.header_document(PERSON, rng, part, [PERSON]) for _ in range(60)]

    docs = draw(5)
    assert {d.family for d in docs} == set(part.families)
    assert {d.font for d in docs} == set(part.fonts)
    assert [d.pages for d in docs] == [d.pages for d in draw(5)]


def test_each_family_prints_the_name_and_birth_date_somewhere() -> None:
    printed = headers.PrintedHeader("OKAFOR", "WILLIAM", "09/23/1948", "12345678")
    for part in headers.PARTS.values():
        for family in part.families:
            doc = headers.header_document(PERSON, random.Random(1), part, printed=printed, family=family)
            text = ground_truth(list(doc.pages)).upper()
            assert "OKAFOR" in text and "WILLIAM" in text and "09/23/1948" in text, family
    sticker = headers.header_document(PERSON, random.Random(1), headers.HELD_OUT, printed=printed, family="grid")
    assert "| " in sticker.pages[0]  # a grid renders as a table
    continuation = headers.header_document(PERSON, random.Random(1), headers.HELD_OUT, printed=printed,
                                           family="continuation")
    assert len(continuation.pages) == 2 and "OKAFOR" not in continuation.pages[0].upper()
    footer = headers.header_document(PERSON, random.Random(1), headers.UNSEEN, printed=printed, family="footer")
    for page in footer.pages:  # the identifiers close each page, below the text, and nowhere else
        lines = page.splitlines()
        assert "OKAFOR" in lines[-1].upper() and "OKAFOR" not in "\n".join(lines[:-1]).upper()
    split = headers.header_document(PERSON, random.Random(1), headers.UNSEEN, printed=printed, family="split_name")
    head = "\n".join(split.pages[0].splitlines()[:4]).upper()  # the body may name the patient in prose
    assert "OKAFOR" in head and not any(  # surname and given name, each in a field of its own
        form in head for form in ("OKAFOR, WILLIAM", "WILLIAM OKAFOR", "OKAFOR WILLIAM"))


def test_registration_noise_is_planted_at_plausible_rates_and_recorded() -> None:
    rng = random.Random(3)
    index = [dict(PERSON, mrn=str(20000000 + i)) for i in range(50)]
    notes: Counter[str] = Counter()
    for _ in range(2000):
        printed = headers.register_noise(PERSON, rng, index)
        notes.update(printed.notes)
        if "no DOB" in printed.notes:
            assert printed.birth_date == "" and not printed.dob_right
        if "MRN of another patient" in printed.notes:
            assert printed.mrn != PERSON["mrn"] and not printed.mrn_right
        if not printed.notes or set(printed.notes) <= {"account number", "nickname"}:
            assert printed.dob_right and printed.mrn_right
    # born on the 23rd: no day/month swap is possible, so "DOB digit wrong" takes its share
    for note, low, high in (("family typo", 100, 230), ("nickname", 450, 750), ("names swapped", 30, 100),
                            ("no DOB", 20, 70), ("DOB digit wrong", 40, 110), ("account number", 850, 1150)):
        assert low <= notes[note] <= high, (note, notes[note])


def test_a_held_out_document_renders_in_serif_with_its_sticker_box() -> None:
    printed = headers.PrintedHeader("OKAFOR", "WILLIAM", "09/23/1948", "12345678")
    doc = headers.header_document(PERSON, random.Random(2), headers.HELD_OUT, printed=printed, family="sticker")
    images = render_pages(list(doc.pages), dpi=100, font=doc.font)
    assert "OKAFOR" in images[0].info["text"].upper()


def test_an_unseen_document_renders_in_the_condensed_font() -> None:
    printed = headers.PrintedHeader("OKAFOR", "WILLIAM", "09/23/1948", "12345678")
    doc = headers.header_document(PERSON, random.Random(2), headers.UNSEEN, printed=printed, family="fax_cover")
    assert doc.font == "condensed"
    images = render_pages(list(doc.pages), dpi=100, font=doc.font)
    assert "OKAFOR" in images[0].info["text"].upper() and "FACSIMILE" in images[0].info["text"].upper()


def test_the_fourth_unseen_part_prints_a_relative_as_guarantor_middle_initials_and_its_own_date_forms() -> None:
    relative = dict(PERSON, mrn="87654321", given_name="ADAEZE", birth_date="1952-01-30")
    stranger = dict(PERSON, mrn="11112222", family_name="LINDQVIST", given_name="ASTRID")
    printed = headers.PrintedHeader("OKAFOR", "WILLIAM", "09/23/1948", "12345678")
    doc = headers.header_document(PERSON, random.Random(1), headers.UNSEEN_4, [PERSON, stranger, relative],
                                  printed=printed, family="guarantor_form")
    patient, guarantor = doc.pages[0].upper().split("GUARANTOR")
    assert "WILLIAM" in patient and "ADAEZE" in guarantor and "WILLIAM" not in guarantor  # kin by surname
    assert doc.font == "serif-italic"
    rng = random.Random(8)
    docs = [headers.header_document(PERSON, rng, headers.UNSEEN_4, [PERSON]) for _ in range(80)]
    heads = "\n".join(d.pages[0] for d in docs).upper()
    assert re.search(r"\bWILLIAM [A-Z]\.? OKAFOR\b", heads) and re.search(r"\bOKAFOR, WILLIAM [A-Z]\.?(\s|$)", heads)
    assert {"09/23/48", "23 SEP 1948", "19480923", "09.23.1948"} & set(heads.split())
