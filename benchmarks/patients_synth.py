"""Synthetic patients and the documents printed about them, with realistic errors.

Used by the matching benchmarks and by `match_train.py` (the Splink EM run that produces the
shipped model parameters). No real patient data.

    index_patients(n, seed)          -> list[dict]: the synth stage's `generate_patients` (weighted
                                        US name lists, planted twins and namesakes), as dicts with
                                        a "kind" (single / twin / namesake)
    patients(n, seed)                -> the same shape from this module's own small lists (kept for
                                        quick experiments without numpy)
    documents(patients, n, seed)     -> list[SynthDocument] (printed header text + the truth)
"""

from __future__ import annotations

import argparse
import csv
import random
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from pipeline.synth.headers import one_digit, typo

MALE = """JAMES JOHN ROBERT MICHAEL WILLIAM DAVID RICHARD JOSEPH THOMAS CHARLES CHRISTOPHER DANIEL
MATTHEW ANTHONY MARK DONALD STEVEN PAUL ANDREW JOSHUA KENNETH KEVIN BRIAN GEORGE TIMOTHY RONALD
EDWARD JASON JEFFREY RYAN JACOB GARY NICHOLAS ERIC JONATHAN STEPHEN LARRY JUSTIN SCOTT BRANDON
BENJAMIN SAMUEL GREGORY ALEXANDER FRANK PATRICK RAYMOND JACK DENNIS JERRY TYLER AARON JOSE ADAM
NATHAN HENRY DOUGLAS ZACHARY PETER KYLE ETHAN WALTER NOAH JEREMY CHRISTIAN KEITH ROGER TERRY
GERALD HAROLD SEAN AUSTIN CARL ARTHUR LAWRENCE DYLAN JESSE JORDAN BRYAN BILLY JOE BRUCE GABRIEL
LOGAN ALBERT WILLIE ALAN JUAN WAYNE ELIJAH RANDY ROY VINCENT RALPH EUGENE RUSSELL BOBBY MASON
PHILIP LOUIS""".split()
FEMALE = """MARY PATRICIA JENNIFER LINDA ELIZABETH BARBARA SUSAN JESSICA SARAH KAREN LISA NANCY BETTY
MARGARET SANDRA ASHLEY KIMBERLY EMILY DONNA MICHELLE CAROL AMANDA DOROTHY MELISSA DEBORAH STEPHANIE
REBECCA SHARON LAURA CYNTHIA KATHLEEN AMY ANGELA SHIRLEY ANNA BRENDA PAMELA EMMA NICOLE HELEN
SAMANTHA KATHERINE CHRISTINE DEBRA RACHEL CAROLYN JANET CATHERINE MARIA HEATHER DIANE RUTH JULIE
OLIVIA JOYCE VIRGINIA VICTORIA KELLY LAUREN CHRISTINA JOAN EVELYN JUDITH MEGAN ANDREA CHERYL
HANNAH JACQUELINE MARTHA GLORIA TERESA ANN SARA MADISON FRANCES KATHRYN JANICE JEAN ABIGAIL ALICE
JUDY SOPHIA GRACE DENISE AMBER DORIS MARILYN DANIELLE BEVERLY ISABELLA THERESA DIANA NATALIE
BRITTANY CHARLOTTE MARIE KAYLA ALEXIS LORI""".split()
SURNAMES = """SMITH JOHNSON WILLIAMS BROWN JONES GARCIA MILLER DAVIS RODRIGUEZ MARTINEZ HERNANDEZ LOPEZ
GONZALEZ WILSON ANDERSON THOMAS TAYLOR MOORE JACKSON MARTIN LEE PEREZ THOMPSON WHITE HARRIS SANCHEZ
CLARK RAMIREZ LEWIS ROBINSON WALKER YOUNG ALLEN KING WRIGHT SCOTT TORRES NGUYEN HILL FLORES GREEN
ADAMS NELSON BAKER HALL RIVERA CAMPBELL MITCHELL CARTER ROBERTS GOMEZ PHILLIPS EVANS TURNER DIAZ
PARKER CRUZ EDWARDS COLLINS REYES STEWART MORRIS MORALES MURPHY COOK ROGERS GUTIERREZ ORTIZ MORGAN
COOPER PETERSON BAILEY REED KELLY HOWARD RAMOS KIM COX WARD RICHARDSON WATSON BROOKS CHAVEZ WOOD
JAMES BENNETT GRAY MENDOZA RUIZ HUGHES PRICE ALVAREZ CASTILLO SANDERS PATEL MYERS LONG ROSS FOSTER
JIMENEZ POWELL JENKINS PERRY RUSSELL SULLIVAN BELL COLEMAN BUTLER HENDERSON BARNES GONZALES FISHER
VASQUEZ SIMMONS ROMERO JORDAN PATTERSON ALEXANDER HAMILTON GRAHAM REYNOLDS GRIFFIN WALLACE MORENO
WEST COLE HAYES BRYANT HERRERA GIBSON ELLIS TRAN MEDINA AGUILAR STEVENS MURRAY FORD CASTRO MARSHALL
OWENS HARRISON FERNANDEZ MCDONALD WOODS WASHINGTON KENNEDY WELLS VARGAS HENRY CHEN FREEMAN WEBB
TUCKER GUZMAN BURNS CRAWFORD OLSON SIMPSON PORTER HUNTER GORDON MENDEZ SILVA SHAW SNYDER MASON
DIXON MUNOZ HUNT HICKS HOLMES PALMER WAGNER BLACK ROBERTSON BOYD ROSE STONE SALAZAR FOX WARREN MILLS
MEYER RICE SCHMIDT GARZA DANIELS FERGUSON NICHOLS STEPHENS SOTO WEAVER RYAN GARDNER PAYNE GRANT
DUNN KELLEY SPENCER HAWKINS ARNOLD PIERCE VAZQUEZ HANSEN PETERS SANTOS HART BRADLEY KNIGHT ELLIOTT
CUNNINGHAM DUNCAN ARMSTRONG HUDSON CARROLL LANE RILEY ANDREWS ALVARADO RAY DELGADO BERRY PERKINS
HOFFMAN JOHNSTON MATTHEWS PENA RICHARDS CONTRERAS WILLIS CARPENTER LAWRENCE SANDOVAL GUERRERO
GEORGE CHAPMAN RIOS ESTRADA ORTEGA WATKINS GREENE NUNEZ WHEELER VALDEZ HARPER BURKE LARSON SANTIAGO
MALDONADO MORRISON FRANKLIN CARLSON AUSTIN DOMINGUEZ CARR LAWSON JACOBS OBRIEN LYNCH SINGH VEGA
BISHOP MONTGOMERY OLIVER JENSEN HARVEY WILLIAMSON GILBERT DEAN SIMS ESPINOZA HOWELL LI WONG REID
HANSON LE MCCOY GARRETT BURTON FULLER WANG WEBER WELCH ROJAS LUCAS MARQUEZ FIELDS PARK YANG LITTLE
BANKS PADILLA DAY WALSH BOWMAN SCHULTZ LUNA FOWLER MEJIA DAVIDSON ACOSTA BREWER MAY HOLLAND JUAREZ
NEWMAN PEARSON CURTIS CORTEZ DOUGLAS SCHNEIDER JOSEPH BARRETT NAVARRO FIGUEROA KELLER AVILA WADE
MOLINA STANLEY HOPKINS CAMPOS BARNETT BATES CHAMBERS CALDWELL BECK LAMBERT MIRANDA BYRD CRAIG AYALA
LOWE FRAZIER POWERS NEAL LEONARD GREGORY CARRILLO SUTTON FLEMING RHODES SHELTON SCHWARTZ NORRIS
JENNINGS WATTS DURAN WALTERS COHEN MCDANIEL MORAN PARKS STEELE VAUGHN BECKER HOLT DELEON BARKER
TERRY HALE LEON HAIL BENSON HAYNES HORTON MILES LYONS PHAM GRAVES BUSH THORNTON WOLFE WARNER CABRERA
MCKINNEY MANN ZIMMERMAN DAWSON LARA FLETCHER PAGE MCCARTHY LOVE ROBLES CERVANTES SOLIS ERICKSON
REEVES CHANG KLEIN SALINAS FUENTES BALDWIN DANIEL SIMON VELASQUEZ HARDY HIGGINS AGUIRRE LIN CUMMINGS
CHANDLER SHARP BARBER BOWEN OCHOA DENNIS ROBBINS LIU RAMSEY FRANCIS GRIFFITH PAUL BLAIR OCONNOR
CARDENAS PACHECO CROSS CALDERON QUINN MOSS SWANSON CHAN RIVAS KHAN RODGERS SERRANO FITZGERALD
ROSALES STEVENSON CHRISTENSEN MANNING GILL CURRY MCLAUGHLIN HARMON MCGEE GROSS DOYLE GARNER NEWTON
BURGESS REESE WALTON BLAKE TRUJILLO ADKINS BRADY GOODMAN ROMAN WEBSTER GOODWIN FISCHER HUANG POTTER
DELACRUZ MONTOYA TODD WU HINES MULLINS CASTANEDA MALONE CANNON TATE MACK SHERMAN HUBBARD HODGES
ZHANG GUERRA WOLF VALENCIA SAUNDERS FRANCO ROWE GALLAGHER FARMER HAMMOND HAMPTON TOWNSEND INGRAM
WISE GALLEGOS CLARKE BARTON SCHROEDER MAXWELL WATERS LOGAN CAMACHO STRICKLAND NORMAN PERSON COLON
PARSONS FRANK HARRINGTON GLOVER OSBORNE BUCHANAN CASEY FLOYD PATTON IBARRA BALL TYLER SUAREZ BOWERS
OROZCO SALAS COBB GIBBS ANDRADE BAUER CONNER MOODY ESCOBAR MCGUIRE LLOYD MUELLER HARTMAN FRENCH""".split()
STREETS = """MAIN OAK PINE MAPLE CEDAR ELM WASHINGTON LAKE HILL PARK WALNUT SPRING NORTH RIDGE
CHURCH WILLOW MILL SUNSET RAILROAD JACKSON CHERRY HIGHLAND MEADOW FOREST RIVER VIEW LINCOLN
ADAMS FRANKLIN JEFFERSON MADISON CENTER BIRCH ASH""".split()
STREET_TYPES = ["ST", "AVE", "RD", "DR", "LN", "BLVD", "CT", "PL", "WAY"]
CITIES = [("SPRINGFIELD", "IL"), ("RIVERSIDE", "CA"), ("FRANKLIN", "TN"), ("GREENVILLE", "SC"),
          ("BRISTOL", "CT"), ("CLINTON", "IA"), ("FAIRVIEW", "OR"), ("SALEM", "MA"),
          ("MADISON", "WI"), ("GEORGETOWN", "TX"), ("ARLINGTON", "VA"), ("ASHLAND", "OH")]
