"""Fuzzing the HL7 v2 side: ADT messages, MLLP framing, NAKs for unread messages, HL7 files."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from pipeline.patients.adt import AdtProcessor, reject_unread
from pipeline.patients.importer import split_hl7
from pipeline.patients.mllp import BadFrame, Frame, MllpFramer
from pipeline.store.database import make_engine, migrate

pytestmark = pytest.mark.timeout(120)

VALID = ("MSH|^~\\&|ADT|HOSP|PIPE|HIM|20260301120000||ADT^{event}|{control}|P|2.5\r"
         "EVN|{event}|20260301120000\r"
         "PID|1||{mrn}^^^HOSP^MR~A77^^^HOSP^AN||REYES^ANA^M^^^^L||{dob}|F|||9 Birch Way^^Salem^MA^01970||(978)555-0142\r"
         "MRG|{old}^^^HOSP^MR\rPV1|1|I|WARD3^12^A||||||||||||||||V555")
EVENTS = st.sampled_from(["A01", "A03", "A04", "A08", "A18", "A28", "A31", "A34", "A40", "A47", "A99", "", "A0^8"])
FIELD = st.text(st.characters(codec="utf-8", exclude_characters="\r"), max_size=12)


@pytest.fixture(scope="module")
def processor(tmp_path_factory) -> AdtProcessor:
    url = f"sqlite:///{tmp_path_factory.mktemp('fuzz-adt') / 'manifest.db'}"
    migrate(url)
    return AdtProcessor(make_engine(url))


def _answered(outcome) -> None:
    assert outcome.code in ("AA", "AE", "AR")
    assert outcome.ack.startswith("MSH|") and f"MSA|{outcome.code}|" in outcome.ack


@given(text=st.text(max_size=400))
@example(text="MSH&|ADT|HOSP|PIPE|HIM|20260301120000||ADT^A01|C1|P|2.5")  # found: odd separators, same
def test_any_text_gets_an_answer(processor, text: str) -> None:
    _answered(processor.apply(text))


@given(event=EVENTS, control=FIELD, mrn=FIELD, dob=FIELD, old=FIELD)
@example(event="A01", control="\n", mrn="", dob="", old="")  # found: the MSH cut short broke the ACK builder
def test_messages_with_odd_fields_get_an_answer(processor, event, control, mrn, dob, old) -> None:
    _answered(processor.apply(VALID.format(event=event, control=control, mrn=mrn, dob=dob, old=old)))


@given(data=st.data(), event=EVENTS)
def test_a_valid_message_cut_or_spliced_anywhere_gets_an_answer(processor, data, event) -> None:
    text = VALID.format(event=event, control=data.draw(st.uuids()).hex[:10], mrn="300001", dob="19851224",
                        old="300002")
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    _answered(processor.apply(text[:start] + data.draw(st.text(max_size=20)) + text[end:]))


@given(head=st.binary(max_size=300), reason=st.text(max_size=80))
def test_a_nak_for_an_unread_message_is_always_made(head: bytes, reason: str) -> None:
    answer = reject_unread(head, reason)
    assert answer.startswith("MSH|") and "MSA|AR|" in answer


@given(payloads=st.lists(st.binary(max_size=200).filter(lambda b: b"\x0b" not in b and b"\x1c" not in b),
                         max_size=6),
       cuts=st.lists(st.integers(1, 50), max_size=40))
def test_framing_finds_the_same_frames_however_the_bytes_arrive(payloads, cuts) -> None:
    stream = b"".join(b"\x0b" + p + b"\x1c\x0d" for p in payloads)
    framer, events, i = MllpFramer(150), [], 0
    for size in [*cuts, len(stream)]:
        events += framer.feed(stream[i:i + size])
        i += size
    assert len(events) == len(payloads)
    for payload, event in zip(payloads, events, strict=True):
        if len(payload) > 150:
            assert isinstance(event, BadFrame) and event.head == payload[:len(event.head)] and not event.close
        else:
            assert event == Frame(payload)


@given(chunks=st.lists(st.binary(max_size=300), max_size=20))
def test_framing_of_any_bytes_never_fails_and_stays_bounded(chunks) -> None:
    framer = MllpFramer(64)
    for chunk in chunks:
        for event in framer.feed(chunk):
            assert isinstance(event, Frame | BadFrame)
            if isinstance(event, Frame):
                assert len(event.payload) <= 64
        assert len(framer._buffer) <= 64 + 4096


@given(text=st.text(max_size=500))
def test_splitting_an_hl7_file_never_fails(text: str) -> None:
    for message in split_hl7(text):
        assert message.startswith("MSH")
