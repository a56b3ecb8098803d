"""ADT keyed per sender (MSH-3, MSH-4, MSH-10), identifier changes (A47, A34), and the 0004 migration."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from pipeline.patients.adt import AdtProcessor
from pipeline.patients.index import primary_mrn, resolve
from pipeline.patients.tables import AdtMessage, Identifier, Patient
from pipeline.store.database import make_engine, migrate
from pipeline.store.manifest import Manifest


def msg(control: str, event: str, pid: str, *extra: str, app: str = "ADT", facility: str = "HOSP") -> str:
    return "\r".join([f"MSH|^~\\&|{app}|{facility}|PIPE|HIM|20260301120000||ADT^{event}|{control}|P|2.5",
                      f"EVN|{event}|20260301120000", pid, *extra])


def test_the_same_control_id_from_another_sender_is_applied(index) -> None:
    adt = AdtProcessor(index)
    first = adt.apply(msg("42", "A08", "PID|1||10000001^^^LOCAL^MR||DOE^JANE||19800102|F|||1 New St^^Salem^MA^01970"))
    other_app = adt.apply(msg("42", "A08", "PID|1||10000006^^^LOCAL^MR||OKAFOR^WILLIAM||19480924|M",
                              app="LAB"))
    other_facility = adt.apply(msg("42", "A08", "PID|1||10000007^^^LOCAL^MR||PRZYBYLSKI^KATHERINE||20011205|F",
                                   facility="CLINIC^2.16.840.1.113883.1^ISO"))
    repeat = adt.apply(msg("42", "A08", "PID|1||10000001^^^LOCAL^MR||DOE^JANE||19990101|F"))
    assert [o.code for o in (first, other_app, other_facility, repeat)] == ["AA"] * 4
    assert not first.duplicate and not other_app.duplicate and not other_facility.duplicate
    assert other_app.updated == other_facility.updated == 1 and repeat.duplicate
    with index.connect() as conn:
        births = {mrn: conn.execute(select(Patient.birth_date).where(Patient.id == resolve(conn, mrn))).scalar()
                  for mrn in ("10000001", "10000006", "10000007")}
        keys = set(conn.execute(select(AdtMessage.sending_application, AdtMessage.sending_facility,
                                       AdtMessage.control_id)).all())
    assert births == {"10000001": date(1980, 1, 2), "10000006": date(1948, 9, 24), "10000007": date(2001, 12, 5)}
    assert keys == {("ADT", "HOSP", "42"), ("LAB", "HOSP", "42"), ("ADT", "CLINIC^2.16.840.1.113883.1^ISO", "42")}


def test_a47_changes_the_identifier_and_documents_follow(index, file_for) -> None:
    with index.connect() as conn:
        pid = resolve(conn, "10000006")
    filed = file_for(pid, "10000006")
    change = msg("I1", "A47", "PID|1||20000006^^^LOCAL^MR||OKAFOR^WILLIAM||19480923|M",
                 "MRG|10000006^^^LOCAL^MR")
    outcome = AdtProcessor(index).apply(change)
    assert outcome.code == "AA" and outcome.updated == 1 and outcome.repointed == 1
    with index.connect() as conn:
        assert resolve(conn, "20000006") == pid and resolve(conn, "10000006") == pid  # old paper still finds them
        assert primary_mrn(conn, pid) == "20000006"
        statuses = dict(conn.execute(select(Identifier.value, Identifier.status)
                                     .where(Identifier.patient_id == pid)).all())
    assert statuses == {"10000006": "replaced", "20000006": "active"}
    doc = Manifest(index).get(filed)
    assert (doc.patient_id, doc.patient_mrn) == (pid, "20000006")
    assert "A47 identifier change" in Manifest(index).access_log(filed)[-1]["reason"]
    again = AdtProcessor(index).apply(change.replace("|I1|", "|I2|"))
    assert again.code == "AA" and again.reason == "identifier already changed" and again.repointed == 0


def test_a47_to_an_identifier_of_another_patient_is_refused(index) -> None:
    outcome = AdtProcessor(index).apply(msg("I3", "A47", "PID|1||10000003^^^LOCAL^MR||HARTLEY^JOHN||19750615|M",
                                            "MRG|10000002^^^LOCAL^MR"))
    assert outcome.code == "AE" and "belongs to another patient" in outcome.reason
    with index.connect() as conn:  # the twins stay apart
        assert resolve(conn, "10000002") != resolve(conn, "10000003")


def test_a34_merges_known_patients_and_renames_an_unknown_id(index) -> None:
    adt = AdtProcessor(index)
    merge = adt.apply(msg("P1", "A34", "PID|1||10000009^^^LOCAL^MR||SMITH^ROBERT||19550224|M",
                          "MRG|10000008^^^LOCAL^MR"))
    rename = adt.apply(msg("P2", "A34", "PID|1||30000004^^^LOCAL^MR||NGUYEN^MARY||19621130|F",
                           "MRG|10000004^^^LOCAL^MR"))
    assert merge.code == rename.code == "AA"
    with index.connect() as conn:
        assert resolve(conn, "10000008") == resolve(conn, "10000009")
        assert conn.execute(select(Patient.active).where(Patient.id == 8)).scalar() is False
        assert resolve(conn, "30000004") == resolve(conn, "10000004") == 4
        assert primary_mrn(conn, 4) == "30000004"


@pytest.mark.parametrize(("mrg", "reason"), [
    ("", "identifier change without MRG-1"),
    ("MRG|77777777^^^LOCAL^MR", "MRG-1 identifier not in the index"),
])
def test_a47_without_a_known_prior_identifier_gets_a_nak(index, mrg: str, reason: str) -> None:
    text = msg("I9", "A47", "PID|1||20000001^^^LOCAL^MR||DOE^JANE", *([mrg] if mrg else []))
    outcome = AdtProcessor(index).apply(text)
    assert outcome.code == "AE" and outcome.reason.startswith(reason) and "MSA|AE|I9" in outcome.ack


@pytest.mark.parametrize(("text", "reason"), [
    (msg("X1", "A0812345678", "PID|1||1^^^H^MR"), "MSH-9 has no valid trigger event"),
    (msg("C" * 65, "A04", "PID|1||1^^^H^MR"), "MSH-10 control id is longer than 64"),
    (msg("X2", "A04", "PID|1||1^^^H^MR", app="A" * 300), "MSH-3 or MSH-4 is longer than 227"),
])
def test_header_fields_the_message_log_cannot_keep_are_refused(engine, text: str, reason: str) -> None:
    outcome = AdtProcessor(engine).apply(text)
    assert outcome.code == "AR" and outcome.reason.startswith(reason)


def test_migration_0004_keeps_the_messages_recorded_before(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config

    from pipeline.store.database import MIGRATIONS_DIR

    url = f"sqlite:///{tmp_path / 'old.db'}"
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url)
    command.upgrade(config, "0003")
    raw = create_engine(url)
    with raw.begin() as conn:
        conn.execute(text("INSERT INTO adt_messages (control_id, event, sending_facility, received_at, status) "
                          "VALUES ('OLD1', 'A04', 'HOSP', '2026-01-01 00:00:00', 'applied'), "
                          "('OLD2', 'A08', NULL, '2026-01-01 00:00:00', 'rejected')"))
    raw.dispose()
    migrate(url)
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = set(conn.execute(select(AdtMessage.sending_application, AdtMessage.sending_facility,
                                       AdtMessage.control_id, AdtMessage.status)).all())
    assert rows == {("", "HOSP", "OLD1", "applied"), ("", "", "OLD2", "rejected")}
    assert AdtProcessor(engine).apply(msg("OLD1", "A04", "PID|1||5^^^H^MR||DOE^JO||19800101|F")).code == "AA"
    engine.dispose()


@pytest.mark.integration
def test_a_field_longer_than_its_column_is_a_nak_on_postgresql(postgres_url: str) -> None:
    migrate(postgres_url)
    engine = make_engine(postgres_url)
    try:
        outcome = AdtProcessor(engine).apply(msg("L1", "A04", "PID|1||" + "9" * 80 + "^^^H^MR||DOE^JO||19800101|F"))
        assert outcome.code == "AE" and "longer than the patient index keeps" in outcome.reason
        resent = AdtProcessor(engine).apply(msg("L1", "A04", "PID|1||12345^^^H^MR||DOE^JO||19800101|F"))
        assert resent.code == "AA" and resent.inserted == 1
    finally:
        engine.dispose()