NICK = {"WILLIAM": "BILL", "ROBERT": "BOB", "RICHARD": "RICK", "ELIZABETH": "LIZ",
        "MARGARET": "PEGGY", "JAMES": "JIM", "JOSEPH": "JOE", "THOMAS": "TOM", "MICHAEL": "MIKE",
        "KATHERINE": "KATE", "PATRICIA": "PAT", "CHRISTOPHER": "CHRIS", "DANIEL": "DAN",
        "JENNIFER": "JEN", "SUSAN": "SUE", "ANTHONY": "TONY", "EDWARD": "ED", "DAVID": "DAVE"}
OCR_CONFUSIONS = {"O": "0", "0": "O", "I": "1", "1": "l", "l": "1", "S": "5", "5": "S", "B": "8",
                  "8": "B", "E": "F", "rn": "m", "G": "6", "Z": "2"}

CSV_HEADER = ["mrn", "family_name", "given_name", "birth_date", "sex", "address", "city", "state",
              "postcode", "phone"]


def _weighted_surname(rng: random.Random) -> str:
    # Zipf-like: common surnames much more frequent
    index = min(int(rng.paretovariate(1.05)) - 1, len(SURNAMES) - 1)
    return SURNAMES[index] if rng.random() < 0.5 else rng.choice(SURNAMES)


