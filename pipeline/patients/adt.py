"""HL7 v2 ADT: keeping the patient index current (the MLLP listener is `mllp.py`).

Events applied (`AdtProcessor.apply(text) -> AdtOutcome`):
    A01 A04 A05 A08 A28 A31   insert or update the patient from PID (A01 also opens an encounter)
    A03                       discharge: sets discharged_at on the encounter (PV1-19 visit number)
    A40 A18                   merge: the patient of MRG-1 into the patient of PID-3; old ids keep
                              resolving, names become aliases, every filed document is re-pointed
                              through the manifest (with its audit entry)
    A47                       identifier change: the identifier of MRG-1 becomes the one of PID-3 on
                              the same patient (the old one keeps resolving); refused (AE) when the
                              new identifier belongs to another patient: that is a merge (A40)
    A34                       merge, patient id only: a merge when PID-3 names another patient, an
                              identifier change when PID-3 is not in the index yet
Other ADT events are acknowledged and ignored. A message is known by its sender and control id
(MSH-3, MSH-4, MSH-10: control ids are unique per sender only); a repeat of one applied before is
acknowledged and not applied again; a message that was rejected (AE) may be sent again and is then
retried. A08 and merges re-score the review items waiting for the patients concerned.

Each message gets an ACK: AA applied (or duplicate / ignored), AE an ADT we cannot apply (reason
in MSA-3 and ERR), AR not an ADT message or not parseable.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

import hl7
from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.exc import IntegrityError as SqlIntegrityError

from pipeline.errors import AdtError
from pipeline.patients import index, normalize
from pipeline.patients.tables import (
    CONTROL_ID_MAX,
    DEFAULT_AUTHORITY,
    MRN_TYPE,
    NAME_ALIAS,
    NAME_OFFICIAL,
    NAME_PREVIOUS,
    SENDER_MAX,
    AdtMessage,
    Encounter,
)

log = logging.getLogger(__name__)

UPSERT_EVENTS = {"A01", "A04", "A05", "A08", "A28", "A31"}
MERGE_EVENTS = {"A40", "A18"}
ID_CHANGE_EVENTS = {"A47", "A34"}
RESCORE_EVENTS = {"A08"} | MERGE_EVENTS | ID_CHANGE_EVENTS
_EVENT_CODE = re.compile(r"[A-Z0-9]{1,8}")
ACTOR = "adt"


@dataclass(frozen=True, slots=True)
class AdtOutcome:
    code: str  # AA, AE, AR
    event: str
    control_id: str
    reason: str = ""
    inserted: int = 0
    updated: int = 0
    duplicate: bool = False
    repointed: int = 0
    rescored: int = 0
    ack: str = ""  # the ACK message to send back

    @property
    def accepted(self) -> bool:
        return self.code == "AA"


class AdtProcessor:
    def __init__(self, engine: Engine, *, matcher_factory: Callable[[], object] | None = None,
                 actor: str = ACTOR) -> None:
        self.engine = engine
        self.actor = actor
        self._matcher_factory = matcher_factory

    # ----------------------------------------------------------------------------------- apply

    def apply(self, text: str) -> AdtOutcome:
        text = text.strip("\x0b\x1c\r\n ").replace("\r\n", "\r").replace("\n", "\r")
        try:
            message = hl7.parse(text)
            key = MessageKey.of(message)
            message_type = _get(message, "MSH.F9.R1.C1")
            event = _get(message, "MSH.F9.R1.C2")
        except Exception as exc:  # noqa: BLE001 - the parser raises many kinds on garbage
            log.warning("ADT: unparseable message rejected (%s)", type(exc).__name__)
            return AdtOutcome("AR", "", "", "message cannot be parsed as HL7 v2",
                              ack=_raw_nak("message cannot be parsed as HL7 v2"))
        control_id = key.control_id[:CONTROL_ID_MAX]
        if message_type != "ADT":
            return self._answer(message, AdtOutcome("AR", event, control_id,
                                                    f"message type {message_type[:16] or '?'} is not ADT"))
        if not _EVENT_CODE.fullmatch(event):
            return self._answer(message, AdtOutcome("AR", "", control_id, "MSH-9 has no valid trigger event"))
        if problem := key.problem():
            return self._answer(message, AdtOutcome("AR", event, control_id, problem))
        if self._already_applied(key):
            return self._duplicate(message, event, key)
        try:
            outcome, touched, repoint = self._apply_event(message, event, key)
        except OperationalError:
            # locked by a long import, or the database is away: not recorded, so a resend applies
            log.warning("ADT %s %s: patient index busy or unavailable; NAK, sender should resend", event, control_id)
            return self._answer(message, AdtOutcome(
                "AE", event, control_id, "patient index busy or unavailable; resend the message later"))
        except AdtError as exc:
            if self._already_applied(key):  # the same message, applied meanwhile by another worker
                return self._duplicate(message, event, key)
            outcome, touched, repoint = AdtOutcome("AE", event, control_id, str(exc)), set(), None
            self._record(key, event, "rejected", str(exc))
        if repoint:
            outcome = _replace(outcome, repointed=self._repoint(*repoint, event))
        if touched and event in RESCORE_EVENTS:
            outcome = _replace(outcome, rescored=self._rescore(touched))
        log.info("ADT %s %s: %s %s", event, control_id, outcome.code, outcome.reason)
        return self._answer(message, outcome)

    def _already_applied(self, key: MessageKey) -> bool:
        """Dedup on (sender, control id): a message applied once is not applied again (a rejected one may be resent)."""
        with self.engine.connect() as conn:
            status = conn.execute(select(AdtMessage.status).where(*key.where())).scalar()
        return status == "applied"

    def _duplicate(self, message, event: str, key: MessageKey) -> AdtOutcome:
        log.info("ADT %s %s: duplicate control id from this sender, not applied again", event, key.control_id)
        return self._answer(message, AdtOutcome("AA", event, key.control_id, "duplicate message: already received",
                                                duplicate=True))

    def _apply_event(self, message, event: str, key: MessageKey):
        touched: set[int] = set()
        repoint = None
        try:
            with self.engine.begin() as conn:
                if event in UPSERT_EVENTS or event in MERGE_EVENTS or event in ID_CHANGE_EVENTS or event == "A03":
                    record = pid_record(message)
                else:
                    record = None
                inserted = updated = 0
                reason = "applied"
                if event in UPSERT_EVENTS:
                    result = index.upsert(conn, [record])
                    inserted, updated = result.imported, result.updated
                    pid = result.patient_ids[0]
                    touched.add(pid)
                    if event == "A01":
                        _admit(conn, message, pid)
                elif event == "A03":
                    pid = _find(conn, record)
                    if pid is None:
                        raise AdtError("discharge for a patient not in the index (PID-3)")
                    _discharge(conn, message, pid)
                elif event in ID_CHANGE_EVENTS and (event == "A47" or _find(conn, record) is None):
                    pid, reason, repoint = _change_identifier(conn, message, record, event)
                    touched.add(pid)
                    updated = int(reason == "applied")
                elif event in MERGE_EVENTS or event in ID_CHANGE_EVENTS:
                    old_id = _mrg_patient(conn, message, "merge")
                    new_id = _find(conn, record)
                    if new_id is None:
                        result = index.upsert(conn, [record])
                        new_id = result.patient_ids[0]
                        inserted = 1
                    if new_id == old_id:
                        reason = "already merged"
                    else:
                        index.merge(conn, old_id, new_id)
                        updated = 1
                        repoint = (old_id, new_id, index.primary_mrn(conn, new_id) or "", "merge")
                        touched.update({old_id, new_id})
                else:
                    reason = f"event {event} is not used by the patient index; acknowledged"
                conn.execute(delete(AdtMessage).where(*key.where()))  # an earlier rejection
                conn.execute(insert(AdtMessage).values(**_log_row(key, event, "applied", None)))
        except SqlIntegrityError as exc:
            raise AdtError("message conflicts with the index (duplicate identifier or control id)") from exc
        except DataError as exc:  # PostgreSQL: a value longer than its column
            raise AdtError("a field is longer than the patient index keeps; check the message") from exc
        return AdtOutcome("AA", event, key.control_id, reason, inserted, updated), touched, repoint

    def _record(self, key: MessageKey, event: str, status: str, detail: str) -> None:
        try:
            with self.engine.begin() as conn:
                conn.execute(delete(AdtMessage).where(*key.where(), AdtMessage.status != "applied"))
                conn.execute(insert(AdtMessage).values(**_log_row(key, event, status, detail)))
        except SqlIntegrityError:
            pass  # applied meanwhile: that record stands

    # ---------------------------------------------------------------------- manifest hand-off

    def _repoint(self, old_id: int, new_id: int, new_mrn: str, what: str, event: str) -> int:
        from pipeline.store.manifest import Manifest

        count = Manifest(self.engine).repoint_patient(
            old_patient_id=old_id, new_patient_id=new_id, new_mrn=new_mrn,
            reason=f"ADT {event} {what}", actor=self.actor)
        log.info("%s: %d document(s) re-pointed", what, count)
        return int(count or 0)

    def _rescore(self, patient_ids: set[int]) -> int:
        from pipeline.store.manifest import Manifest

        manifest = Manifest(self.engine)
        if not hasattr(manifest, "review_items_for_patients"):
            return 0
        items = manifest.review_items_for_patients(patient_ids)
        if not items:
            return 0
        matcher = self._matcher_factory() if self._matcher_factory else _default_matcher(self.engine)
        for item_id, identifiers in items:
            manifest.rescore_review_item(item_id, matcher.match(identifiers))
        return len(items)

    # ---------------------------------------------------------------------------------- ACKs

    def _answer(self, message, outcome: AdtOutcome) -> AdtOutcome:
        return _replace(outcome, ack=make_ack(message, outcome.code, outcome.reason, control_id=outcome.control_id))


@dataclass(frozen=True, slots=True)
class MessageKey:
    """What identifies a message: control ids are unique only per sending application and facility."""

    application: str  # MSH-3, every component as sent
    facility: str  # MSH-4
    control_id: str  # MSH-10

    @classmethod
    def of(cls, message) -> MessageKey:
        msh = message.segment("MSH")
        return cls(_msh_field(msh, 3), _msh_field(msh, 4), _msh_field(msh, 10))

    def where(self):
        return (AdtMessage.sending_application == self.application, AdtMessage.sending_facility == self.facility,
                AdtMessage.control_id == self.control_id)

    def problem(self) -> str:
        """Why the message log cannot keep this key ("" when it can)."""
        if not self.control_id:
            return "MSH-10 control id is empty"
        if len(self.control_id) > CONTROL_ID_MAX:
            return f"MSH-10 control id is longer than {CONTROL_ID_MAX} characters"
        if len(self.application) > SENDER_MAX or len(self.facility) > SENDER_MAX:
            return f"MSH-3 or MSH-4 is longer than {SENDER_MAX} characters"
        return ""


def _msh_field(msh, number: int) -> str:
    """A whole MSH field as sent, every component (hl7 numbers MSH fields from MSH-1)."""
    return str(msh[number]).strip() if len(msh) > number else ""


def _log_row(key: MessageKey, event: str, status: str, detail: str | None) -> dict:
    return {"sending_application": key.application, "sending_facility": key.facility,
            "control_id": key.control_id, "event": event or "?", "received_at": datetime.now(UTC),
            "status": status, "detail": detail}


def _default_matcher(engine: Engine):
    from pipeline.patients.matcher import Matcher

    return Matcher(engine)


def _replace(outcome: AdtOutcome, **changes) -> AdtOutcome:
    return replace(outcome, **changes)


def make_ack(message, code: str, text: str = "", err_code: str | None = None, control_id: str = "") -> str:
    """The ACK to `message`: MSA-1 `code`, MSA-3 `text`, and for a NAK an ERR segment with the reason."""
    # ERR-3 error code (207 application internal error / 200 unsupported), ERR-4 severity, ERR-8 text
    err_code = err_code or ("200^Unsupported message type^HL70357" if code == "AR"
                            else "207^Application internal error^HL70357")
    try:
        ack = message.create_ack(code, message_id=f"ACK{datetime.now(UTC):%Y%m%d%H%M%S%f}")
        lines = [line for line in str(ack).split("\r") if line]
    except Exception:  # noqa: BLE001 - the hl7 package fails in many ways on a header it half parsed
        return _raw_nak(text, code, control_id, err_code)
    lines = [line + f"|{_escape(text)}" if line.startswith("MSA") and text else line for line in lines]
    if code != "AA" and text:
        lines.append(f"ERR|||{err_code}|E||||{_escape(text)}")
    return "\r".join(lines) + "\r"


def reject_unread(head: bytes, reason: str, code: str = "AR") -> str:
    """The answer to a message that was not read whole (too large, cut short): an ACK to its MSH
    when the first bytes hold one (MSA-2 = its control id), a bare NAK otherwise."""
    first = head.decode("utf-8", errors="replace").replace("\n", "\r").split("\r", 1)[0].lstrip("\x0b")
    internal = "207^Application internal error^HL70357"
    try:
        message = hl7.parse(first)
        message.segment("MSH")
    except Exception:  # noqa: BLE001 - any garbage: answer without referring to it
        return _raw_nak(reason, code, "", internal)
    return make_ack(message, code, reason, internal)


def _raw_nak(text: str, code: str = "AR", control_id: str = "",
             err_code: str = "100^Segment sequence error^HL70357") -> str:
    now = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    err = f"ERR|||{err_code}|E||||{_escape(text)}\r" if code != "AA" else ""
    return (f"MSH|^~\\&|PIPELINE|HIM|||{now}||ACK|ACK{now}|P|2.5\r"
            f"MSA|{code}|{_escape(control_id)}|{_escape(text)}\r{err}")


def _escape(text: str) -> str:
    return (text.replace("\\", "\\E\\").replace("|", "\\F\\").replace("^", "\\S\\")
            .replace("&", "\\T\\").replace("~", "\\R\\"))


# ------------------------------------------------------------------------------- PID mapping


def _get(message, path: str) -> str:
    try:
        return str(message[path]).strip()
    except (KeyError, IndexError, AttributeError):
        return ""


_HL7_NAME_USE = {"L": NAME_OFFICIAL, "": NAME_OFFICIAL, "M": NAME_PREVIOUS, "B": NAME_PREVIOUS}


def pid_record(message) -> index.PatientRecord:
    """The patient of a message's PID segment."""
    try:
        pid = message.segment("PID")
    except KeyError as exc:
        raise AdtError("message has no PID segment") from exc
    identifiers = []
    if len(pid) > 3:
        for rep in pid[3]:
            value = normalize.identifier(_component(rep, 0))
            if value:
                identifiers.append((value, _component(rep, 3) or DEFAULT_AUTHORITY, _component(rep, 4) or MRN_TYPE))
    if not identifiers:
        raise AdtError("PID-3 has no patient identifier")
    names = []
    if len(pid) > 5:
        for rep in pid[5]:
            family, given = normalize.name(_component(rep, 0)), normalize.name(_component(rep, 1))
            middle = normalize.name(_component(rep, 2))
            use = _HL7_NAME_USE.get(_component(rep, 6), NAME_ALIAS)
            first, _, rest = given.partition(" ")
            if family and first:
                names.append((family, first, middle or rest, use))
    if names and not any(n[3] == NAME_OFFICIAL for n in names):
        names[0] = (*names[0][:3], NAME_OFFICIAL)
    birth = None
    raw_dob = str(pid[7]).strip() if len(pid) > 7 else ""
    if raw_dob:
        try:
            birth = date(int(raw_dob[:4]), int(raw_dob[4:6]), int(raw_dob[6:8]))
        except ValueError as exc:
            raise AdtError("PID-7 birth date is not YYYYMMDD") from exc
    sex = normalize.sex(str(pid[8])) if len(pid) > 8 else None
    addresses = []
    if len(pid) > 11:
        for rep in pid[11]:
            line = _component(rep, 0)
            if line or _component(rep, 4):
                addresses.append((normalize.address(line), _component(rep, 2).upper(), _component(rep, 3).upper(),
                                  normalize.postcode(_component(rep, 4))))
    phones = []
    if len(pid) > 13:
        for rep in pid[13]:
            digits = normalize.phone(_component(rep, 0) or _component(rep, 11))
            if digits:
                phones.append(digits)
    return index.PatientRecord(tuple(identifiers), tuple(names), birth, sex, tuple(addresses), tuple(phones), "hl7")


