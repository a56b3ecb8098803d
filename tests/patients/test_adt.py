"""HL7 v2 ADT: inserts, updates, discharges, merges, duplicates (the listener: test_adt_mllp.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from pipeline.patients.adt import AdtProcessor
from pipeline.patients.index import resolve
from pipeline.patients.tables import AdtMessage, Encounter, Identifier, Name, Patient
from pipeline.records import DocumentIdentifiers
from pipeline.store.manifest import Manifest


def msg(control: str, event: str, pid: str, *extra: str) -> str:
    return "\r".join([f"MSH|^~\\&|ADT|HOSP|PIPE|HIM|20260301120000||ADT^{event}|{control}|P|2.5",
                      f"EVN|{event}|20260301120000", pid, *extra])


PID_NEW = "PID|1||30000001^^^HOSP^MR~A77^^^HOSP^AN||REYES^ANA^M^^^^L~GOMEZ^ANA^^^^^M||19851224|F|||9 Birch Way^^Salem^MA^01970||(978)555-0142"


def test_a01_inserts_and_opens_an_encounter_then_a03_discharges(engine) -> None:
    adt = AdtProcessor(engine)
    admit = adt.apply(msg("C1", "A01", PID_NEW, "PV1|1|I|WARD3^12^A||||||||||||||||V555|||||||||||||||||||||||||20260301110000"))
    assert admit.code == "AA" and admit.inserted == 1
    assert "MSA|AA|C1" in admit.ack
    discharge = adt.apply(msg("C2", "A03", PID_NEW, "PV1|1|I|WARD3^12^A||||||||||||||||V555|||||||||||||||||||||||||20260301110000|20260305160000"))
    assert discharge.code == "AA"
    with engine.connect() as conn:
        pid = resolve(conn, "30000001")
        enc = conn.execute(select(Encounter).where(Encounter.patient_id == pid)).one()
        assert enc.visit_number == "V555" and enc.location == "WARD3"
        assert enc.admitted_at.replace(tzinfo=UTC) == datetime(2026, 3, 1, 11, tzinfo=UTC)
        assert enc.discharged_at.replace(tzinfo=UTC) == datetime(2026, 3, 5, 16, tzinfo=UTC)
        assert resolve(conn, "A77") == pid  # the account number is an identifier too
        uses = dict(conn.execute(select(Name.family, Name.use).where(Name.patient_id == pid)).all())
        assert uses == {"REYES": "official", "GOMEZ": "previous"}


def test_duplicate_control_id_is_applied_once(engine) -> None:
    adt = AdtProcessor(engine)
    first = adt.apply(msg("DUP1", "A04", PID_NEW))
    second = adt.apply(msg("DUP1", "A04", PID_NEW.replace("19851224", "19851225")))
    assert first.inserted == 1 and second.duplicate and second.code == "AA"
    with engine.connect() as conn:
        assert conn.execute(select(Patient.birth_date)).scalar() == date(1985, 12, 24)
        assert conn.execute(select(AdtMessage.control_id)).scalars().all() == ["DUP1"]


@pytest.mark.parametrize(("text", "code", "reason"), [
    ("this is not hl7", "AR", "message cannot be parsed as HL7 v2"),
    ("MSH|^~\\&|LAB|HOSP|PIPE|HIM|20260301||ORU^R01|L1|P|2.5\rPID|1||1^^^H^MR", "AR", "message type ORU is not ADT"),
    (msg("E1", "A40", PID_NEW, "MRG|99999999^^^HOSP^MR"), "AE", "MRG-1 identifier not in the index"),
    (msg("E2", "A40", PID_NEW), "AE", "merge without MRG-1"),
    (msg("E3", "A08", "PID|1||5^^^H^MR||DOE^JANE||1980-01-02|F"), "AE", "PID-7 birth date is not YYYYMMDD"),
])
def test_messages_that_cannot_be_applied_get_a_nak_with_the_reason(engine, text, code, reason) -> None:
    outcome = AdtProcessor(engine).apply(text)
    assert outcome.code == code and outcome.reason.startswith(reason)
    assert f"MSA|{code}|" in outcome.ack and "ERR|" in outcome.ack and reason.split(" (")[0] in outcome.ack


def test_a40_merge_repoints_documents_and_old_ids_still_resolve(index, file_for) -> None:
    with index.connect() as conn:
        old, survivor = resolve(conn, "10000004"), resolve(conn, "10000005")
    docs = [file_for(old, "10000004"), file_for(old, "10000004")]
    untouched = file_for(survivor, "10000005")
    outcome = AdtProcessor(index).apply(msg(
        "M1", "A40", "PID|1||10000005^^^LOCAL^MR||NGUYEN^MARY||19900308|F", "MRG|10000004^^^LOCAL^MR"))
    assert outcome.code == "AA" and outcome.repointed == 2
    manifest = Manifest(index)
    for document_id in docs:
        doc = manifest.get(document_id)
        assert (doc.patient_id, doc.patient_mrn) == (survivor, "10000005")
    assert manifest.access_log(docs[0])[-1]["action"] == "merged"
    assert manifest.get(untouched).patient_mrn == "10000005"
    with index.connect() as conn:
        assert resolve(conn, "10000004") == survivor
        row = conn.execute(select(Patient).where(Patient.id == old)).one()
        assert not row.active and row.merged_into_id == survivor
        statuses = dict(conn.execute(select(Identifier.value, Identifier.status)
                                     .where(Identifier.patient_id == survivor)).all())
        assert statuses == {"10000005": "active", "10000004": "merged"}


def test_a08_rescores_review_items_of_that_patient(index, file_for) -> None:
    with index.connect() as conn:
        pid = resolve(conn, "10000001")
    paper = DocumentIdentifiers(family_name="DOE", given_name="JANE", birth_date=date(1980, 1, 3))
    queued = file_for(pid, "10000001", queued=True, identifiers=paper)
    outcome = AdtProcessor(index).apply(msg(
        "U1", "A08", "PID|1||10000001^^^LOCAL^MR||DOE^JANE||19800103|F"))
    assert outcome.code == "AA" and outcome.updated == 1 and outcome.rescored == 1
    manifest = Manifest(index)
    [item] = [i for i in manifest.open_review_items() if i.document_id == queued]
    assert item.candidates[0].mrn == "10000001" and item.candidates[0].probability > 0.99
    assert item.status == "open"  # only a clerk files a queued document
    assert item.match_reasons[0].startswith("matched on")  # the new match's reasons


def test_a_busy_index_gets_a_nak_and_the_resend_is_applied(db_url: str, engine) -> None:
    from sqlalchemy import create_engine

    from pipeline.patients.index import write_lock

    impatient = create_engine(db_url, connect_args={"timeout": 0.2})
    try:
        with engine.begin() as conn:  # a long import holding the index's write lock
            write_lock(conn)
            busy = AdtProcessor(impatient).apply(msg("B1", "A04", PID_NEW))
        assert busy.code == "AE" and busy.reason.startswith("patient index busy")
        resent = AdtProcessor(impatient).apply(msg("B1", "A04", PID_NEW))
        assert resent.code == "AA" and resent.inserted == 1 and not resent.duplicate
    finally:
        impatient.dispose()


def test_a_rejected_message_is_retried_when_sent_again(index) -> None:
    adt = AdtProcessor(index)
    merge = msg("R1", "A40", "PID|1||10000005^^^LOCAL^MR||NGUYEN^MARY||19900308|F", "MRG|55555555^^^LOCAL^MR")
    assert adt.apply(merge).code == "AE"  # the old MRN is not registered yet
    assert adt.apply(msg("R0", "A04", "PID|1||55555555^^^LOCAL^MR||NGUYEN^MARIE||19900308|F")).code == "AA"
    again = adt.apply(merge)
    assert again.code == "AA" and not again.duplicate and again.updated == 1
    assert adt.apply(merge).duplicate  # and now it is applied: a third copy is a duplicate
    with index.connect() as conn:
        assert resolve(conn, "55555555") == resolve(conn, "10000005")
        statuses = dict(conn.execute(select(AdtMessage.control_id, AdtMessage.status)).all())
        assert statuses == {"R0": "applied", "R1": "applied"}


def test_a40_merge_rescores_review_items_of_the_merged_patients(index, file_for) -> None:
    from pipeline.records import DocumentIdentifiers

    with index.connect() as conn:
        old, survivor = resolve(conn, "10000008"), resolve(conn, "10000009")
    # a document queued because the two ROBERT SMITHs were too close to tell apart
    paper = DocumentIdentifiers(family_name="SMITH", given_name="ROBERT", birth_date=date(1955, 2, 24))
    queued = file_for(old, "10000008", queued=True, identifiers=paper)
    outcome = AdtProcessor(index).apply(msg(
        "M2", "A40", "PID|1||10000009^^^LOCAL^MR||SMITH^ROBERT||19550224|M", "MRG|10000008^^^LOCAL^MR"))
    assert outcome.code == "AA" and outcome.rescored == 1
    [item] = [i for i in Manifest(index).open_review_items() if i.document_id == queued]
    assert [c.patient_id for c in item.candidates] == [survivor]  # the merged-away patient is gone
    assert item.status == "open"