def _person(rng: random.Random, mrn: str) -> dict:
    sex = rng.choice("MF")
    city, state = rng.choice(CITIES)
    dob = date(1930, 1, 1) + timedelta(days=rng.randrange(365 * 92))
    return {
        "mrn": mrn,
        "family_name": _weighted_surname(rng),
        "given_name": rng.choice(MALE if sex == "M" else FEMALE),
        "birth_date": dob.isoformat(),
        "sex": sex,
        "address": f"{rng.randrange(1, 9999)} {rng.choice(STREETS)} {rng.choice(STREET_TYPES)}",
        "city": city,
        "state": state,
        "postcode": f"{rng.randrange(10000, 99999)}",
        "phone": f"{rng.randrange(201, 989)}{rng.randrange(200, 999)}{rng.randrange(1000, 9999)}",
        "kind": "single",
    }


def patients(n: int, seed: int = 7, *, twin_rate: float = 0.02, namesake_rate: float = 0.02,
             first_mrn: int = 10_000_000) -> list[dict]:
    """`n` patients; about `twin_rate` of them are twin pairs (same surname, birth date, address,
    phone) and `namesake_rate` share given and family name with another patient (other DOB)."""
    rng = random.Random(seed)
    mrns = rng.sample(range(first_mrn, first_mrn + 10 * max(n, 1000)), n)
    out: list[dict] = []
    while len(out) < n:
        person = _person(rng, str(mrns[len(out)]))
        out.append(person)
        roll = rng.random()
        if len(out) < n and roll < twin_rate:
            twin = dict(person, mrn=str(mrns[len(out)]), kind="twin")
            twin["sex"] = rng.choice("MF")
            names = MALE if twin["sex"] == "M" else FEMALE
            twin["given_name"] = rng.choice([g for g in names if g != person["given_name"]])
            person["kind"] = "twin"
            out.append(twin)
        elif len(out) < n and roll < twin_rate + namesake_rate:
            other = _person(rng, str(mrns[len(out)]))
            other.update(family_name=person["family_name"], given_name=person["given_name"],
                         sex=person["sex"], kind="namesake")
            person["kind"] = "namesake"
            out.append(other)
    return out


