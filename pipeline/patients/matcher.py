"""Matching a document to its patient in the index: `Matcher.identify(ocr)` and `Matcher.match(ids)`.

0. Reading: `identify` reads the labelled fields (`extract.py`) and, without labels, everything in
   the header zones that could identify the patient (`reading.py`).
1. Blocking: indexed lookups find the candidates: MRN (and its one-digit variants) and every
   MRN-like number of the header, birth date (and its day/month transposition) and every date of
   the header that could be one (with a phonetic key of a header word in common), phonetic name
   keys (kept when the birth year or month/day agree), phones. Merged-away patients resolve to the
   survivor.
2. Scoring: Fellegi-Sunter. Each candidate's own values are first looked for in the header where no
   label gave them (`verify.py`). Each comparison (`comparisons.py`) puts the pair into a level;
   the level's log2(m/u), estimated by Splink (`training.py`), is summed into the match weight, an
   exact name corrected for how common it is in the index (`frequencies.py`). The probability is
   the posterior over "one of the candidates, or nobody in the index":
       p_c = 2^w_c * pi/N / ((1 - pi) + sum_j 2^w_j * pi/N)
   with N active patients and pi = P(the document's patient is in the index).
3. Decision (see docs/matching.md): AUTO_FILE only when two independent identifiers agree (birth
   date exact and name or MRN; without a birth date, name and MRN), no key identifier disagrees,
   p_best >= `match_auto_file_threshold`, and the runner-up trails by >= `match_runner_up_margin`
   log2 units. An MRN alone is never enough. NO_MATCH when nobody is found or the candidates
   together are less likely than `match_review_threshold`. REVIEW otherwise.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine, text

from pipeline.patients import comparisons as cmp
from pipeline.patients import frequencies, normalize
from pipeline.patients.extract import extract_identifiers
from pipeline.patients.reading import HeaderReading, read_header
from pipeline.patients.tables import MRN_TYPE
from pipeline.patients.training import MatchModel, load_model
from pipeline.patients.verify import found_identifiers, printed_in_full, verified
from pipeline.records import (
    Candidate,
    DocumentIdentifiers,
    FieldVerdict,
    MatchOutcome,
    OcrResult,
    PatientMatch,
)

log = logging.getLogger(__name__)

IN_INDEX_PRIOR = 0.9
MAX_CANDIDATES_SHOWN = 5
NAME_BLOCK_LIMIT = 2000  # name-key candidates when the birth year or month/day narrows them
NAME_ONLY_BLOCK_LIMIT = 50  # without a birth date: a document that can only go to review
SQLITE_MMAP_BYTES = 1 << 30
_COUNT_TTL = 300.0  # seconds between refreshes of the active-patient count
_FREQUENCY_TTL = 3600.0  # seconds between re-counts of name frequencies (imports run in other processes)


@dataclass(frozen=True, slots=True)
class Thresholds:
    auto_file: float = 0.99
    review: float = 0.5
    runner_up_margin: float = 10.0


_Q_COUNT = text("SELECT count(*) FROM patients WHERE active")


class Matcher:
    def __init__(self, engine: Engine, model: MatchModel | None = None,
                 thresholds: Thresholds | None = None, *, in_index_prior: float = IN_INDEX_PRIOR) -> None:
        self.engine = engine
        self.model = model or load_model()
        self.thresholds = thresholds or Thresholds()
        self.in_index_prior = in_index_prior
        self._count = 0
        self._counted_at = -_COUNT_TTL
        self._frequencies = frequencies.EMPTY
        self._frequencies_at = -_FREQUENCY_TTL

    @classmethod
    def from_settings(cls, settings, engine: Engine) -> Matcher:
        return cls(
            engine,
            load_model(),
            Thresholds(
                auto_file=settings.match_auto_file_threshold,
                review=settings.match_review_threshold,
                runner_up_margin=settings.match_runner_up_margin,
            ),
        )

    # ------------------------------------------------------------------------------- public

    def identify(self, ocr: OcrResult, *, today: date | None = None) -> tuple[DocumentIdentifiers, PatientMatch]:
        """A document's patient: the labelled identifiers, plus everything in its header zones
        that the index confirms (see `reading.py`). Returns the identifiers as the paper shows
        them, with the evidence of every field that agreed with the best candidate, and the match."""
        ids = extract_identifiers(ocr, today=today)
        reading = read_header(ocr, today=today)
        match, found = self._match(ids, reading)
        return found_identifiers(ids, found), match

    def match(self, ids: DocumentIdentifiers, reading: HeaderReading | None = None) -> PatientMatch:
        """The patient for identifiers already read (and, if given, the header's unlabelled values)."""
        return self._match(ids, reading)[0]

    def _match(self, ids: DocumentIdentifiers, reading: HeaderReading | None) -> tuple[PatientMatch, dict]:
        doc = cmp.features(ids.family_name, ids.given_name, ids.birth_date, ids.mrn, ids.sex,
                           ids.address, ids.postcode, ids.phone)
        with self.engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                # read the index through a memory map: a warm lookup then costs no read() calls
                conn.exec_driver_sql(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
            population = self._population(conn)
            tf = self._name_frequencies(conn)
            candidate_ids = self._block(conn, doc, ids.birth_date, reading)
            records = self._load(conn, candidate_ids) if candidate_ids else {}
        scored = sorted((self._score(doc, rec, reading, tf) for rec in records.values()),
                        key=lambda c: c[0], reverse=True)
        if not scored:
            log.info("match: no candidate found")
            return PatientMatch(MatchOutcome.NO_MATCH, None, (), (
                "patient not in index: no patient shares the name, birth date, MRN or phone",)), {}
        prior = self.in_index_prior / max(population, 1)
        total = (1.0 - self.in_index_prior) + sum(2.0 ** min(w, 1000.0) * prior for w, _, _ in scored)
        candidates = tuple(
            Candidate(
                patient_id=rec["id"],
                mrn=rec["mrn"],
                probability=min(1.0, 2.0 ** min(w, 1000.0) * prior / total),
                match_weight=round(w, 3),
                fields=verdicts,
                display_name=rec["display_name"],
            )
            for w, verdicts, rec in scored[:MAX_CANDIDATES_SHOWN]
        )
        mrn_elsewhere = any(rec["levels"]["mrn"] == 1 for _, _, rec in scored[1:])
        # a label stuck on the page whose barcode is another patient's MRN, whatever else agrees
        labels = {seen.value for seen in reading.numbers if seen.source == "barcode"} if reading else set()
        label_elsewhere = any(labels & set(rec["mrns"]) for _, _, rec in scored[1:])
        # JOAN HARTLEY printed with her twin JOHN's MRN: the name as printed is exactly another
        # candidate's, born that day (or with no birth date to tell them apart)
        name_elsewhere = scored[0][2]["levels"]["name"] not in (1, 2) and any(
            rec["levels"]["name"] in (1, 2) and rec["levels"]["birth_date"] != 4 for _, _, rec in scored[1:])
        # a guarantor's, a parent's or a sibling's name and birth date printed outside any block the
        # readers know to be about someone else: two people of the index on one page
        two_people = reading is not None and any(printed_in_full(rec, reading) for _, _, rec in scored[1:])
        in_candidates = sum(2.0 ** min(w, 1000.0) * prior for w, _, _ in scored) / total
        decided = self._decide(candidates, [w for w, _, _ in scored], mrn_elsewhere, in_candidates,
                               name_elsewhere=name_elsewhere, label_elsewhere=label_elsewhere,
                               two_people=two_people, initial_only=scored[0][2]["initial"], another_name=scored[0][2]["another_name"],
                               garbled_given=scored[0][2]["garbled_given"])
        return decided, scored[0][2]["found"]

    # ------------------------------------------------------------------------------ blocking

    def _population(self, conn) -> int:
        now = time.monotonic()
        if now - self._counted_at > _COUNT_TTL:
            self._count = int(conn.execute(_Q_COUNT).scalar() or 0)
            self._counted_at = now
        return self._count

    def _name_frequencies(self, conn) -> frequencies.NameFrequencies:
        now = time.monotonic()
        if now - self._frequencies_at > _FREQUENCY_TTL:
            self._frequencies = frequencies.NameFrequencies.load(conn)
            self._frequencies_at = now
        return self._frequencies

    def _block(self, conn, doc: dict, birth_date: date | None, reading: HeaderReading | None = None) -> set[int]:
        """Candidate ids from one UNION ALL of indexed lookups (one round trip)."""
        q = _Sql(conn)
        parts = []
        numbers = sorted(mrn_variants(doc["mrn"])) if doc["mrn"] else []
        if reading is not None:
            numbers = sorted({*numbers, *(s.value for s in reading.numbers)})
        if numbers:
            parts.append("SELECT 'm', p.id, p.active, p.merged_into_id, p.birth_date FROM identifiers i "
                         f"JOIN patients p ON p.id = i.patient_id WHERE i.value IN ({q.many(numbers)})")
        dates = _date_variants(birth_date)
        keys = sorted({x for x in (doc["family_key"], doc["given_key"]) if x})
        if reading is not None:
            dates = sorted({*dates, *reading.birth_dates()})
            keys = sorted({*keys, *reading.name_keys()})
        if dates and (doc["family"] or doc["given"] or keys):
            # same birth date and some trace of the name: a phonetic key, or both initials, in common
            # (patients sharing only the birth date can never be auto-filed and would crowd review)
            f1, g1 = doc["family"][:1], doc["given"][:1]
            # placeholders are numbered in the order the parameters are added: build left to right
            sql = ("SELECT DISTINCT 'd', p.id, p.active, p.merged_into_id, p.birth_date FROM patients p "
                   f"JOIN names n ON n.patient_id = p.id WHERE p.birth_date IN ({q.many([q.date(d) for d in dates])})")
            sql += f" AND (n.family_key IN ({q.many(keys or [''])}) OR n.given_key IN ({q.many(keys or [''])})"
            if f1 or g1:
                sql += f" OR (substr(n.family, 1, 1) = {q.one(f1)} AND substr(n.given, 1, 1) = {q.one(g1)})"
                sql += f" OR (substr(n.family, 1, 1) = {q.one(g1)} AND substr(n.given, 1, 1) = {q.one(f1)})"
            parts.append(sql + ")")
        elif dates:
            parts.append("SELECT 'd', id, active, merged_into_id, birth_date FROM patients "
                         f"WHERE birth_date IN ({q.many([q.date(d) for d in dates])})")
        if doc["family_key"] and doc["given_key"]:
            for fk, gk in {(doc["family_key"], doc["given_key"]), (doc["given_key"], doc["family_key"])}:
                where = f"n.family_key = {q.one(fk)} AND n.given_key = {q.one(gk)}"
                if birth_date is not None:
                    # the same birth year, or the same month and day (either order): survives one
                    # wrong digit or a day/month swap in the printed birth date
                    year = birth_date.year
                    where += (f" AND (n.birth_date BETWEEN {q.one(q.date(date(year, 1, 1)))} "
                              f"AND {q.one(q.date(date(year, 12, 31)))} "
                              f"OR {q.month_day('n.birth_date')} IN ({q.many(_month_days(birth_date))}))")
                limit = NAME_BLOCK_LIMIT if birth_date is not None else NAME_ONLY_BLOCK_LIMIT
                parts.append("SELECT * FROM (SELECT 'n', p.id, p.active, p.merged_into_id, p.birth_date "
                             f"FROM names n JOIN patients p ON p.id = n.patient_id WHERE {where} "
                             f"LIMIT {limit}) AS nb")
        phones = {doc["phone"]} - {""}
        if reading is not None:
            phones |= {s.value for s in reading.phones}
        if phones:
            parts.append("SELECT 'p', p.id, p.active, p.merged_into_id, p.birth_date FROM phones ph "
                         f"JOIN patients p ON p.id = ph.patient_id WHERE ph.digits IN ({q.many(sorted(phones))})")
        if not parts:
            return set()
        found: set[int] = set()
        merged: set[int] = set()
        for source, pid, active, merged_into, dob in q.run(" UNION ALL ".join(parts)):
            if active:
                found.add(pid)
            elif merged_into is not None:
                merged.add(merged_into)
        if merged - found:
            found |= self._resolve(conn, merged - found)
        return found

    def _resolve(self, conn, ids: set[int]) -> set[int]:
        """Survivors of merged-away patients (chains followed)."""
        result: set[int] = set()
        pending = set(ids)
        for _ in range(8):
            if not pending:
                break
            q = _Sql(conn)
            nxt: set[int] = set()
            for pid, active, merged_into in q.run(
                    f"SELECT id, active, merged_into_id FROM patients WHERE id IN ({q.many(sorted(pending))})"):
                if active:
                    result.add(pid)
                elif merged_into is not None and merged_into not in result:
                    nxt.add(merged_into)
            pending = nxt
        return result

    def _load(self, conn, ids: set[int]) -> dict[int, dict]:
        """Everything needed to score the candidates, in one round trip."""
        q = _Sql(conn)
        ordered = sorted(ids)
        # f-strings run left to right, so placeholders and parameters stay in step
        sql = " UNION ALL ".join([
            f"SELECT 'p', id, CAST(birth_date AS VARCHAR(10)), sex, NULL, NULL, NULL FROM patients WHERE id IN ({q.many(ordered)})",
            "SELECT 'n', patient_id, family, given, use, family_key, given_key FROM names "
            f"WHERE patient_id IN ({q.many(ordered)})",
            f"SELECT 'i', patient_id, value, status, NULL, NULL, NULL FROM identifiers "
            f"WHERE patient_id IN ({q.many(ordered)}) AND type_code = {q.one(MRN_TYPE)}",
            "SELECT 'a', patient_id, line, postcode, NULL, NULL, NULL FROM addresses "
            f"WHERE patient_id IN ({q.many(ordered)})",
            f"SELECT 't', patient_id, digits, NULL, NULL, NULL, NULL FROM phones WHERE patient_id IN ({q.many(ordered)})",
        ])
        rows = q.run(sql)
        recs: dict[int, dict] = {}
        for kind, pid, a, b, _c, _d, _e in rows:
            if kind == "p":
                dob = date.fromisoformat(a) if isinstance(a, str) else a
                recs[pid] = {"id": pid, "dob": normalize.date_digits(dob), "sex": b or "", "names": [],
                             "mrns": [], "addresses": [], "phones": [], "mrn": "", "display_name": ""}
        for kind, pid, a, b, c, d, e in rows:
            rec = recs.get(pid)
            if rec is None or kind == "p":
                continue
            if kind == "n":
                rec["names"].append((c, normalize.compact(a), normalize.compact(b), d, e, a))
                if c == "official" or not rec["display_name"]:
                    rec["display_name"] = f"{a}, {b}"
            elif kind == "i":
                rec["mrns"].append(a)
                if b == "active" and not rec["mrn"]:
                    rec["mrn"] = a
            elif kind == "a":
                rec["addresses"].append((a or "", b or ""))
            else:
                rec["phones"].append(a)
        for rec in recs.values():
            if not rec["mrn"] and rec["mrns"]:
                rec["mrn"] = rec["mrns"][0]
        return recs

    # ------------------------------------------------------------------------------- scoring

    def _score(self, doc: dict, rec: dict, reading: HeaderReading | None = None,
               tf: frequencies.NameFrequencies = frequencies.EMPTY) -> tuple[float, dict[str, FieldVerdict], dict]:
        weights = self.model.weights
        found: dict = {}
        if reading is not None:
            # what the paper shows of this candidate's own values, where no label said it
            doc, found = verified(doc, rec, reading, weights)
        side = {"dob": rec["dob"], "sex": rec["sex"] if rec["sex"] in ("M", "F") else "",
                "dob_dm": "", "nicks": []}
        levels: dict[str, int] = {}

        def best(name: str, options: list[dict]) -> None:
            func = cmp.LEVEL_FUNCTIONS[name]
            choices = [func(doc, {**side, **opt}) for opt in options] or [0]
            # the option that helps the match most (aliases, old MRNs, previous addresses)
            levels[name] = max(choices, key=lambda lv: (lv != 0, weights[name][lv]))

        best("name", [
            {"family": f, "given": g, "family_key": fk, "given_key": gk,
             "nicks": sorted(cmp.NICKNAMES.get(g, ()))}
            for _, f, g, fk, gk, _full in rec["names"]
        ])
        levels["birth_date"] = cmp.level_birth_date(doc, side)
        levels["sex"] = cmp.level_sex(doc, side)
        best("mrn", [{"mrn": v} for v in rec["mrns"]])
        best("address", [{"address": line, "postcode": pc} for line, pc in rec["addresses"]])
        best("phone", [{"phone": p} for p in rec["phones"]])
        another = levels["name"] == 3 and _another_real_name(doc, rec["names"], tf)
        # "S. MARTINEZ": an initial stands for the given name; a sibling born the same day at the same
        # address (a twin absent from the index) reads the same
        initial = levels["name"] == 3 and len(doc.get("given") or "") == 1
        garbled = levels["name"] == 4 and _garbled_given(doc, rec["names"], tf)
        total = sum(weights[name][lv] for name, lv in levels.items())
        if levels["name"] in (1, 2):  # exact (or exactly swapped): a common name counts less
            total += tf.adjustment(doc["family"], doc["given"]) if levels["name"] == 1 else \
                tf.adjustment(doc["given"], doc["family"])
        verdicts = {name: cmp.LEVELS[name][lv].verdict for name, lv in levels.items()}
        return total, verdicts, {**rec, "levels": levels, "found": found, "another_name": another,
                                 "garbled_given": garbled, "initial": initial}

    # ------------------------------------------------------------------------------ decision

    def _decide(self, candidates: tuple[Candidate, ...], weights: list[float], mrn_elsewhere: bool,
                in_candidates: float, *, another_name: bool = False, garbled_given: bool = False,
                name_elsewhere: bool = False, label_elsewhere: bool = False,
                two_people: bool = False, initial_only: bool = False) -> PatientMatch:
        best = candidates[0]
        runner = candidates[1] if len(candidates) > 1 else None
        t = self.thresholds
        reasons: list[str] = []
        if in_candidates < t.review:
            return PatientMatch(MatchOutcome.NO_MATCH, None, candidates, (
                f"patient not in index, or identifiers too weak to tell: best candidate only "
                f"{best.probability:.2f} likely",))
        f = best.fields
        name_ok = f["name"] in (FieldVerdict.AGREE, FieldVerdict.CLOSE)
        mrn_ok = f["mrn"] is FieldVerdict.AGREE
        if f["birth_date"] is FieldVerdict.MISSING and not (name_ok and mrn_ok):
            # without a birth date, name and MRN together are the two identifiers
            reasons.append("no legible birth date on the document")
        elif f["birth_date"] is FieldVerdict.DISAGREE:
            reasons.append("birth date disagrees with best candidate")
        elif f["birth_date"] is FieldVerdict.CLOSE:
            reasons.append("birth date close to but not equal to best candidate's (typo or day/month swap)")
        if f["mrn"] is FieldVerdict.DISAGREE:
            reasons.append("MRN disagrees with best candidate")
        elif f["mrn"] is FieldVerdict.CLOSE and (f["name"] is not FieldVerdict.AGREE or mrn_elsewhere):
            # with name and birth date both exact, a one-digit MRN slip does not block auto-filing,
            # unless the MRN as printed belongs to another patient
            reasons.append("MRN one digit off from best candidate's")
        if mrn_elsewhere and f["mrn"] is not FieldVerdict.AGREE:
            reasons.append("the MRN as printed belongs to another patient")
        if f["name"] is FieldVerdict.DISAGREE and not (
                # MICHFL for MICHAEL (a registration typo, then OCR): the surname agrees, the given
                # name is two slips off and no one's name; birth date and MRN both exact are the two
                # identifiers, so the name is not held against the match (nor counted for it)
                garbled_given and mrn_ok and f["birth_date"] is FieldVerdict.AGREE and not mrn_elsewhere):
            reasons.append("name disagrees with best candidate")
        elif another_name and not mrn_ok:
            # JANET for JANE on the same birth date: a typo, or a twin who is not in the index
            reasons.append("the name as printed is another real name close to the candidate's "
                           "(a sibling not in the index?): confirm the patient")
        if label_elsewhere:
            reasons.append("a barcode on the page carries another patient's MRN (a label on the wrong "
                           "patient's paper?): confirm the patient")
        if name_elsewhere:
            reasons.append("the name as printed is exactly another patient's, who is not ruled out by the "
                           "birth date: confirm the patient")
        if initial_only and not mrn_ok:
            reasons.append("only an initial of the given name is printed, and no MRN: a sibling born the same "
                           "day would read the same; confirm the patient")
        if two_people:
            reasons.append("the page also shows another patient's full name and birth date (a guarantor, a "
                           "parent, a sibling?): confirm whose document it is")
        if f["sex"] is FieldVerdict.DISAGREE:
            reasons.append("sex disagrees with best candidate")
        if f["birth_date"] is FieldVerdict.AGREE and not (name_ok or mrn_ok):
            reasons.append("only the birth date agrees: a second identifier (name or MRN) is needed")
        if mrn_ok and not name_ok and f["birth_date"] is not FieldVerdict.AGREE and not reasons:
            reasons.append("MRN alone is never enough: birth date needed")
        margin = best.match_weight - weights[1] if len(weights) > 1 else float("inf")
        if runner is not None and margin < t.runner_up_margin:
            reasons.append(_close_runner_reason(best, runner))
        if best.probability < t.auto_file:
            reasons.append(
                f"match probability {best.probability:.3f} below the auto-file threshold {t.auto_file}")
        if reasons:
            return PatientMatch(MatchOutcome.REVIEW, None, candidates, tuple(reasons))
        return PatientMatch(MatchOutcome.AUTO_FILE, best, candidates, (
            f"matched on {', '.join(k for k, v in f.items() if v is FieldVerdict.AGREE)}",))


def _another_real_name(doc: dict, names: list, tf: frequencies.NameFrequencies) -> bool:
    """The name agrees only as "close", and on every name of the candidate that it is close to, a
    part that differs reads as another real name: a given name some patient in the index holds (or
    one the nickname table knows) that is not a nickname of the candidate's, or a family name some
    patient holds. A garbled name (JANW, SMlTH) is not a real name; JANET beside JANE is."""
    df, dg = doc["family"], doc["given"]
    close = [(f, g) for _, f, g, fk, gk, _full in names
             if cmp.level_name(doc, {"family": f, "given": g, "family_key": fk, "given_key": gk,
                                     "nicks": sorted(cmp.NICKNAMES.get(g, ()))}) == 3]
    if not close:
        return False
    for family, given in close:
        other_given = (dg != given and len(dg) > 1 and len(given) > 1
                       and (tf.given.get(dg, 0) > 0 or dg in cmp.NICKNAMES)
                       and dg not in cmp.NICKNAMES.get(given, ()) and given not in cmp.NICKNAMES.get(dg, ()))
        other_family = df != family and tf.family.get(df, 0) > 0
        if not (other_given or other_family):
            return False
    return True


def _garbled_given(doc: dict, names: list, tf: frequencies.NameFrequencies) -> bool:
    """The family name agrees exactly and the given name as printed is two slips (edits) from the
    candidate's, at least four letters long, and no one's name: not a given name any patient in the
    index holds, nor one the nickname table knows. MICHFL beside MICHAEL is; JANET beside JANE is not."""
    dg = doc["given"]
    if len(dg) < 4 or tf.given.get(dg, 0) > 0 or dg in cmp.NICKNAMES:
        return False
    return any(doc["family"] == family and len(given) >= 4 and cmp.edits(dg, given) <= 2
               for _, family, given, _fk, _gk, _full in names)


def _close_runner_reason(best: Candidate, runner: Candidate) -> str:
    both_born_that_day = (best.fields.get("birth_date") is FieldVerdict.AGREE
                          and runner.fields.get("birth_date") is FieldVerdict.AGREE)
    if both_born_that_day and best.fields.get("name") is runner.fields.get("name") is FieldVerdict.AGREE:
        return "two candidates within margin: possible duplicate record in the index"
    if both_born_that_day:
        return "two candidates within margin: possible twin"
    if runner.fields.get("name") in (FieldVerdict.AGREE, FieldVerdict.CLOSE):
        return "two candidates within margin: possible namesake"
    return "two candidates within margin"


class _Sql:
    """Plain SQL with driver placeholders (SQLite '?', psycopg '%s'): no statement compiling per
    document, and one round trip for each of blocking and loading."""

    def __init__(self, conn) -> None:
        self.conn = conn
        self.sqlite = conn.dialect.name == "sqlite"
        self.mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
        self.params: list = []

    def one(self, value) -> str:
        self.params.append(value)
        return self.mark

    def many(self, values) -> str:
        values = list(values)
        self.params.extend(values)
        return ", ".join([self.mark] * len(values))

    def date(self, value: date):
        return value.isoformat() if self.sqlite else value

    def month_day(self, column: str) -> str:
        """SQL for 'MM-DD' of a date column."""
        return f"substr({column}, 6, 5)" if self.sqlite else f"to_char({column}, 'MM-DD')"

    def run(self, sql: str) -> list[tuple]:
        return self.conn.exec_driver_sql(sql, tuple(self.params)).all()


def mrn_variants(value: str) -> set[str]:
    """The value, every one-digit substitution and every adjacent transposition (for blocking)."""
    out = {value}
    for i, ch in enumerate(value):
        if ch.isdigit():
            out.update(value[:i] + d + value[i + 1:] for d in "0123456789")
        if i + 1 < len(value):
            out.add(value[:i] + value[i + 1] + ch + value[i + 2:])
    return out


def _date_variants(value: date | None) -> list[date]:
    if value is None:
        return []
    out = [value]
    if value.day <= 12 and value.day != value.month:
        out.append(date(value.year, value.day, value.month))
    return out


def _month_days(value: date) -> list[str]:
    out = {f"{value.month:02d}-{value.day:02d}"}
    if value.day <= 12:
        out.add(f"{value.day:02d}-{value.month:02d}")
    return sorted(out)