def _component(rep, i: int) -> str:
    try:
        value = rep[i]
    except (IndexError, TypeError):
        return ""
    return str(value).strip()


def _find(conn, record: index.PatientRecord) -> int | None:
    for value, _, type_code in record.identifiers:
        pid = index.resolve(conn, value, type_code)
        if pid is not None:
            return pid
    return None


def _mrg_patient(conn, message, what: str) -> int:
    old_value = _get(message, "MRG.F1.R1.C1")
    if not old_value:
        raise AdtError(f"{what} without MRG-1 (the prior identifier)")
    old_id = index.resolve(conn, old_value)
    if old_id is None:
        raise AdtError("MRG-1 identifier not in the index")
    return old_id


def _change_identifier(conn, message, record: index.PatientRecord, event: str):
    """A47 (and A34 to an unknown id): MRG-1's identifier is replaced by PID-3's first on the same patient.
    Returns (patient id, reason, repoint) where repoint re-labels the patient's documents when the
    primary MRN changed."""
    pid = _mrg_patient(conn, message, "identifier change")
    old_value = normalize.identifier(_get(message, "MRG.F1.R1.C1"))
    new_value, authority, type_code = record.identifiers[0]
    holder = index.resolve(conn, new_value, type_code)
    if holder is not None and holder != pid:
        raise AdtError("PID-3 identifier already belongs to another patient; send a merge (A40) instead")
    before = index.primary_mrn(conn, pid)
    changed = index.change_identifier(conn, pid, old_value, (new_value, authority, type_code))
    after = index.primary_mrn(conn, pid) or ""
    repoint = (pid, pid, after, "identifier change") if changed and after != before else None
    return pid, "applied" if changed else "identifier already changed", repoint