def index_patients(n: int, seed: int, *, twin_rate: float = 0.02, namesake_rate: float = 0.02,
                   duplicate_rate: float = 0.0) -> list[dict]:
    """`n` patients from `pipeline.synth.patients.generate_patients`, as dicts with a "kind"
    (single, twin, namesake, or duplicated: the same person registered twice, "duplicate_of" set)."""
    from pipeline.synth.patients import generate_patients, namesake_pairs, twin_pairs

    people = generate_patients(n, seed, twin_rate=twin_rate, namesake_rate=namesake_rate,
                               duplicate_rate=duplicate_rate)
    kinds: dict[str, str] = {}
    for kind, pairs in (("namesake", namesake_pairs(people)), ("twin", twin_pairs(people))):
        for left, right in pairs:
            kinds[left.mrn] = kinds[right.mrn] = kind
    for p in people:
        if p.duplicate_of:
            kinds[p.mrn] = kinds[p.duplicate_of] = "duplicated"
    dup_of = {p.mrn: p.duplicate_of for p in people if p.duplicate_of}
    return [dict(zip(CSV_HEADER, p.csv_row(), strict=True), kind=kinds.get(p.mrn, "single"),
                 duplicate_of=dup_of.get(p.mrn)) for p in people]


def add_size_arguments(parser: argparse.ArgumentParser, *, patients: int, documents: int, seed: int) -> None:
    """The index size, document count and seed options the document benchmarks share."""
    parser.add_argument("--patients", type=int, default=patients, help="patients in the synthetic index")
    parser.add_argument("--documents", type=int, default=documents, help="documents to match")
    parser.add_argument("--seed", type=int, default=seed)


