"""A grammar of patient headers, and the errors real registrations carry.

`header_document(person, rng, part=TUNED)` writes the text of one document: a patient header in a
layout drawn from the grammar, a short body (`documents.generate_document`), and what was printed
(`PrintedHeader`), so a benchmark knows the truth. The text uses `render.render_pages` markers
(`>` boxes, `|` grids, column gaps, barcodes), so it renders as a scan.

The grammar (each document draws one value of each):

    family       lines | one_line | label_box | letter           (TUNED: tuning and tests)
                 two_columns | grid | sticker | unlabeled | continuation  (HELD_OUT)
                 split_name | banner | side_by_side | fax_cover | footer  (UNSEEN)
                 table_form | wristband | prose | requisition | stacked  (UNSEEN_2)
                 underline_form | mail_window | device_print | card_copy | checkbox_form  (UNSEEN_3)
                 guarantor_form | right_aligned | value_first | bilingual_form | encounter_block  (UNSEEN_4)
                 pharmacy_label | immunization_record | transfer_sheet | consent_prose | ruled_table  (UNSEEN_5)
    vocabulary   clinic | hospital (TUNED);  registry | terse (HELD_OUT);  form | clinical (UNSEEN);
                 lab | ward (UNSEEN_2);  intake | device (UNSEEN_3);  bilingual | billing (UNSEEN_4);
                 pharmacy | pediatric (UNSEEN_5)
    separator    colon | tab | none (TUNED);  dots | dash | colon (HELD_OUT);
                 spaced colon | brackets | none (UNSEEN);  equals | wide colon | none (UNSEEN_2);
                 underscores | slash | none (UNSEEN_3);  double colon | arrow | none (UNSEEN_4);
                 pipe | semicolon | none (UNSEEN_5)
    order        name first, then the rest shuffled; or birth date / number first (HELD_OUT, UNSEEN)
    capitals     upper | title (both parts)
    name form    "FAMILY, GIVEN" | "GIVEN FAMILY" | "FAMILY GIVEN" (no comma: HELD_OUT, UNSEEN);
                 with a middle initial "FAMILY, GIVEN M." | "GIVEN M FAMILY" (UNSEEN_4);
                 "FAMILY JR, GIVEN" | "Mrs. Given Family" (UNSEEN_5)
    birth date   month first or written out; UNSEEN_4 also "03/14/62", "14 Mar 1962", "19620314", "03.14.1962"
    font         sans (TUNED) | serif (HELD_OUT) | condensed (UNSEEN) | serif condensed (UNSEEN_2) |
                 sans oblique (UNSEEN_3) | serif italic (UNSEEN_4) | condensed oblique (UNSEEN_5);
                 leader-dot and column
                 layouts print in mono

`register_noise(person, rng, index)` applies the errors of the registration desk and of whoever
typed the header: typos, nicknames, a surname and a given name swapped, a day/month swap, one
wrong digit, missing fields, an account number beside the MRN, an MRN that belongs to another
patient, an old address or phone. The held-out part was never used to tune the matcher until its
failures were read in issue 11; from then on it counts as tuning data, and UNSEEN, written after
that and before any reader change, was reported once; UNSEEN_2, written after UNSEEN's report was
read, was reported once too; so were UNSEEN_3, written after UNSEEN_2's fixes, and UNSEEN_4,
written after UNSEEN_3's; UNSEEN_5, written after UNSEEN_4's fixes, is the part reported as never
seen: see docs/matching.md.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from pipeline.synth.documents import generate_document


@dataclass(frozen=True, slots=True)
class Part:
    """One side of the grammar: the values a document of this part may draw."""

    name: str
    families: tuple[str, ...]
    vocabularies: tuple[str, ...]
    separators: tuple[str, ...]
    name_forms: tuple[str, ...]
    fonts: tuple[str, ...]
    number_first: float  # share of headers that print the birth date or MRN before the name
    #: strftime forms this part prints birth dates in, half the time, beside the common ones ("" = only those)
    date_styles: tuple[str, ...] = ()


TUNED = Part("tuned", ("lines", "one_line", "label_box", "letter"), ("clinic", "hospital"),
             ("colon", "tab", "none"), ("family_comma", "given_first"), ("sans",), 0.0)
HELD_OUT = Part("held-out", ("two_columns", "grid", "sticker", "unlabeled", "continuation"),
                ("registry", "terse"), ("dots", "dash", "colon"),
                ("family_comma", "given_first", "family_first"), ("serif",), 0.3)
#: written after the held-out part's failures had been read (so that part now counts as tuning data):
#: layouts, label words, separators and a font that no reader change has looked at
UNSEEN = Part("unseen", ("split_name", "banner", "side_by_side", "fax_cover", "footer"), ("form", "clinical"),
              ("spaced_colon", "bracket", "none"), ("family_comma", "given_first", "family_first"),
              ("condensed",), 0.3)
#: written after UNSEEN's report was read (so UNSEEN became tuning data too), before the reader
#: changes that followed it
UNSEEN_2 = Part("unseen-2", ("table_form", "wristband", "prose", "requisition", "stacked"), ("lab", "ward"),
                ("equals", "colon_wide", "none"), ("family_comma", "given_first", "family_first"),
                ("serif-condensed",), 0.3)
#: written after UNSEEN_2's report was read and its fixes made, before any further reader change
UNSEEN_3 = Part("unseen-3", ("underline_form", "mail_window", "device_print", "card_copy", "checkbox_form"),
                ("intake", "device"), ("underscore", "slash", "none"), ("family_comma", "given_first", "family_first"),
                ("sans-oblique",), 0.3)
#: written after UNSEEN_3's report was read and its fixes made (session 4), before any further reader
#: change: a guarantor's name and birth date below the patient's, values pushed to the right margin,
#: values printed before their labels, bilingual labels, an encounter block of other dates; middle
#: initials; two-digit years, day-first written-out and compact birth dates; serif italic
UNSEEN_4 = Part("unseen-4", ("guarantor_form", "right_aligned", "value_first", "bilingual_form", "encounter_block"),
                ("bilingual", "billing"), ("double_colon", "arrow", "none"),
                ("family_comma_middle", "given_middle_family", "family_comma"), ("serif-italic",), 0.3,
                ("%m/%d/%y", "%d %b %Y", "%Y%m%d", "%b. %d, %Y", "%m.%d.%Y"))
#: written after UNSEEN_4's report was read and its fixes made (session 5), before any further reader
#: change: a pharmacy label's dense line beside the prescriber, an immunisation record with the
#: child's and the parent's fields side by side, another hospital's transfer sheet with its own
#: record number, a consent in prose with a witness and an interpreter, a table with the labels
#: right-aligned against a rule; names with a suffix or a courtesy title; condensed oblique
UNSEEN_5 = Part("unseen-5", ("pharmacy_label", "immunization_record", "transfer_sheet", "consent_prose",
                             "ruled_table"),
                ("pharmacy", "pediatric"), ("pipe", "semicolon", "none"),
                ("family_suffix_comma", "title_given_family", "family_comma"), ("condensed-oblique",), 0.3,
                ("%m-%d-%y", "%A, %B %d, %Y", "%m/%d/%Y"))
PARTS = {p.name: p for p in (TUNED, HELD_OUT, UNSEEN, UNSEEN_2, UNSEEN_3, UNSEEN_4, UNSEEN_5)}

#: label words by vocabulary and field; the held-out ones are words the labelled reader never saw
VOCABULARIES: dict[str, dict[str, tuple[str, ...]]] = {
    "clinic": {"name": ("Patient", "Patient Name", "Name"), "dob": ("DOB", "Date of Birth"),
               "mrn": ("MRN", "MR#", "Medical Record Number"), "account": ("Account #", "Acct"),
               "sex": ("Sex",), "phone": ("Phone",), "address": ("Address",)},
    "hospital": {"name": ("PATIENT NAME", "Pt Name"), "dob": ("Birth Date", "D.O.B."),
                 "mrn": ("Med Rec #", "Chart #"), "account": ("Visit #", "FIN"),
                 "sex": ("Gender",), "phone": ("Tel",), "address": ("Addr",)},
    "registry": {"name": ("Client", "Resident", "Member Name"), "dob": ("Born", "Birthdate"),
                 "mrn": ("Hosp No", "Unit No", "Record No"), "account": ("Encounter", "Billing No"),
                 "sex": ("M/F",), "phone": ("Home Ph", "Contact"), "address": ("Residence", "Home")},
    "terse": {"name": ("Nm", "Pt", "Surname/Given"), "dob": ("BD", "DoB", "Bdate"),
              "mrn": ("UR No", "Hosp #", "ID"), "account": ("Enc #", "Adm No"),
              "sex": ("Sx",), "phone": ("Ph",), "address": ("Res",)},
    "form": {"name": ("Name of Patient", "Patient Nm", "Pat. Name"), "dob": ("Birth Dt", "DOB (MM/DD/YYYY)"),
             "mrn": ("Pat ID", "Patient No.", "EMPI"), "account": ("Case #", "HAR"),
             "sex": ("Sex at Birth",), "phone": ("Phone (H)",), "address": ("Mailing Address",),
             "family": ("Last Name", "Surname"), "given": ("First Name", "Given Name")},
    "clinical": {"name": ("PT. NAME", "Name (Last, First)"), "dob": ("D/O/B", "Birth"),
                 "mrn": ("Med. Rec. No.", "EMR #", "Chart No"), "account": ("Acct No", "CSN"),
                 "sex": ("SEX/GENDER",), "phone": ("Tel. No.",), "address": ("Street",),
                 "family": ("LAST", "Family Name"), "given": ("FIRST", "Forename")},
    "lab": {"name": ("PATIENT (LAST, FIRST)", "Pt Full Name"), "dob": ("Birthdate/Age", "Date Born"),
            "mrn": ("Medical Rec", "Hospital Number", "Patient Identifier"), "account": ("Req #", "Visit ID"),
            "sex": ("Gender/Sex",), "phone": ("Patient Phone",), "address": ("Patient Address",),
            "family": ("Surname (Family)",), "given": ("Forename(s)",)},
    "ward": {"name": ("Inpatient", "Pt."), "dob": ("d.o.b", "Date of Birth/Age"),
             "mrn": ("Unit Number", "Hospital ID", "Case Record"), "account": ("Spell No", "Admission ID"),
             "sex": ("Gender/Sex",), "phone": ("Contact No",), "address": ("Usual Address",),
             "family": ("Family name (surname)",), "given": ("Christian/First name",)},
    "intake": {"name": ("Patient's name (please print)", "Full legal name"),
               "dob": ("Date of birth (mm/dd/yy)", "Birthday"), "mrn": ("Clinic chart no.", "Our ref"),
               "account": ("Claim no.", "Ticket"), "sex": ("Sex assigned at birth",),
               "phone": ("Best phone",), "address": ("Home address",),
               "family": ("Last",), "given": ("First (legal)",)},
    "bilingual": {"name": ("Nombre / Name", "Paciente / Patient"),
                  "dob": ("Fecha de nac. / Birth date", "F. nacimiento / DOB"),
                  "mrn": ("No. expediente / Record no.", "Expediente"), "account": ("Cuenta / Account",),
                  "sex": ("Sexo / Sex",), "phone": ("Teléfono / Phone",), "address": ("Domicilio / Address",),
                  "family": ("Apellido(s) / Last name",), "given": ("Nombre(s) / First name",)},
    "billing": {"name": ("Patient/Insured", "Subscriber Pt"), "dob": ("Pt DOB", "Birth date (pt)"),
                "mrn": ("Facility MRN", "Local ID"), "account": ("Statement #", "Claim ID"),
                "sex": ("Pt Sex",), "phone": ("Home #",), "address": ("Billing address",),
                "family": ("Pt last",), "given": ("Pt first",)},
    "pharmacy": {"name": ("PATIENT", "For"), "dob": ("B-DATE", "Pt birthdate"), "mrn": ("Hosp MRN", "Profile #"),
                 "account": ("Rx #", "Fill ID"), "sex": ("G",), "phone": ("Pt phone",), "address": ("Deliver to",),
                 "family": ("Surname of patient",), "given": ("Given name of patient",)},
    "pediatric": {"name": ("Child's name", "Name of child"), "dob": ("Child's DOB", "Date of birth of child"),
                  "mrn": ("Clinic record #", "Peds chart"), "account": ("VFC #", "Registry ID"),
                  "sex": ("Boy/Girl",), "phone": ("Home phone",), "address": ("Home street",),
                  "family": ("Child's last name",), "given": ("Child's first name",)},
    "device": {"name": ("PT", "NAME/ID"), "dob": ("BIRTH", "DOB/AGE"), "mrn": ("PID", "PAT-ID"),
               "account": ("ENC", "ORDER"), "sex": ("GNDR",), "phone": ("CONTACT PH",),
               "address": ("ADDR1",), "family": ("LNAME",), "given": ("FNAME",)},
}
_SEPARATORS = {"colon": ": ", "tab": "    ", "none": " ", "dash": " - ", "spaced_colon": " : ",
               "equals": " = ", "colon_wide": ":      ", "underscore": ": __", "slash": " / ",
               "double_colon": ":: ", "arrow": " -> ", "pipe": " | ", "semicolon": "; "}
_BODY_TYPES = ("consult_note", "progress_note", "laboratory_report", "imaging_report", "referral",
               "discharge_summary", "letter", "operative_note")
_NICKNAMES = {"WILLIAM": "BILL", "ROBERT": "BOB", "RICHARD": "RICK", "ELIZABETH": "LIZ",
              "MARGARET": "PEGGY", "JAMES": "JIM", "JOSEPH": "JOE", "THOMAS": "TOM",
              "MICHAEL": "MIKE", "KATHERINE": "KATE", "PATRICIA": "PAT", "CHRISTOPHER": "CHRIS",
              "DANIEL": "DAN", "JENNIFER": "JEN", "SUSAN": "SUE", "ANTHONY": "TONY",
              "EDWARD": "ED", "DAVID": "DAVE"}


@dataclass(frozen=True, slots=True)
class PrintedHeader:
    """What the header shows, after registration noise: '' for a field left off."""

    family: str
    given: str
    birth_date: str
    mrn: str
    account: str = ""
    sex: str = ""
    phone: str = ""
    address: str = ""
    notes: tuple[str, ...] = ()  # the errors planted, e.g. ("family typo", "no DOB")
    dob_right: bool = True  # the printed birth date is the patient's, exactly
    mrn_right: bool = True  # the printed MRN (if any) is the patient's


@dataclass(frozen=True, slots=True)
class HeaderDocument:
    pages: tuple[str, ...]  # render_pages input
    font: str
    family: str  # the grammar's layout family
    vocabulary: str
    separator: str
    printed: PrintedHeader
    notes: tuple[str, ...] = ()


# ------------------------------------------------------------------------------ registration


def typo(rng: random.Random, word: str) -> str:
    """One slip of the keyboard inside a word: a letter changed, dropped, doubled in, or two swapped."""
    if len(word) < 3:
        return word
    i = rng.randrange(1, len(word) - 1)
    op = rng.choice(("sub", "del", "swap", "ins"))
    letters = "AEIOURSTLNM"
    if op == "sub":
        return word[:i] + rng.choice([c for c in letters if c != word[i]]) + word[i + 1:]
    if op == "del":
        return word[:i] + word[i + 1:]
    if op == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    return word[:i] + rng.choice(letters) + word[i:]


def one_digit(rng: random.Random, digits: str) -> str:
    """The digits with one of them changed."""
    i = rng.randrange(len(digits))
    return digits[:i] + rng.choice([d for d in "0123456789" if d != digits[i]]) + digits[i + 1:]


def format_date(rng: random.Random, value: date, extra: Sequence[str] = ()) -> str:
    """A birth date in one of the forms US paper uses (month first, or written out); half the time
    one of `extra` (strftime forms) when given."""
    if extra and rng.random() < 0.5:
        return value.strftime(rng.choice(extra))
    style = rng.randrange(7)
    if style == 0:
        return value.strftime("%m/%d/%Y")
    if style == 1:
        return f"{value.month}/{value.day}/{value.year}"
    if style == 2:
        return value.strftime("%B %-d, %Y")
    if style == 3:
        return value.strftime("%d-%b-%Y").upper()
    if style == 4:
        return value.strftime("%m-%d-%Y")
    if style == 5:
        return value.strftime("%b %d %Y")
    return value.isoformat()


def register_noise(person: Mapping[str, str], rng: random.Random,
                   index: Sequence[Mapping[str, str]] = (), date_styles: Sequence[str] = ()) -> PrintedHeader:
    """What a header prints about `person` (CSV-shaped mapping), with registration errors; birth
    dates half the time in one of `date_styles` when given."""
    notes: list[str] = []
    family, given = person["family_name"].upper(), person["given_name"].upper()
    if rng.random() < 0.08:
        family = typo(rng, family)
        notes.append("family typo")
    if rng.random() < 0.05:
        given = typo(rng, given)
        notes.append("given typo")
    if given in _NICKNAMES and rng.random() < 0.3:
        given = _NICKNAMES[given]
        notes.append("nickname")
    if rng.random() < 0.03:
        family, given = given, family
        notes.append("names swapped")
    dob = date.fromisoformat(person["birth_date"])
    dob_text, dob_right = format_date(rng, dob, date_styles), True
    roll = rng.random()
    if roll < 0.02:
        dob_text, dob_right = "", False
        notes.append("no DOB")
    elif roll < 0.04 and dob.day <= 12 and dob.day != dob.month:
        dob_text, dob_right = dob.strftime("%d/%m/%Y"), False
        notes.append("DOB day/month swapped")
    elif roll < 0.055:
        digits = one_digit(rng, dob.strftime("%m%d%Y"))
        dob_text, dob_right = f"{digits[:2]}/{digits[2:4]}/{digits[4:]}", False
        notes.append("DOB digit wrong")
    mrn, mrn_right = person["mrn"], True
    roll = rng.random()
    if roll < 0.35:
        mrn = ""
    elif roll < 0.37:
        mrn, mrn_right = one_digit(rng, mrn), False
        notes.append("MRN digit wrong")
    elif roll < 0.385 and index:
        mrn, mrn_right = rng.choice(index)["mrn"], False
        notes.append("MRN of another patient")
    account = "".join(rng.choice("0123456789") for _ in range(rng.choice((7, 9, 10)))) if rng.random() < 0.5 else ""
    if account:
        notes.append("account number")
    sex = person.get("sex", "") if rng.random() < 0.6 else ""
    phone = person.get("phone", "") if rng.random() < 0.35 else ""
    if phone and rng.random() < 0.15:
        phone = "".join(rng.choice("0123456789") for _ in range(10))
        notes.append("other phone")
    address = ""
    if rng.random() < 0.35:
        address = f"{person['address']}, {person['city']}, {person['state']} {person['postcode']}"
        if rng.random() < 0.15:
            address = f"{rng.randrange(1, 9999)} Old Mill Rd, {person['city']}, {person['state']} {person['postcode']}"
            notes.append("old address")
    return PrintedHeader(family, given, dob_text, mrn, account, sex, phone, address, tuple(notes),
                         dob_right, mrn_right)


# ---------------------------------------------------------------------------------- layouts


def _case(rng: random.Random, text: str) -> str:
    return text.upper() if rng.random() < 0.6 else text.title()


def _name(printed: PrintedHeader, form: str, rng: random.Random) -> str:
    family, given = _case(rng, printed.family), None
    given = printed.given.title() if family.istitle() else printed.given
    if form == "family_comma":
        return f"{family}, {given}"
    if form == "family_first":
        return f"{family} {given}"
    if form == "family_suffix_comma":  # a generational suffix now and then, as registration keys it
        suffix = rng.choice(("JR", "SR", "II", "III", "")) if rng.random() < 0.5 else ""
        return f"{family} {suffix}, {given}" if suffix else f"{family}, {given}"
    if form == "title_given_family":
        titles = {"M": ("Mr.",), "F": ("Mrs.", "Ms.")}.get(printed.sex, ("Mx.",))
        return f"{rng.choice(titles)} {given} {family}"
    if form in ("family_comma_middle", "given_middle_family"):  # a middle initial, with or without its dot
        initial = rng.choice("ABCDEFGHJKLMNPRSTW") + rng.choice((".", ""))
        return f"{family}, {given} {initial}" if form == "family_comma_middle" else f"{given} {initial} {family}"
    return f"{given} {family}"


def _phone(digits: str) -> str:
    return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}" if len(digits) == 10 else digits


def _fields(printed: PrintedHeader, form: str, rng: random.Random, part: Part) -> list[tuple[str, str]]:
    """(field, value) in print order; empty fields left off."""
    rest = [("dob", printed.birth_date), ("mrn", printed.mrn), ("account", printed.account),
            ("sex", printed.sex), ("phone", _phone(printed.phone)), ("address", printed.address)]
    rest = [(k, v) for k, v in rest if v]
    tail = [kv for kv in rest if kv[0] in ("phone", "address")]
    head = [kv for kv in rest if kv[0] not in ("phone", "address")]
    rng.shuffle(head)
    out = [("name", _name(printed, form, rng))] + head + tail
    if rng.random() < part.number_first and len(out) > 1:
        out.insert(0, out.pop(1))
    return out


def _label(vocabulary: str, key: str, rng: random.Random) -> str:
    return rng.choice(VOCABULARIES[vocabulary][key])


def _pair(label: str, value: str, separator: str, width: int = 18) -> str:
    if separator == "dots":
        return f"{label} {'.' * max(3, width - len(label))} {value}"
    if separator == "bracket":
        return f"{label} [{value}]"
    return f"{label}{_SEPARATORS[separator]}{value}"


def _layout(family: str, fields: list[tuple[str, str]], vocabulary: str, separator: str,
            rng: random.Random, printed: PrintedHeader,
            guarantor: Mapping[str, str] | None = None) -> tuple[list[str], list[str]]:
    """(header lines for page 1, running header lines for the following pages)."""
    labelled = [(_label(vocabulary, k, rng), v, k) for k, v in fields]
    if family == "guarantor_form":
        return _guarantor_form(labelled, separator, rng, printed, guarantor or _NO_RELATIVE)
    if family == "lines":
        return [_pair(lb, v, separator) for lb, v, _ in labelled], []
    if family == "one_line":
        first = "   ".join(_pair(lb, v, separator) for lb, v, k in labelled if k != "address")
        address = [_pair(lb, v, separator) for lb, v, k in labelled if k == "address"]
        return [first, *address], []
    if family == "label_box":
        return [f"> {_pair(lb, v, separator)}" for lb, v, _ in labelled], []
    if family == "letter":
        name = dict(fields)["name"]
        extra = [f"{_label(vocabulary, k, rng)} {v}" for k, v in fields if k in ("dob", "mrn") and v]
        return [f"RE: {name}" + (f" ({', '.join(extra)})" if extra else ""), "",
                "Dear Colleague,", f"Thank you for seeing our patient, {name.split(',')[0].title()}, "
                "in follow-up; a summary of the recent visit follows."], []
    if family == "two_columns":
        pairs = [_pair(lb, v, separator, 12) for lb, v, k in labelled if k != "address"]
        rows = [f"{pairs[i]:<44}  {pairs[i + 1] if i + 1 < len(pairs) else ''}".rstrip()
                for i in range(0, len(pairs), 2)]
        return rows + [_pair(lb, v, separator) for lb, v, k in labelled if k == "address"], []
    if family == "grid":
        cells = [(lb, v) for lb, v, k in labelled if k != "address"]
        lines = ["| " + " | ".join(lb for lb, _ in cells) + " |", "| " + " | ".join(v for _, v in cells) + " |"]
        return lines + [f"{lb} {v}" for lb, v, k in labelled if k == "address"], []
    if family == "sticker":
        values = dict(fields)
        top = values["name"] + (f"   {values['sex']}" if values.get("sex") else "")
        second = "   ".join(x for x in (values.get("dob", ""), values.get("mrn", "")) if x)
        lines = [f"> {top}"] + ([f"> {second}"] if second else [])
        if values.get("account"):
            lines.append(f"> {values['account']}")
        if printed.mrn and rng.random() < 0.3:
            lines = [f"{{{{barcode Code128 {printed.mrn}}}}}", *lines]
        return lines, []
    if family == "unlabeled":
        values = dict(fields)
        return [v for k, v in fields if k in ("name", "dob")] + \
            ["  ".join(values[k] for k in ("mrn", "account") if values.get(k))] + \
            [values[k] for k in ("address", "phone") if values.get(k)], []
    if family == "continuation":
        values = dict(fields)
        running = "   ".join(x for x in (values["name"], values.get("mrn", ""), values.get("dob", "")) if x)
        return [], [f"{running}   Page 2 of 2"]
    if family in _UNSEEN_LAYOUTS:
        return _UNSEEN_LAYOUTS[family](labelled, fields, vocabulary, separator, rng, printed)
    raise ValueError(f"unknown header family {family!r}")


# The unseen part's families (see UNSEEN): each as real paper prints it.
_CLINIC = ("Cedar Hills Medical Group", "1200 Orchard Way, Suite 4", "Springfield, IL 62704",
           "Tel (217) 555-0142   Fax (217) 555-0143")


def _split_name(labelled, fields, vocabulary, separator, rng, printed):
    """A registration form: surname and given name in fields of their own, two fields a row."""
    family = _case(rng, printed.family)
    given = printed.given.title() if family.istitle() else printed.given
    cells = [_pair(_label(vocabulary, "family", rng), family, separator),
             _pair(_label(vocabulary, "given", rng), given, separator)]
    cells += [_pair(lb, v, separator) for lb, v, k in labelled if k not in ("name", "address")]
    rows = [f"{cells[i]:<40}  {cells[i + 1] if i + 1 < len(cells) else ''}".rstrip()
            for i in range(0, len(cells), 2)]
    return rows + [_pair(lb, v, separator) for lb, v, k in labelled if k == "address"], []


def _banner(labelled, fields, vocabulary, separator, rng, printed):
    """An EHR print banner: one line, fields between bars, short labels or none, the age beside
    the birth date; the same banner on every page."""
    parts = []
    for label, value, key in labelled:
        if key == "name":
            parts.append(value)
        elif key == "dob":
            born = _parsed(printed.birth_date)
            age = f" ({(date(2026, 6, 1) - born).days // 365} y)" if born else ""
            parts.append(f"{label} {value}{age}")
        elif key in ("mrn", "account"):
            parts.append(f"{label} {value}")
        elif key == "sex":
            parts.append(value)
    line = " | ".join(parts)
    return [line], [line]


def _side_by_side(labelled, fields, vocabulary, separator, rng, printed):
    """The clinic's own name, street and phone on the left, the patient's block on the right
    (the clinic's numbers are a trap for a reader that takes any phone or street)."""
    right = [_pair(lb, v, separator) for lb, v, k in labelled if k != "address"]
    left = [*_CLINIC, f"Attending: Dr. {rng.choice(('M. Okafor', 'L. Brandt', 'S. Iyer', 'R. Castillo'))}"]
    rows = [f"{left[i] if i < len(left) else '':<42}  {right[i] if i < len(right) else ''}".rstrip()
            for i in range(max(len(left), len(right)))]
    return rows + [_pair(lb, v, separator) for lb, v, k in labelled if k == "address"], []


def _fax_cover(labelled, fields, vocabulary, separator, rng, printed):
    """A fax cover: sender, recipient, today's date, page count and the clinic's numbers first,
    the patient lower down under "Regarding"."""
    return ["FACSIMILE TRANSMITTAL",
            f"To: Dr. {rng.choice(('A. Novak', 'P. Mensah', 'K. Larsen'))}, Medical Records    Fax: (312) 555-0190",
            f"From: {_CLINIC[0]}    Fax: (217) 555-0143",
            f"Date: {rng.choice(('11/30/2026', '12/01/2026', 'Dec 1, 2026'))}    Pages (incl. cover): 3",
            "CONFIDENTIAL: protected health information for the addressee only.",
            "", "Regarding patient:",
            *[_pair(lb, v, separator) for lb, v, _ in labelled]], []


def _footer(labelled, fields, vocabulary, separator, rng, printed):
    """Identifiers only at the foot of each page, as an EHR prints them, with the print date."""
    values = dict(fields)
    labels = {k: lb for lb, _, k in labelled}
    foot = "   ".join(x for x in (
        values["name"],
        f"{labels['dob']} {values['dob']}" if values.get("dob") else "",
        f"{labels['mrn']} {values['mrn']}" if values.get("mrn") else "",
        "Printed 12/01/2026 09:14") if x)
    return [], [f"__footer__ {foot}"]


def _parsed(text: str) -> date | None:
    for order in ((2, 0, 1), (0, 1, 2)):
        try:
            bits = [int(x) for x in text.replace("-", "/").split("/")]
            return date(*(bits[i] for i in order))
        except (ValueError, TypeError, IndexError):
            continue
    return None


def _table_form(labelled, fields, vocabulary, separator, rng, printed):
    """A demographics table: one row a field, the label in the first cell, the value in the second."""
    return ["| Demographics | |", *[f"| {lb} | {v} |" for lb, v, _ in labelled]], []


def _wristband(labelled, fields, vocabulary, separator, rng, printed):
    """An inpatient label: name and sex, then birth date and number, in a box; its barcode carries
    the admission (account) number when there is one, not the MRN."""
    values = dict(fields)
    labels = {k: lb for lb, _, k in labelled}
    lines = [f"> {values['name']}   {values.get('sex', '')}".rstrip()]
    second = "   ".join(f"{labels[k]} {values[k]}" for k in ("dob", "mrn") if values.get(k))
    if second:
        lines.append(f"> {second}")
    if values.get("account"):
        lines = [f"{{{{barcode Code128 {values['account']}}}}}", *lines]
    return lines, []


def _prose(labelled, fields, vocabulary, separator, rng, printed):
    """A clinic letter naming the patient only in its sentences."""
    values = dict(fields)
    title = {"M": "Mr", "F": "Ms"}.get(printed.sex, "")
    who = f"{title} {values['name']}".strip() if "," not in values["name"] else values["name"]
    born = f", born {values['dob']}" if values.get("dob") else ""
    number = f" (hospital number {values['mrn']})" if values.get("mrn") else ""
    return [f"Dear Dr {rng.choice(('Halvorsen', 'Abara', 'Quintero'))},", "",
            f"I reviewed {who}{born}{number} in the outpatient clinic on 14 November 2026,",
            "and I am writing to update you on the plan we agreed."], []


def _requisition(labelled, fields, vocabulary, separator, rng, printed):
    """A lab requisition: the ordering provider's box (name, NPI, phone) beside the patient's."""
    right = [_pair(lb, v, separator) for lb, v, k in labelled if k != "address"]
    left = ["ORDERING PROVIDER", f"Dr. {rng.choice(('Ines Marchetti', 'Tomas Reyes', 'Wei Zhang'))}",
            f"NPI {rng.randrange(10**9, 10**10)}", f"Ph ({rng.randrange(200, 999)}) 555-{rng.randrange(10**4):04d}"]
    rows = [f"{left[i] if i < len(left) else '':<38}  {right[i] if i < len(right) else ''}".rstrip()
            for i in range(max(len(left), len(right)))]
    return ["LABORATORY REQUISITION", *rows,
            *[_pair(lb, v, separator) for lb, v, k in labelled if k == "address"]], []


def _stacked(labelled, fields, vocabulary, separator, rng, printed):
    """Each label on a line of its own, in capitals, with its value on the line below."""
    out: list[str] = []
    for label, value, _ in labelled:
        out += [label.upper(), value]
    return out, []


def _underline_form(labelled, fields, vocabulary, separator, rng, printed):
    """A paper form filled in by typewriter: each value on the rule after its label."""
    return [f"{lb}: {v} {'_' * max(4, 30 - len(v))}" for lb, v, _ in labelled], []


def _mail_window(labelled, fields, vocabulary, separator, rng, printed):
    """A letter to the patient: the home address in the envelope window, the date, then a
    reference line with the birth date and number."""
    values = dict(fields)
    title = {"M": "Mr", "F": "Ms"}.get(printed.sex, "")
    given = printed.given.title()
    street = values.get("address", "").split(", ")
    window = [f"{title} {given} {printed.family.title()}".strip(), *street[:1], ", ".join(street[1:])]
    ref = "   ".join(f"{lb}: {v}" for lb, v, k in labelled if k in ("dob", "mrn"))
    return [*[line for line in window if line], "", "1 December 2026", "", *([ref] if ref else []), "",
            f"Dear {title or given} {printed.family.title()},", "",
            "Your results from the recent visit are enclosed."], []


def _device_print(labelled, fields, vocabulary, separator, rng, printed):
    """A device's printout (an ECG cart, a monitor): the name in HL7 style with a caret, short
    capital labels, the age beside the birth date, all on one or two lines."""
    values = dict(fields)
    labels = {k: lb for lb, _, k in labelled}
    name = f"{printed.family}^{printed.given}"
    first = "  ".join(x for x in (name, f"{labels['mrn']}:{values['mrn']}" if values.get("mrn") else "",
                                  values.get("sex", "")) if x)
    second = "  ".join(x for x in (f"{labels['dob']}:{values['dob']}" if values.get("dob") else "",
                                   "HR 72 bpm", "25 mm/s 10 mm/mV") if x)
    return [first, second], []


def _card_copy(labelled, fields, vocabulary, separator, rng, printed):
    """A copy of an insurance card beside the chart: a member ID of letters and digits (not the
    MRN), a group number, the plan's phone."""
    values = dict(fields)
    member = f"{rng.choice('XYZWQ')}{rng.choice('ABCDEFGH')}{rng.randrange(10**8, 10**9)}"
    return ["> BLUE RIVER HEALTH PLAN", f"> MEMBER  {values['name']}", f"> MEMBER ID  {member}",
            f"> GROUP  {rng.randrange(10**4, 10**5)}   RX BIN 610014",
            "> Customer service 1-800-555-0199", "",
            *[_pair(lb, v, separator) for lb, v, k in labelled if k in ("dob", "mrn", "phone")]], []


def _checkbox_form(labelled, fields, vocabulary, separator, rng, printed):
    """A form with tick boxes for sex and the name split into labelled boxes on one row."""
    values = dict(fields)
    labels = {k: lb for lb, _, k in labelled}
    sex = values.get("sex", "")
    ticks = f"[{'X' if sex == 'M' else ' '}] Male  [{'X' if sex == 'F' else ' '}] Female"
    row = (f"{_label(vocabulary, 'family', rng)} {printed.family}   "
           f"{_label(vocabulary, 'given', rng)} {printed.given}   MI")
    rest = [_pair(labels[k], values[k], separator) for k in ("dob", "mrn", "phone") if values.get(k)]
    return [row, ticks, *rest], []


# UNSEEN_4's families


def _guarantor_form(labelled, separator, rng, printed, guarantor: Mapping[str, str]):
    """A registration face sheet: the patient's block, then the responsible party's (a relative
    when the index has one: another person's name, birth date, phone and address on the page)."""
    given = guarantor["given_name"].title() if rng.random() < 0.4 else guarantor["given_name"].upper()
    family = guarantor["family_name"].title() if given.istitle() else guarantor["family_name"].upper()
    born = format_date(rng, date.fromisoformat(guarantor["birth_date"]), ("%m/%d/%y", "%m/%d/%Y"))
    relation = rng.choice(("Spouse", "Parent", "Child", "Other"))
    party = [f"Name{_SEPARATORS[separator]}{family}, {given}", f"Relationship to patient{_SEPARATORS[separator]}{relation}",
             f"Birth date{_SEPARATORS[separator]}{born}",
             f"Phone{_SEPARATORS[separator]}{_phone(guarantor.get('phone', ''))}",
             f"Employer{_SEPARATORS[separator]}{rng.choice(('Self-employed', 'County Schools', 'Retired'))}"]
    return ["PATIENT INFORMATION", *[_pair(lb, v, separator) for lb, v, _ in labelled], "",
            "RESPONSIBLE PARTY / GUARANTOR", *party], []


def _right_aligned(labelled, fields, vocabulary, separator, rng, printed):
    """Labels at the left margin, values pushed to the right margin, nothing between but space."""
    return [f"{lb:<28}{v:>44}" for lb, v, _ in labelled], []


def _value_first(labelled, fields, vocabulary, separator, rng, printed):
    """A summary line under the title: each value first, its label after it in brackets, the
    fields joined by middle dots, wrapped two or three to a line."""
    items = [f"{v} ({lb.lower()})" for lb, v, k in labelled if k != "address"]
    size = rng.choice((2, 3))
    lines = ["  ·  ".join(items[i:i + size]) for i in range(0, len(items), size)]
    return lines + [f"{v} ({lb.lower()})" for lb, v, k in labelled if k == "address"], []


def _bilingual_form(labelled, fields, vocabulary, separator, rng, printed):
    """A two-language intake form: surname and given name in boxes of their own on one row, the
    rest one field a line, each label in Spanish then English."""
    family = _case(rng, printed.family)
    given = printed.given.title() if family.istitle() else printed.given
    row = (f"{_label(vocabulary, 'family', rng)}{_SEPARATORS[separator]}{family}      "
           f"{_label(vocabulary, 'given', rng)}{_SEPARATORS[separator]}{given}")
    return ["> " + row, *[f"> {_pair(lb, v, separator)}" for lb, v, k in labelled if k != "name"]], []


def _encounter_block(labelled, fields, vocabulary, separator, rng, printed):
    """An encounter summary: admission, discharge and service dates and the attending physician
    around the patient's own identifiers, two fields a line."""
    values = dict(fields)
    labels = {k: lb for lb, _, k in labelled}
    admit = date(2026, 11, rng.randrange(1, 25))
    pieces = [f"{labels['name']}{_SEPARATORS[separator]}{values['name']}",
              f"Admitted{_SEPARATORS[separator]}{admit:%m/%d/%Y} {rng.randrange(24):02d}:{rng.randrange(60):02d}",
              *[f"{labels[k]}{_SEPARATORS[separator]}{values[k]}" for k in ("dob", "mrn", "account", "sex")
                if values.get(k)],
              f"Discharged{_SEPARATORS[separator]}{date(2026, 11, admit.day + rng.randrange(1, 5)):%m/%d/%Y}",
              f"Attending{_SEPARATORS[separator]}{rng.choice(('Marisol Vega MD', 'Jonas Eklund DO', 'Priya Raman MD'))}",
              f"Service date{_SEPARATORS[separator]}{admit:%m/%d/%y}"]
    rows = [f"{pieces[i]:<40}  {pieces[i + 1] if i + 1 < len(pieces) else ''}".rstrip()
            for i in range(0, len(pieces), 2)]
    return ["ENCOUNTER SUMMARY", *rows], []


# UNSEEN_5's families


def _pharmacy_label(labelled, fields, vocabulary, separator, rng, printed):
    """A pharmacy label stuck on the page: one dense line with the prescriber's name on it, then the
    drug, directions and the store's phone."""
    values = dict(fields)
    labels = {k: lb for lb, _, k in labelled}
    prescriber = rng.choice(("DR. H. OYELARAN", "DR K MORALES", "J. PETROV MD"))
    first = "  ".join(x for x in (
        f"Rx# {rng.randrange(10**6, 10**7)}", values["name"],
        f"{labels['dob']}{_SEPARATORS[separator]}{values['dob']}" if values.get("dob") else "",
        prescriber) if x)
    second = "  ".join(x for x in (
        f"{labels['mrn']}{_SEPARATORS[separator]}{values['mrn']}" if values.get("mrn") else "",
        f"Filled {rng.choice(('11/28/2026', '11/30/2026'))}", f"Qty {rng.choice((30, 60, 90))}") if x)
    return [f"> {first}", f"> {second}", "> METFORMIN 500 MG TAB  Take 1 tablet by mouth twice daily",
            "> Harbor Pharmacy (555) 010-4477  Refills: 2"], []


def _immunization_record(labelled, fields, vocabulary, separator, rng, printed):
    """A child's immunisation record: the child's fields on the left, a parent's or guardian's on
    the right of each row (another person with a name, birth date and phone)."""
    parent_given = rng.choice(("MARIA", "DAVID", "KEISHA", "ROBERT", "LINH", "AISHA"))
    parent_dob = date(rng.randrange(1960, 2000), rng.randrange(1, 13), rng.randrange(1, 29))
    left = [_pair(lb, v, separator) for lb, v, k in labelled if k in ("name", "dob", "mrn", "sex", "account")]
    right = [f"Parent/guardian{_SEPARATORS[separator]}{parent_given.title()} {printed.family.title()}",
             f"Parent DOB{_SEPARATORS[separator]}{parent_dob:%m/%d/%Y}",
             f"Relationship{_SEPARATORS[separator]}{rng.choice(('Mother', 'Father', 'Guardian'))}"]
    rows = [f"{left[i] if i < len(left) else '':<42}  {right[i] if i < len(right) else ''}".rstrip()
            for i in range(max(len(left), len(right)))]
    return ["IMMUNIZATION RECORD", *rows], []


def _transfer_sheet(labelled, fields, vocabulary, separator, rng, printed):
    """Another hospital's transfer sheet: its own record number (letters and digits) and encounter,
    the sending physician, then the patient's identifiers as that hospital printed them."""
    theirs = f"{rng.choice('ACEGK')}{rng.randrange(10**6, 10**7)}"
    return ["INTERFACILITY TRANSFER",
            f"Sending facility: St. Brendan Regional   Their MRN: {theirs}",
            f"Sending physician: {rng.choice(('Dr. Amara Nwosu', 'Dr. Felix Haugen', 'Dr. Rosa Ibarra'))}",
            *[_pair(lb, v, separator) for lb, v, k in labelled if k != "account"]], []


def _consent_prose(labelled, fields, vocabulary, separator, rng, printed):
    """A consent form: the patient named in a sentence with the birth date, then the signatures of
    the patient, a witness and an interpreter, each with a date."""
    values = dict(fields)
    born = f" (date of birth {values['dob']})" if values.get("dob") else ""
    number = f", record {values['mrn']}," if values.get("mrn") else ""
    return ["CONSENT FOR TREATMENT", "",
            f"I, {values['name']}{born}{number} consent to the procedure explained to me today.", "",
            "Signature of patient ______________   Date 11/30/2026",
            f"Witness: {rng.choice(('Helen Park RN', 'Omar Said', 'Grace Lindqvist'))}   Date 11/30/2026",
            f"Interpreter: {rng.choice(('Lucia Fernandez', 'Minh Tran'))} (Spanish)   ID 4471"], []


def _ruled_table(labelled, fields, vocabulary, separator, rng, printed):
    """A two-column table whose labels are right-aligned against the rule, values after it."""
    return [f"{lb:>22} | {v}" for lb, v, _ in labelled], []


_UNSEEN_LAYOUTS = {"underline_form": _underline_form, "mail_window": _mail_window, "device_print": _device_print,
                   "card_copy": _card_copy, "checkbox_form": _checkbox_form, "split_name": _split_name, "banner": _banner, "side_by_side": _side_by_side,
                   "fax_cover": _fax_cover, "footer": _footer, "table_form": _table_form,
                   "wristband": _wristband, "prose": _prose, "requisition": _requisition, "stacked": _stacked,
                   "right_aligned": _right_aligned, "value_first": _value_first, "bilingual_form": _bilingual_form,
                   "encounter_block": _encounter_block, "pharmacy_label": _pharmacy_label,
                   "immunization_record": _immunization_record, "transfer_sheet": _transfer_sheet,
                   "consent_prose": _consent_prose, "ruled_table": _ruled_table}


_NO_RELATIVE = {"family_name": "PARKER", "given_name": "DANA", "birth_date": "1960-02-29", "phone": "5555550100"}


def _relative(person: Mapping[str, str], rng: random.Random,
              index: Sequence[Mapping[str, str]]) -> Mapping[str, str]:
    """Someone else in the index with the person's surname (a relative, likely), or anyone else."""
    others = [p for p in index if p.get("mrn") != person.get("mrn")]
    kin = [p for p in others if p["family_name"] == person["family_name"]]
    return rng.choice(kin or others) if others else _NO_RELATIVE


def header_document(person: Mapping[str, str], rng: random.Random, part: Part = TUNED,
                    index: Sequence[Mapping[str, str]] = (), *,
                    printed: PrintedHeader | None = None, family: str | None = None) -> HeaderDocument:
    """One document about `person` in a layout of `part` (a `family` may be forced)."""
    printed = printed or register_noise(person, rng, index, part.date_styles)
    family = family or rng.choice(part.families)
    vocabulary = rng.choice(part.vocabularies)
    separator = rng.choice(part.separators)
    form = rng.choice(part.name_forms)
    fields = _fields(printed, form, rng, part)
    guarantor = _relative(person, rng, index) if family == "guarantor_form" else None
    header, running = _layout(family, fields, vocabulary, separator, rng, printed, guarantor)
    doc_type = rng.choice(_BODY_TYPES)
    body = generate_document(doc_type, rng, {**person, "family_name": person["family_name"].title(),
                                             "given_name": person["given_name"].title()}).splitlines()
    facility = rng.choice(("Riverside General Hospital", "Lakeview Community Clinic",
                           "Harbor Point Health", "Cedar Hills Medical Group"))
    first = [f"# {facility}", "", *header, "", *body[:14]]
    footer = [line.removeprefix("__footer__ ") for line in running if line.startswith("__footer__ ")]
    if footer:  # the same foot line closes every page, below a full page of text; no header
        first = [f"# {facility}", "", *body[:34], "", *footer]
        pages = ["\n".join(first), "\n".join([*body[34:44], "", *footer])]
    else:
        pages = ["\n".join(first)]
        if running:
            pages.append("\n".join([*running, "", *body[14:24]]))
    return HeaderDocument(tuple(pages), rng.choice(part.fonts), family, vocabulary, separator, printed,
                          printed.notes)