def _hl7_time(text: str) -> datetime | None:
    digits = "".join(c for c in text if c.isdigit())
    if len(digits) < 8:
        return None
    try:
        return datetime.strptime(digits[:14].ljust(14, "0"), "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return None


def _event_time(message) -> datetime:
    return _hl7_time(_get(message, "EVN.F2")) or _hl7_time(_get(message, "MSH.F7")) or datetime.now(UTC)


def _admit(conn, message, pid: int) -> None:
    conn.execute(insert(Encounter).values(
        patient_id=pid, visit_number=_get(message, "PV1.F19.R1.C1") or None,
        patient_class=_get(message, "PV1.F2") or None, location=_get(message, "PV1.F3.R1.C1") or None,
        admitted_at=_hl7_time(_get(message, "PV1.F44")) or _event_time(message)))


def _discharge(conn, message, pid: int) -> None:
    visit = _get(message, "PV1.F19.R1.C1") or None
    when = _hl7_time(_get(message, "PV1.F45")) or _event_time(message)
    query = select(Encounter.id).where(Encounter.patient_id == pid, Encounter.discharged_at.is_(None))
    if visit:
        query = select(Encounter.id).where(Encounter.patient_id == pid, Encounter.visit_number == visit)
    encounter_id = conn.execute(query.order_by(Encounter.id.desc()).limit(1)).scalar()
    if encounter_id is None:
        conn.execute(insert(Encounter).values(patient_id=pid, visit_number=visit,
                                              patient_class=_get(message, "PV1.F2") or None, discharged_at=when))
    else:
        conn.execute(update(Encounter).where(Encounter.id == encounter_id).values(discharged_at=when))