def write_csv(rows: list[dict], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_HEADER, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def imported_index(index: list[dict], folder: Path) -> tuple[Any, Any, float]:
    """`index` imported through the CSV importer into a new SQLite manifest in `folder`:
    (engine, import report, seconds the import took)."""
    from pipeline.patients.importer import import_file
    from pipeline.store.database import make_engine, migrate

    csv_path = folder / "patients.csv"
    write_csv(index, csv_path)
    url = f"sqlite:///{folder / 'manifest.db'}"
    migrate(url)
    engine = make_engine(url)
    started = time.perf_counter()
    report = import_file(csv_path, engine)
    return engine, report, time.perf_counter() - started


# ---------------------------------------------------------------------------------- documents


@dataclass(frozen=True)
class SynthDocument:
    text: str
    truth_mrn: str | None  # None: the person is not in the index
    legible_pair: bool  # the paper carries name+DOB or MRN+DOB without a mistake in DOB
    notes: tuple[str, ...]


def _ocr_noise(rng: random.Random, text: str, rate: float) -> str:
    out = []
    for ch in text:
        if ch in OCR_CONFUSIONS and rng.random() < rate:
            out.append(OCR_CONFUSIONS[ch])
        else:
            out.append(ch)
    return "".join(out)


def _format_dob(rng: random.Random, dob: date) -> str:
    style = rng.randrange(6)
    if style == 0:
        return dob.strftime("%m/%d/%Y")
    if style == 1:
        return f"{dob.month}/{dob.day}/{dob.year}"
    if style == 2:
        return dob.strftime("%B %-d, %Y")
    if style == 3:
        return dob.strftime("%d-%b-%Y").upper()
    if style == 4:
        return dob.strftime("%m-%d-%Y")
    return dob.isoformat()


def documents(index: list[dict], n: int, seed: int = 11, *, outside_rate: float = 0.10,
              mrn_missing: float = 0.5, mrn_wrong_digit: float = 0.05,
              outside_pool: list[dict] | None = None) -> list[SynthDocument]:
    """`n` documents: `outside_rate` of them for people not in `index` (some namesakes of indexed
    ones), the rest about indexed patients, with typos, OCR confusions, nicknames, day/month slips."""
    rng = random.Random(seed)
    docs: list[SynthDocument] = []
    for k in range(n):
        notes: list[str] = []
        outside = rng.random() < outside_rate
        if outside:
            person = dict(rng.choice(outside_pool)) if outside_pool else _person(rng, "")
            person["mrn"] = f"9{rng.randrange(10**8):08d}"  # another system's number: not in the index
            notes.append("not in index")
            if rng.random() < 0.3:  # a namesake of someone in the index
                other = rng.choice(index)
                person.update(family_name=other["family_name"], given_name=other["given_name"])
                notes.append("outside namesake")
            truth = None
        else:
            person = rng.choice(index)
            truth = person["mrn"]
            if person["kind"] != "single":
                notes.append(person["kind"])
        family, given = person["family_name"], person["given_name"]
        dob = date.fromisoformat(person["birth_date"])
        name_ok = True
        dob_ok = True
        if rng.random() < 0.10:
            family = typo(rng, family)
            notes.append("family typo")
        if rng.random() < 0.06:
            given = typo(rng, given)
            notes.append("given typo")
        if given.upper() in NICK and rng.random() < 0.15:
            given = NICK[given.upper()]
            notes.append("nickname")
        if rng.random() < 0.02:
            family, given = given, family
            notes.append("names swapped")
        person = dict(person)
        if rng.random() < 0.10:  # moved since registration
            moved = _person(rng, "0")
            person.update(address=moved["address"], city=moved["city"], state=moved["state"],
                          postcode=moved["postcode"])
            notes.append("old address")
        roll = rng.random()
        if roll < 0.10:
            person["phone"] = _person(rng, "0")["phone"]
            notes.append("other phone")
        elif roll < 0.13:
            person["phone"] = one_digit(rng, person["phone"])
            notes.append("phone digit wrong")
        if rng.random() < 0.01:
            person["sex"] = "F" if person["sex"] == "M" else "M"
            notes.append("sex wrong")
        dob_text = _format_dob(rng, dob)
        roll = rng.random()
        if roll < 0.02:
            dob_text = ""
            dob_ok = False
            notes.append("no DOB")
        elif roll < 0.04 and dob.day <= 12 and dob.day != dob.month:
            dob_text = dob.strftime("%d/%m/%Y")
            dob_ok = False
            notes.append("DOB day/month swapped")
        elif roll < 0.06:
            digits = one_digit(rng, dob.strftime("%m%d%Y"))
            dob_text = f"{digits[:2]}/{digits[2:4]}/{digits[4:]}"
            dob_ok = False
            notes.append("DOB digit wrong")
        mrn_text = person["mrn"]
        mrn_ok = True
        if rng.random() < mrn_missing:
            mrn_text = ""
            mrn_ok = False
        elif rng.random() < mrn_wrong_digit:
            mrn_text = one_digit(rng, mrn_text)
            mrn_ok = False
            notes.append("MRN digit wrong")
        text = _header(rng, family, given, dob_text, mrn_text, person)
        if rng.random() < 0.25:
            text = _ocr_noise(rng, text, 0.08)
            notes.append("OCR noise")
        legible = not outside and dob_ok and (name_ok or mrn_ok)
        docs.append(SynthDocument(text, truth, legible, tuple(notes)))
        del k
    return docs


def _header(rng: random.Random, family: str, given: str, dob: str, mrn: str, person: dict) -> str:
    style = rng.randrange(4)
    lines = []
    if style == 0:
        lines.append(f"Patient: {family}, {given}")
    elif style == 1:
        lines.append(f"Name: {given.title()} {family.title()}")
    elif style == 2:
        lines.append(f"Patient Name: {family.title()}, {given.title()}")
    else:
        lines.append(f"PATIENT NAME: {given} {family}")
    if dob:
        lines.append(rng.choice(["DOB", "Date of Birth", "D.O.B.", "Birth Date"]) + f": {dob}")
    if mrn:
        lines.append(rng.choice(["MRN", "MR#", "Medical Record Number", "Med Rec #"]) + f": {mrn}")
    if rng.random() < 0.5:
        lines.append(f"Sex: {rng.choice([person['sex'], 'Male' if person['sex'] == 'M' else 'Female'])}")
    if rng.random() < 0.3:
        lines.append(f"Address: {person['address'].title()}, {person['city'].title()}, "
                     f"{person['state']} {person['postcode']}")
    if rng.random() < 0.3:
        p = person["phone"]
        lines.append(f"Phone: ({p[:3]}) {p[3:6]}-{p[6:]}")
    lines.append("Date of Service: 03/14/2024")
    details = lines[1:]
    rng.shuffle(details)
    lines = lines[:1] + details
    body = ["", "CONSULTATION NOTE", "Reason for consultation: chest pain, follow-up.",
            "Assessment and plan: continue current medications."]
    return "\n".join(lines + body)
