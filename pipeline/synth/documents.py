"""Synthetic document BODY text for every type in the default type list.

`generate_document(doc_type, rng, patient=None) -> str` returns the text that would be printed on
the paper below a patient header (the samples generator puts name / DOB / MRN above it). Wording,
section order, labels and layout vary from call to call so a classifier trained on the output learns
what makes a consent a consent, not one template. All names, places and numbers are invented.

`patient` is an optional mapping with the patient CSV's keys (`given_name`, `family_name`,
`birth_date`, `mrn`, `sex`, `address`, `city`, `state`, `postcode`, `phone`); missing keys are made
up. The output is deterministic for a given `rng` state.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

# ------------------------------------------------------------------------------------ vocabulary

GIVEN = ("James", "Maria", "Robert", "Linda", "Ahmed", "Mei", "Carlos", "Grace", "Oluwaseun",
         "Priya", "Thomas", "Elena", "Samuel", "Fatima", "Daniel", "Hannah", "Kenji", "Rosa",
         "Victor", "Aisha", "Peter", "Ingrid", "Luis", "Naomi", "Omar", "Claire")
FAMILY = ("Whitfield", "Okafor", "Lindqvist", "Moreno", "Castellano", "Haddad", "Brennan",
          "Nakamura", "Delacroix", "Pemberton", "Kowalski", "Abernathy", "Ferreira", "Gallagher",
          "Iverson", "Mbeki", "Rasmussen", "Thornbury", "Vasquez", "Yamada", "Ashworth", "Quinlan")
FACILITIES = ("Riverside General Hospital", "St. Brendan Medical Center", "Lakeview Community Clinic",
              "Northgate Family Practice", "Mercy Valley Hospital", "Harbor Point Health",
              "Cedar Hills Medical Group", "Westbrook Regional Medical Center",
              "Pinecrest Orthopedic Associates", "Summit Cardiology Partners")
STREETS = ("Maple Ave", "Oak Street", "Harbor Rd", "Elm Court", "Birch Lane", "Main Street",
           "Lincoln Blvd", "Cedar Way", "Willow Dr", "Park Place")
CITIES = (("Springfield", "IL"), ("Fairview", "OR"), ("Riverton", "WY"), ("Madison", "WI"),
          ("Georgetown", "TX"), ("Clinton", "NC"), ("Salem", "MA"), ("Franklin", "TN"))
SPECIALTIES = ("Cardiology", "Gastroenterology", "Orthopedic Surgery", "Neurology", "Dermatology",
               "Pulmonology", "Endocrinology", "Rheumatology", "Urology", "Nephrology",
               "Otolaryngology", "Physical Therapy", "Oncology", "Psychiatry")
INSURERS = ("BlueStar Health Plan", "Unity Mutual Insurance", "Meridian Care HMO",
            "Cascade Health Alliance", "Keystone PPO", "Liberty Medicare Advantage",
            "Horizon Community Health Plan", "Pacifica Dental & Vision")
DRUGS = (("lisinopril", "10 mg", "tablet", "once daily", "blood pressure"),
         ("metformin", "500 mg", "tablet", "twice daily with meals", "diabetes"),
         ("atorvastatin", "40 mg", "tablet", "at bedtime", "cholesterol"),
         ("levothyroxine", "75 mcg", "tablet", "every morning on an empty stomach", "thyroid"),
         ("amlodipine", "5 mg", "tablet", "once daily", "blood pressure"),
         ("omeprazole", "20 mg", "capsule", "before breakfast", "reflux"),
         ("sertraline", "50 mg", "tablet", "once daily", "mood"),
         ("albuterol HFA", "90 mcg/actuation", "inhaler", "2 puffs every 4-6 hours as needed",
          "wheezing"),
         ("amoxicillin", "500 mg", "capsule", "three times daily for 10 days", "infection"),
         ("warfarin", "5 mg", "tablet", "daily as directed by anticoagulation clinic", "clot prevention"),
         ("gabapentin", "300 mg", "capsule", "three times daily", "nerve pain"),
         ("hydrochlorothiazide", "25 mg", "tablet", "once daily", "fluid / blood pressure"),
         ("insulin glargine", "20 units", "injection", "subcutaneously at bedtime", "diabetes"),
         ("prednisone", "10 mg", "tablet", "taper as directed", "inflammation"),
         ("metoprolol succinate", "50 mg", "tablet ER", "once daily", "heart rate"),
         ("furosemide", "40 mg", "tablet", "every morning", "swelling"),
         ("montelukast", "10 mg", "tablet", "each evening", "asthma"),
         ("cetirizine", "10 mg", "tablet", "daily as needed", "allergies"),
         ("tramadol", "50 mg", "tablet", "every 6 hours as needed for pain", "pain"),
         ("apixaban", "5 mg", "tablet", "twice daily", "atrial fibrillation"))
LABS = (("Sodium", "mmol/L", 135, 145), ("Potassium", "mmol/L", 3.5, 5.1),
        ("Chloride", "mmol/L", 98, 107), ("CO2", "mmol/L", 22, 29), ("BUN", "mg/dL", 7, 20),
        ("Creatinine", "mg/dL", 0.6, 1.3), ("Glucose", "mg/dL", 70, 99), ("Calcium", "mg/dL", 8.6, 10.3),
        ("ALT", "U/L", 7, 56), ("AST", "U/L", 10, 40), ("Alkaline Phosphatase", "U/L", 44, 147),
        ("Total Bilirubin", "mg/dL", 0.1, 1.2), ("Albumin", "g/dL", 3.5, 5.0),
        ("WBC", "K/uL", 4.0, 11.0), ("Hemoglobin", "g/dL", 12.0, 17.5), ("Hematocrit", "%", 36, 50),
        ("Platelets", "K/uL", 150, 400), ("TSH", "uIU/mL", 0.4, 4.0), ("Hemoglobin A1c", "%", 4.0, 5.6),
        ("LDL Cholesterol", "mg/dL", 0, 100), ("HDL Cholesterol", "mg/dL", 40, 90),
        ("Triglycerides", "mg/dL", 0, 150), ("INR", "", 0.8, 1.2), ("Magnesium", "mg/dL", 1.7, 2.2))
PANELS = ("Basic Metabolic Panel", "Comprehensive Metabolic Panel", "Complete Blood Count",
          "Lipid Panel", "Thyroid Function", "Hepatic Function Panel", "Coagulation Studies")
PROBLEMS = ("hypertension", "type 2 diabetes mellitus", "hyperlipidemia", "asthma",
            "chronic obstructive pulmonary disease", "atrial fibrillation", "osteoarthritis of the knee",
            "gastroesophageal reflux disease", "hypothyroidism", "major depressive disorder",
            "chronic kidney disease stage 3", "congestive heart failure", "migraine",
            "obstructive sleep apnea", "low back pain", "anemia")
COMPLAINTS = ("chest pain", "shortness of breath", "abdominal pain", "headache", "dizziness",
              "fever and cough", "right knee pain", "low back pain", "palpitations", "nausea and vomiting",
              "a fall at home", "swelling of both legs", "painful urination", "a laceration to the hand")
PROCEDURES = (("Laparoscopic cholecystectomy", "symptomatic cholelithiasis"),
              ("Right total knee arthroplasty", "severe osteoarthritis of the right knee"),
              ("Open reduction and internal fixation of left distal radius", "left distal radius fracture"),
              ("Inguinal hernia repair with mesh", "right inguinal hernia"),
              ("Laparoscopic appendectomy", "acute appendicitis"),
              ("Carpal tunnel release", "carpal tunnel syndrome"),
              ("Excision of lipoma, back", "subcutaneous mass of the back"))
BEDSIDE = (("Colonoscopy with biopsy", "screening for colorectal cancer"),
           ("Esophagogastroduodenoscopy", "dyspepsia"),
           ("Lumbar puncture", "rule out meningitis"),
           ("Ultrasound-guided thoracentesis", "left pleural effusion"),
           ("Bone marrow aspiration and biopsy", "pancytopenia"),
           ("Lumbar epidural steroid injection", "lumbar radiculopathy"),
           ("Flexible bronchoscopy with bronchoalveolar lavage", "persistent infiltrate"),
           ("Central venous catheter placement", "need for central access"))
STUDIES = (("CT abdomen and pelvis with contrast", "abdominal pain"),
           ("Chest X-ray, two views", "cough"), ("MRI lumbar spine without contrast", "back pain"),
           ("Ultrasound of the right upper quadrant", "elevated liver enzymes"),
           ("CT head without contrast", "headache after fall"),
           ("Bilateral screening mammogram", "routine screening"),
           ("MRI brain with and without contrast", "new seizures"),
           ("X-ray left wrist, three views", "wrist injury"))
SPECIMENS = (("skin, left forearm, shave biopsy", "Basal cell carcinoma, nodular type"),
             ("gallbladder, cholecystectomy", "Chronic cholecystitis with cholelithiasis"),
             ("colon, sigmoid, polypectomy", "Tubular adenoma, no high-grade dysplasia"),
             ("appendix, appendectomy", "Acute suppurative appendicitis"),
             ("breast, right, core needle biopsy", "Fibroadenoma"),
             ("prostate, needle biopsies", "Benign prostatic tissue"),
             ("endometrium, biopsy", "Proliferative endometrium"))


# -------------------------------------------------------------------------------- small helpers


def _pick(rng: random.Random, items: Sequence[Any]) -> Any:
    return items[rng.randrange(len(items))]


def _chance(rng: random.Random, p: float) -> bool:
    return rng.random() < p


def _date(rng: random.Random, start: int = 2016, end: int = 2026) -> date:
    first = date(start, 1, 1)
    return first + timedelta(days=rng.randrange((date(end, 12, 31) - first).days))


def _fmt_date(rng: random.Random, value: date) -> str:
    style = rng.randrange(5)
    if style == 0:
        return value.strftime("%m/%d/%Y")
    if style == 1:
        return value.isoformat()
    if style == 2:
        return value.strftime("%B %d, %Y").replace(" 0", " ")
    if style == 3:
        return value.strftime("%d %b %Y")
    return f"{value.month}/{value.day}/{value.strftime('%y')}"


def _name(rng: random.Random) -> str:
    return f"{_pick(rng, GIVEN)} {_pick(rng, FAMILY)}"


def _clinician(rng: random.Random) -> str:
    name = _name(rng)
    suffix = _pick(rng, ("MD", "M.D.", "DO", "MD, FACP", "NP", "PA-C", "MD, PhD"))
    return f"Dr. {name}" if _chance(rng, 0.3) else f"{name}, {suffix}"


def _phone(rng: random.Random) -> str:
    a, b, c = rng.randrange(200, 999), rng.randrange(200, 999), rng.randrange(1000, 9999)
    return _pick(rng, (f"({a}) {b}-{c}", f"{a}-{b}-{c}", f"{a}.{b}.{c}"))


def _address(rng: random.Random) -> str:
    city, state = _pick(rng, CITIES)
    return f"{rng.randrange(10, 9999)} {_pick(rng, STREETS)}, {city}, {state} {rng.randrange(10000, 99999)}"


def _digits(rng: random.Random, n: int) -> str:
    return "".join(str(rng.randrange(10)) for _ in range(n))


def _patient(rng: random.Random, patient: Mapping[str, Any] | None) -> dict[str, str]:
    """The patient fields the body may mention, made up where the caller gave none."""
    given = str((patient or {}).get("given_name") or _pick(rng, GIVEN))
    family = str((patient or {}).get("family_name") or _pick(rng, FAMILY))
    birth = (patient or {}).get("birth_date")
    if isinstance(birth, date):
        birth_text = _fmt_date(rng, birth)
    else:
        birth_text = str(birth) if birth else _fmt_date(rng, _date(rng, 1935, 2015))
    sex = str((patient or {}).get("sex") or _pick(rng, ("F", "M")))
    address = (patient or {}).get("address")
    if address and (patient or {}).get("city"):
        address = f"{address}, {patient.get('city')}, {patient.get('state', '')} {patient.get('postcode', '')}"
    return {
        "given": given,
        "family": family,
        "name": f"{given} {family}",
        "birth": birth_text,
        "mrn": str((patient or {}).get("mrn") or _digits(rng, 7)),
        "sex": sex,
        "he": "she" if sex.upper().startswith("F") else "he",
        "his": "her" if sex.upper().startswith("F") else "his",
        "address": str(address or _address(rng)),
        "phone": str((patient or {}).get("phone") or _phone(rng)),
        "age": str(rng.randrange(19, 91)),
    }


def _heading(rng: random.Random, text: str, style: int) -> str:
    if style == 0:
        return text.upper() + ":"
    if style == 1:
        return text.title()
    if style == 2:
        return f"{text.upper()}\n" + "-" * len(text)
    return f"** {text.upper()} **"


def _sections(rng: random.Random, parts: Sequence[tuple[str, str]], shuffle_tail: bool = False) -> str:
    """Join (heading, body) pairs in one randomly chosen heading style."""
    style = rng.randrange(4)
    items = list(parts)
    if shuffle_tail and len(items) > 3:
        tail = items[2:-1]
        rng.shuffle(tail)
        items = items[:2] + tail + items[-1:]
    inline = style == 0 and _chance(rng, 0.5)
    sep = "\n" if _chance(rng, 0.5) else "\n\n"
    out = []
    for head, body in items:
        if not body:
            continue
        if inline and "\n" not in body:
            out.append(f"{_heading(rng, head, style)} {body}")
        else:
            out.append(f"{_heading(rng, head, style)}\n{body}")
    return sep.join(out)


def _kv(rng: random.Random, pairs: Sequence[tuple[str, str]]) -> str:
    """Label/value lines in one of a few form layouts."""
    style = rng.randrange(4)
    width = max(len(k) for k, _ in pairs) + 2
    lines = []
    for key, value in pairs:
        if style == 0:
            lines.append(f"{key}: {value}")
        elif style == 1:
            lines.append(f"{key.upper():<{width}}{value}")
        elif style == 2:
            lines.append(f"{key} {'.' * max(3, width - len(key))} {value}")
        else:
            lines.append(f"{key}  [ {value} ]")
    if style != 3 and _chance(rng, 0.3) and len(lines) > 3:
        half = (len(lines) + 1) // 2
        left, right = lines[:half], lines[half:]
        col = max(len(x) for x in left) + 4
        lines = [f"{a:<{col}}{b}" for a, b in zip(left, right + [""] * (len(left) - len(right)))]
    return "\n".join(lines)


def _checkbox(rng: random.Random, label: str, checked: bool | None = None) -> str:
    mark = checked if checked is not None else _chance(rng, 0.5)
    box = _pick(rng, (("[X]", "[ ]"), ("(x)", "( )"), ("☒", "☐"), ("Yes [x] No [ ]", "Yes [ ] No [x]")))
    return f"{box[0] if mark else box[1]} {label}"


def _signature(rng: random.Random, who: str, when: date, role: str = "Signature") -> str:
    style = rng.randrange(3)
    if style == 0:
        return f"{role}: ______________________   Date: {_fmt_date(rng, when)}\nPrinted name: {who}"
    if style == 1:
        return f"X________________________________\n{who}\n{role}            {_fmt_date(rng, when)}"
    return f"Electronically signed by {who} on {_fmt_date(rng, when)}"


def _title(rng: random.Random, *options: str) -> str:
    text = _pick(rng, options)
    return _pick(rng, (text.upper(), text, text.title(), f"=== {text.upper()} ==="))


def _facility_block(rng: random.Random) -> str:
    fac = _pick(rng, FACILITIES)
    if _chance(rng, 0.4):
        return fac
    return f"{fac}\n{_address(rng)}\nTel {_phone(rng)}" + (f"  Fax {_phone(rng)}" if _chance(rng, 0.5) else "")


def _meds_sentence(rng: random.Random, n: int) -> str:
    meds = rng.sample(DRUGS, n)
    return "; ".join(f"{m[0]} {m[1]} {m[3]}" for m in meds) + "."


def _problems(rng: random.Random, n: int) -> list[str]:
    return rng.sample(PROBLEMS, n)


def _vitals(rng: random.Random) -> str:
    bp = f"{rng.randrange(100, 170)}/{rng.randrange(60, 100)}"
    return _pick(rng, (
        f"BP {bp}, HR {rng.randrange(55, 110)}, RR {rng.randrange(12, 22)}, Temp {rng.randrange(970, 1012) / 10} F, SpO2 {rng.randrange(90, 100)}% on room air.",
        f"Blood pressure {bp}, pulse {rng.randrange(55, 110)}, respirations {rng.randrange(12, 22)}, temperature {rng.randrange(360, 385) / 10} C.",
        f"T {rng.randrange(970, 1012) / 10}  P {rng.randrange(55, 110)}  R {rng.randrange(12, 22)}  BP {bp}  O2 sat {rng.randrange(90, 100)}%",
    ))


def _exam(rng: random.Random) -> str:
    parts = [
        _pick(rng, ("General: Alert, oriented, in no acute distress.", "GENERAL: Well-appearing, pleasant.",
                    "Constitutional: appears stated age, mildly uncomfortable.")),
        _pick(rng, ("HEENT: Normocephalic, atraumatic. Pupils equal and reactive.",
                    "Head/neck: supple, no lymphadenopathy, no JVD.")),
        _pick(rng, ("Lungs: Clear to auscultation bilaterally.", "Chest: scattered expiratory wheezes, no crackles.",
                    "Respiratory: diminished breath sounds at the left base.")),
        _pick(rng, ("Heart: Regular rate and rhythm, no murmurs.", "CV: irregularly irregular, no gallop.",
                    "Cardiovascular: S1, S2 normal, 2/6 systolic murmur.")),
        _pick(rng, ("Abdomen: Soft, nontender, nondistended.", "Abd: tender in the right upper quadrant, no rebound.",
                    "Abdomen: obese, soft, bowel sounds present.")),
        _pick(rng, ("Extremities: No edema.", "Ext: 1+ pitting edema bilaterally.",
                    "Musculoskeletal: tenderness over the medial joint line.")),
        _pick(rng, ("Neuro: Nonfocal.", "Neurologic: cranial nerves II-XII intact, strength 5/5.",
                    "Neuro: alert and oriented x3, gait steady.")),
    ]
    return "\n".join(parts[: rng.randrange(4, len(parts) + 1)])


def _hpi(rng: random.Random, p: dict[str, str], complaint: str) -> str:
    days = rng.randrange(1, 21)
    return _pick(rng, (
        f"{p['given']} is a {p['age']}-year-old with a history of {_pick(rng, PROBLEMS)} who presents with {complaint} for {days} days.",
        f"The patient is a {p['age']}-year-old {'woman' if p['he'] == 'she' else 'man'} who reports {complaint} beginning {days} days ago. {p['he'].capitalize()} denies fever or chills.",
        f"{p['age']} y/o with {complaint} x {days} days, worse with exertion, partially relieved by rest.",
    ))


# ----------------------------------------------------------------------------- clinical notes


def _discharge_summary(rng: random.Random, p: dict[str, str]) -> str:
    admit = _date(rng)
    discharge = admit + timedelta(days=rng.randrange(1, 12))
    dx = _pick(rng, ("community-acquired pneumonia", "acute exacerbation of COPD", "congestive heart failure exacerbation",
                     "cellulitis of the left leg", "diabetic ketoacidosis", "acute pancreatitis", "syncope"))
    title = _title(rng, "Discharge Summary", "Hospital Discharge Summary", "Discharge Summary / Transfer Note")
    parts = [
        ("Date of admission", _fmt_date(rng, admit)),
        ("Date of discharge", _fmt_date(rng, discharge)),
        ("Admitting diagnosis", dx.capitalize()),
        ("Discharge diagnoses", "\n".join(f"{i + 1}. {d.capitalize()}." for i, d in enumerate([dx] + _problems(rng, rng.randrange(1, 4))))),
        ("Hospital course", _pick(rng, (
            f"The patient was admitted to the medical floor and treated for {dx}. {p['he'].capitalize()} improved steadily and was tolerating a regular diet by hospital day {rng.randrange(2, 5)}.",
            f"Admitted via the emergency department with {dx}. Treated with intravenous therapy, then transitioned to oral medication. No complications during the stay.",
            f"Hospital course was uncomplicated. {dx.capitalize()} responded to treatment and the patient remained hemodynamically stable.",
        ))),
        ("Condition at discharge", _pick(rng, ("Stable.", "Good, ambulating independently.", "Improved."))),
        ("Discharge medications", _meds_sentence(rng, rng.randrange(2, 6))),
        ("Disposition", _pick(rng, ("Home with family.", "Home with home health services.", "Skilled nursing facility."))),
        ("Follow-up", f"With {_clinician(rng)} in {rng.randrange(1, 3)} weeks."),
    ]
    return f"{title}\n\n{_sections(rng, parts, shuffle_tail=True)}\n\n{_signature(rng, _clinician(rng), discharge)}"


def _history_and_physical(rng: random.Random, p: dict[str, str]) -> str:
    complaint = _pick(rng, COMPLAINTS)
    title = _title(rng, "History and Physical", "Admission History and Physical", "H&P", "History & Physical Examination")
    parts = [
        ("Chief complaint", complaint.capitalize() + "."),
        ("History of present illness", _hpi(rng, p, complaint)),
        ("Past medical history", ", ".join(_problems(rng, rng.randrange(1, 5))).capitalize() + "."),
        ("Past surgical history", _pick(rng, ("Appendectomy.", "None.", "Cholecystectomy, tonsillectomy.", "Right knee arthroscopy."))),
        ("Medications", _meds_sentence(rng, rng.randrange(1, 5))),
        ("Allergies", _pick(rng, ("NKDA.", "Penicillin (rash).", "Sulfa drugs.", "No known drug allergies."))),
        ("Social history", _pick(rng, ("Former smoker, quit 10 years ago. Drinks socially.", "Denies tobacco, alcohol or drug use.", "Lives alone, retired teacher."))),
        ("Family history", _pick(rng, ("Father with coronary artery disease.", "Noncontributory.", "Mother with diabetes."))),
        ("Review of systems", "A complete review of systems was otherwise negative."),
        ("Physical examination", f"Vital signs: {_vitals(rng)}\n{_exam(rng)}"),
        ("Assessment and plan", f"{complaint.capitalize()}, likely {_pick(rng, PROBLEMS)}. Admit for observation, labs and imaging as ordered."),
    ]
    return f"{title}\n\n{_sections(rng, parts)}\n\n{_signature(rng, _clinician(rng), _date(rng))}"


def _consult_note(rng: random.Random, p: dict[str, str]) -> str:
    specialty = _pick(rng, SPECIALTIES)
    complaint = _pick(rng, COMPLAINTS)
    title = _title(rng, f"{specialty} Consultation", "Consultation Note", "Consult Note", f"Inpatient {specialty} Consult")
    parts = [
        ("Requesting physician", _clinician(rng)),
        ("Reason for consultation", _pick(rng, (f"Evaluation of {complaint}.", f"Please evaluate for {_pick(rng, PROBLEMS)}.", f"Management recommendations regarding {complaint}."))),
        ("History of present illness", _hpi(rng, p, complaint)),
        ("Past medical history", ", ".join(_problems(rng, rng.randrange(1, 4))).capitalize() + "."),
        ("Medications", _meds_sentence(rng, rng.randrange(1, 4))),
        ("Physical examination", _exam(rng)),
        ("Impression", f"{complaint.capitalize()}, most consistent with {_pick(rng, PROBLEMS)}."),
        ("Recommendations", "\n".join(f"{i + 1}. {r}" for i, r in enumerate(rng.sample((
            "Agree with current management.", "Obtain echocardiogram.", "Start low-dose beta blocker.",
            "Check thyroid function.", "We will follow along with you.", "Physical therapy evaluation.",
            "Consider MRI if symptoms persist."), rng.randrange(2, 5))))),
    ]
    thanks = _pick(rng, ("Thank you for this consultation.", "Thank you for involving us in the care of this patient.", ""))
    return f"{title}\n\n{_sections(rng, parts)}\n\n{thanks}\n{_signature(rng, _clinician(rng), _date(rng))}".strip()


def _progress_note(rng: random.Random, p: dict[str, str]) -> str:
    problem = _pick(rng, PROBLEMS)
    title = _title(rng, "Progress Note", "Office Visit", "Follow-up Visit", "Clinic Note", "SOAP Note", "Daily Progress Note")
    if _chance(rng, 0.5):
        parts = [
            ("Subjective", f"Here for follow-up of {problem}. {_pick(rng, ('Feeling better.', 'No new complaints.', 'Reports intermittent symptoms.'))}"),
            ("Objective", f"{_vitals(rng)}\n{_exam(rng)}"),
            ("Assessment", f"{problem.capitalize()}, {_pick(rng, ('stable', 'improving', 'not at goal'))}."),
            ("Plan", _pick(rng, ("Continue current medications. Return in 3 months.", "Increase dose, recheck labs in 6 weeks.", "Refer to specialist; follow up after."))),
        ]
    else:
        parts = [
            ("Interval history", f"Seen today for {problem}. Tolerating medication. {_pick(rng, ('Sleeping well.', 'Some fatigue.', 'No chest pain.'))}"),
            ("Current medications", _meds_sentence(rng, rng.randrange(1, 4))),
            ("Exam", _exam(rng)),
            ("Assessment and plan", f"{problem.capitalize()}: continue plan. Follow up in {rng.randrange(2, 13)} weeks."),
        ]
    return f"{title}\nDate of service: {_fmt_date(rng, _date(rng))}\n\n{_sections(rng, parts)}\n\n{_signature(rng, _clinician(rng), _date(rng))}"


def _emergency_department_note(rng: random.Random, p: dict[str, str]) -> str:
    complaint = _pick(rng, COMPLAINTS)
    title = _title(rng, "Emergency Department Record", "ED Physician Note", "Emergency Room Report", "Emergency Department Visit")
    parts = [
        ("Arrival", f"{_pick(rng, ('Ambulance', 'Walk-in', 'Private vehicle'))} at {rng.randrange(0, 24):02d}:{rng.randrange(60):02d}. Triage level {rng.randrange(1, 6)}."),
        ("Chief complaint", complaint.capitalize()),
        ("History of present illness", _hpi(rng, p, complaint)),
        ("Physical exam", f"{_vitals(rng)}\n{_exam(rng)}"),
        ("ED course", _pick(rng, ("IV fluids and analgesia given. Labs and imaging reviewed. Symptoms improved.",
                                  "EKG without acute changes. Troponin negative x2.", "Laceration irrigated and repaired with 5 sutures."))),
        ("Medical decision making", "Differential considered; low risk features. Patient appropriate for discharge."),
        ("Disposition", _pick(rng, ("Discharged home in stable condition.", "Admitted to medicine.", "Transferred to tertiary center."))),
        ("Diagnosis", complaint.capitalize()),
    ]
    return f"{title}\n\n{_sections(rng, parts)}\n\n{_signature(rng, _clinician(rng), _date(rng))}"


def _operative_note(rng: random.Random, p: dict[str, str]) -> str:
    proc, dx = _pick(rng, PROCEDURES)
    title = _title(rng, "Operative Report", "Operative Note", "Brief Op Note", "Report of Operation")
    parts = [
        ("Date of surgery", _fmt_date(rng, _date(rng))),
        ("Preoperative diagnosis", dx.capitalize()),
        ("Postoperative diagnosis", "Same."),
        ("Procedure", proc),
        ("Surgeon", _clinician(rng)),
        ("Assistant", _clinician(rng)),
        ("Anesthesia", _pick(rng, ("General endotracheal.", "Spinal.", "Regional block with sedation."))),
        ("Estimated blood loss", f"{rng.randrange(5, 400)} mL"),
        ("Description of procedure", _pick(rng, (
            "The patient was brought to the operating room and placed supine. After induction of anesthesia the area was prepped and draped in sterile fashion. A time-out was performed.",
            "After informed consent, the patient was taken to the OR. The incision was made and carried down through subcutaneous tissue. Hemostasis was obtained with electrocautery.",
        )) + " The wound was closed in layers and a sterile dressing applied. Sponge and needle counts were correct."),
        ("Complications", "None."),
        ("Specimens", _pick(rng, ("Sent to pathology.", "None."))),
    ]
    return f"{title}\n\n{_sections(rng, parts)}\n\n{_signature(rng, _clinician(rng), _date(rng))}"


def _procedure_note(rng: random.Random, p: dict[str, str]) -> str:
    proc, indication = _pick(rng, BEDSIDE)
    title = _title(rng, "Procedure Note", f"{proc} Report", "Bedside Procedure Note", "Endoscopy Report")
    parts = [
        ("Procedure", proc),
        ("Indication", indication.capitalize() + "."),
        ("Consent", "Risks, benefits and alternatives discussed; written consent obtained."),
        ("Sedation", _pick(rng, ("Moderate sedation with midazolam and fentanyl.", "Local anesthesia with 1% lidocaine.", "Monitored anesthesia care."))),
        ("Technique", _pick(rng, ("The patient was positioned and the site prepped with chlorhexidine. Under ultrasound guidance the needle was advanced.",
                                  "The scope was introduced and advanced without difficulty. Mucosa was examined carefully on withdrawal.",
                                  "Using sterile technique, the catheter was placed by Seldinger technique and flushed."))),
        ("Findings", _pick(rng, ("Two small polyps removed with cold snare.", "Clear fluid obtained, sent for studies.", "Normal examination."))),
        ("Complications", "None; the patient tolerated the procedure well."),
        ("Plan", "Await results; follow up in clinic."),
    ]
    return f"{title}\nDate: {_fmt_date(rng, _date(rng))}\n\n{_sections(rng, parts)}\n\n{_signature(rng, _clinician(rng), _date(rng))}"


def _imaging_report(rng: random.Random, p: dict[str, str]) -> str:
    study, indication = _pick(rng, STUDIES)
    title = _title(rng, "Radiology Report", "Diagnostic Imaging Report", "Imaging Report", study)
    parts = [
        ("Exam", study),
        ("Accession", _digits(rng, 8)),
        ("Clinical history", indication.capitalize() + "."),
        ("Comparison", _pick(rng, ("None.", f"Prior study dated {_fmt_date(rng, _date(rng))}."))),
        ("Technique", _pick(rng, ("Axial images obtained with multiplanar reconstructions.", "Standard views.", "Sagittal and axial T1 and T2 weighted sequences."))),
        ("Findings", _pick(rng, ("No acute abnormality. Visualized structures are unremarkable.",
                                 "There is a 6 mm nonobstructing calculus in the lower pole of the left kidney. No hydronephrosis.",
                                 "Mild degenerative disc disease at L4-L5 with a small broad-based disc bulge.",
                                 "Patchy opacity in the right lower lobe. No pleural effusion or pneumothorax.",
                                 "The gallbladder contains multiple shadowing stones. Common bile duct measures 4 mm."))),
        ("Impression", _pick(rng, ("No acute findings.", "Findings as above; clinical correlation recommended.", "Right lower lobe pneumonia.", "Cholelithiasis without cholecystitis."))),
    ]
    return f"{title}\n\n{_sections(rng, parts)}\n\nRadiologist: {_clinician(rng)}\nDictated {_fmt_date(rng, _date(rng))}"


def _laboratory_report(rng: random.Random, p: dict[str, str]) -> str:
    title = _title(rng, "Laboratory Report", "Lab Results", "Clinical Laboratory Results", "Cumulative Lab Report")
    collected = _date(rng)
    header = _kv(rng, [
        ("Collected", f"{_fmt_date(rng, collected)} {rng.randrange(6, 18):02d}:{rng.randrange(60):02d}"),
        ("Received", _fmt_date(rng, collected)),
        ("Ordering provider", _clinician(rng)),
        ("Specimen", _pick(rng, ("Serum", "Whole blood", "Plasma", "Blood, venous"))),
        ("Accession #", f"{_pick(rng, ('L', 'A', 'CH'))}{_digits(rng, 8)}"),
    ])
    style = rng.randrange(3)
    blocks = []
    for panel in rng.sample(PANELS, rng.randrange(1, 4)):
        rows = rng.sample(LABS, rng.randrange(3, 9))
        lines = [panel.upper() if _chance(rng, 0.5) else panel]
        if style == 0:
            lines.append(f"{'Test':<24}{'Result':>10}  {'Flag':<5}{'Units':<10}Reference range")
        elif style == 1:
            lines.append("TEST | RESULT | UNITS | REF RANGE | FLAG")
        for test, unit, low, high in rows:
            span = high - low
            value = round(rng.uniform(low - span * 0.3, high + span * 0.3), 1)
            flag = "H" if value > high else ("L" if value < low else "")
            if style == 0:
                lines.append(f"{test:<24}{value:>10}  {flag:<5}{unit:<10}{low}-{high}")
            elif style == 1:
                lines.append(f"{test} | {value} | {unit} | {low} - {high} | {flag}")
            else:
                lines.append(f"{test}: {value} {unit} (ref {low}-{high}) {flag}".rstrip())
        blocks.append("\n".join(lines))
    if _chance(rng, 0.3):
        blocks.append(_pick(rng, (_cbc_block, _culture_block))(rng))
        if _chance(rng, 0.5):
            blocks = blocks[-1:]
    footer = _pick(rng, ("H = High  L = Low", "Results verified by laboratory staff.",
                         f"Performed at {_pick(rng, FACILITIES)} Laboratory, CLIA #{_digits(rng, 2)}D{_digits(rng, 7)}",
                         "Critical values called to the ordering provider."))
    return f"{title}\n{header}\n\n" + "\n\n".join(blocks) + f"\n\n{footer}"


def _cbc_block(rng: random.Random) -> str:
    rows = (("WBC", "x10^3/uL", 4.0, 10.5), ("RBC", "x10^6/uL", 4.1, 5.6), ("HGB", "g/dL", 12.5, 17.0),
            ("HCT", "%", 37.5, 51.0), ("MCV", "fL", 79, 97), ("PLT", "x10^3/uL", 150, 400),
            ("Neutrophils %", "", 40, 74), ("Lymphocytes %", "", 14, 46), ("Monocytes %", "", 4, 12),
            ("Eosinophils %", "", 0, 5))
    lines = [_pick(rng, ("HEMATOLOGY - CBC WITH DIFFERENTIAL", "CBC w/ Diff", "Complete blood count"))
             + _pick(rng, ("", "   Status: FINAL", "   (preliminary)"))]
    for test, unit, low, high in rng.sample(rows, rng.randrange(5, len(rows) + 1)):
        span = high - low
        value = round(rng.uniform(low - span * 0.3, high + span * 0.3), 1)
        flag = "HIGH" if value > high else ("LOW" if value < low else "")
        lines.append(f"{test} {'.' * max(2, 16 - len(test))} {value} {unit}  ({low}-{high})  {flag}".rstrip())
    return "\n".join(lines)


def _culture_block(rng: random.Random) -> str:
    organism = _pick(rng, ("Escherichia coli", "Staphylococcus aureus", "Klebsiella pneumoniae", "Enterococcus faecalis",
                           "Streptococcus pyogenes", "No growth at 48 hours", "Mixed flora, probable contamination"))
    source = _pick(rng, ("Urine, clean catch", "Blood, peripheral", "Wound, left foot", "Throat swab", "Sputum"))
    drugs = rng.sample(("Ampicillin", "Ceftriaxone", "Nitrofurantoin", "TMP/SMX", "Ciprofloxacin", "Vancomycin",
                        "Oxacillin", "Gentamicin", "Clindamycin"), rng.randrange(3, 7))
    sus = "   ".join(f"{d} {_pick(rng, 'SSRI')}" for d in drugs)
    growth = f">{rng.choice((10, 50, 100))},000 CFU/mL " if "Urine" in source and "No growth" not in organism else ""
    return (f"{_pick(rng, ('MICROBIOLOGY', 'Culture and sensitivity', 'CULTURE REPORT'))}\nSource: {source}\n"
            f"{_pick(rng, ('Culture result', 'Organism', 'Result'))}: {growth}{organism}\n"
            + ("" if "No growth" in organism or "Mixed" in organism else f"Susceptibility: {sus}\n")
            + f"{_pick(rng, ('Final report', 'Preliminary report', 'Reported'))} {_fmt_date(rng, _date(rng))}")


def _pathology_report(rng: random.Random, p: dict[str, str]) -> str:
    specimen, diagnosis = _pick(rng, SPECIMENS)
    title = _title(rng, "Surgical Pathology Report", "Pathology Report", "Anatomic Pathology")
    parts = [
        ("Case number", f"S{rng.randrange(16, 27)}-{_digits(rng, 5)}"),
        ("Specimen", specimen.capitalize()),
        ("Clinical information", _pick(rng, ("Rule out malignancy.", "Lesion, changing.", "Not provided."))),
        ("Gross description", f"Received in formalin labeled with the patient's name is a {rng.randrange(2, 60) / 10} x {rng.randrange(2, 40) / 10} cm tan-pink tissue fragment. {_pick(rng, ('Entirely submitted in one cassette.', 'Representative sections submitted.', 'Inked and bisected.'))}"),
        ("Microscopic description", _pick(rng, ("Sections show the described lesion. Margins are free of involvement.", "Microscopic examination performed; see diagnosis.", "Sections demonstrate chronic inflammation."))),
        ("Final diagnosis", f"{specimen.upper()}:\n- {diagnosis}."),
    ]
    return f"{title}\n\n{_sections(rng, parts)}\n\nPathologist: {_clinician(rng)}\nSigned out {_fmt_date(rng, _date(rng))}"


def _mix(rng: random.Random, pool: Sequence[str], low: int, high: int) -> list[str]:
    """Between `low` and `high` distinct items of `pool`, in random order."""
    return rng.sample(list(pool), min(len(pool), rng.randrange(low, high + 1)))


def _blank(rng: random.Random, value: str, p: float = 0.3) -> str:
    """The value filled in, or an empty blank on the form."""
    return "_" * rng.randrange(8, 24) if _chance(rng, p) else value


def _numbered(rng: random.Random, items: Sequence[str]) -> str:
    style = rng.randrange(4)
    if style == 0:
        return "\n".join(f"{i + 1}. {x}" for i, x in enumerate(items))
    if style == 1:
        return "\n".join(f"- {x}" for x in items)
    if style == 2:
        return "\n\n".join(items)
    return " ".join(items)


def _insurer(rng: random.Random) -> str:
    if _chance(rng, 0.4):
        return _pick(rng, INSURERS)
    first = _pick(rng, ("Great Lakes", "Sunrise", "Evergreen", "Prairie", "Coastal", "Granite State", "Heartland",
                        "Three Rivers", "Golden Gate", "Blue Ridge", "Northstar", "Silver Valley", "Keystone"))
    last = _pick(rng, ("Health Plan", "Health Partners", "Insurance Company", "Community Care", "Medicaid",
                       "Medicare Advantage", "HMO", "Mutual", "Dental", "Health Alliance", "Care Network"))
    return f"{first} {last}"


def _sig(rng: random.Random, drug: tuple[str, str, str, str, str]) -> str:
    """Directions for a drug, spelled out or in prescription shorthand fitting its form."""
    if _chance(rng, 0.5):
        return drug[3]
    form = drug[2]
    if "injection" in form:
        return _pick(rng, (f"{drug[1]} SC qHS", f"{drug[1]} SC daily"))
    if "inhaler" in form:
        return _pick(rng, ("2 puffs q4-6h PRN", "2 puffs BID", "1-2 puffs q4h PRN wheeze"))
    unit = "cap" if "capsule" in form else "tab"
    return _pick(rng, (f"1 {unit} PO daily", f"1 {unit} PO BID", f"1 {unit} PO TID", f"1 {unit} PO QHS",
                       f"1 {unit} PO q6h PRN", f"1 {unit} PO qAM", f"2 {unit}s PO daily", f"1 {unit} PO QID x 7 days"))


_NUMBER_WORDS = {14: "fourteen", 20: "twenty", 28: "twenty-eight", 30: "thirty", 60: "sixty", 90: "ninety"}


# ------------------------------------------------------------------------- administrative docs


def _referral(rng: random.Random, p: dict[str, str]) -> str:
    specialty = _pick(rng, SPECIALTIES)
    title = _title(rng, "Referral Form", "Outpatient Referral", f"Referral to {specialty}", "Request for Specialist Referral",
                   "Referral / Authorization Request", "Request for Consultation / Referral", f"{specialty} referral",
                   "Specialty Care Referral", "Order for Referral", "Physical Therapy Referral")
    dx = _pick(rng, PROBLEMS + COMPLAINTS)
    code = f"{_pick(rng, 'EIKMNRGJ')}{rng.randrange(10, 99)}.{rng.randrange(0, 999)}"
    fields = _mix(rng, [
        (_pick(rng, ("Referring provider", "From", "Referred by", "Ordering clinician")), _clinician(rng)),
        (_pick(rng, ("Referring practice", "Clinic", "Office")), _pick(rng, FACILITIES)),
        (_pick(rng, ("Phone", "Tel", "Office phone")), _phone(rng)),
        (_pick(rng, ("Fax", "Fax #", "Return fax")), _phone(rng)),
        (_pick(rng, ("Refer to", "To", "Specialist", "Referred to")), f"{specialty} - {_clinician(rng)}"),
        (_pick(rng, ("Priority", "Urgency", "Timeframe")), _pick(rng, ("Routine", "Urgent", "STAT", "Within 2 weeks", "Next available", "Soon"))),
        (_pick(rng, ("Diagnosis / ICD-10", "Diagnosis", "Dx", "Reason / ICD code")), f"{dx} ({code})"),
        (_pick(rng, ("Insurance", "Payer", "Health plan")), _insurer(rng)),
        (_pick(rng, ("Authorization #", "Auth no.", "Prior auth", "Referral number")), _digits(rng, 9) if _chance(rng, 0.6) else "pending"),
        (_pick(rng, ("Number of visits requested", "Visits approved", "Visits")), str(rng.randrange(1, 12))),
        (_pick(rng, ("Frequency", "Duration")), f"{rng.randrange(1, 4)}x/week for {rng.randrange(2, 9)} weeks"),
    ], 5, 10)
    reason = _pick(rng, (
        f"Reason for referral: evaluate and treat {dx}; not responding to first-line therapy.",
        f"Please see patient for {dx}. Records and recent labs enclosed.",
        f"Requesting consultation and co-management of {dx}.",
        f"Evaluate and treat. {_pick(rng, ('Modalities as indicated.', 'Home exercise program.', 'Please advise on surgical options.'))}",
        f"Question for the specialist: is further work-up of {dx} needed? Please send your findings to the referring office.",
        f"Referred for {_pick(rng, ('second opinion', 'evaluation', 'management', 'procedure'))} of {dx}.",
    ))
    checks = "\n".join(_checkbox(rng, x) for x in _mix(rng, (
        "Consult only", "Consult and treat", "Office notes attached", "Imaging attached", "Evaluate and treat",
        "Labs attached", "Patient notified of appointment", "Prior authorization required", "Transfer of care",
        "Patient to call for appointment", "Specialist to call patient"), 0, 5))
    body = f"{title}\n\n{_kv(rng, fields)}\n\n{reason}\n{checks}".rstrip()
    return f"{body}\n\n{_signature(rng, _clinician(rng), _date(rng), _pick(rng, ('Referring provider signature', 'Signature', 'Ordering provider')))}"


def _letter(rng: random.Random, p: dict[str, str]) -> str:
    when = _date(rng)
    recipient = _pick(rng, (f"Dr. {_name(rng)}", p["name"], "To Whom It May Concern", f"{_insurer(rng)} Appeals Department",
                            f"Ms. {_pick(rng, FAMILY)}", f"Mr. {_pick(rng, FAMILY)}", "Dear Colleague"))
    salutation = (f"{recipient}:" if recipient.startswith(("To Whom", "Dear")) else f"Dear {recipient}:")
    if _chance(rng, 0.3):
        salutation = salutation.replace(":", ",")
    bodies = (
        f"Thank you for referring {p['name']} to our office. I saw {p['his']} today for {_pick(rng, COMPLAINTS)}. My impression is {_pick(rng, PROBLEMS)}, and I have recommended {_pick(rng, ('a trial of physical therapy', 'starting medication', 'further imaging'))}. I will see {p['his']} again in {rng.randrange(2, 12)} weeks and keep you informed.",
        f"This letter is to confirm that {p['name']} is under my care for {_pick(rng, PROBLEMS)} and was unable to attend work from {_fmt_date(rng, when)} for {rng.randrange(2, 15)} days. {p['he'].capitalize()} may return to full duty without restrictions.",
        f"I am writing on behalf of my patient {p['name']} to request coverage of {_pick(rng, DRUGS)[0]}. The patient has tried and failed two alternative agents. I believe this medication is medically necessary.",
        f"We were unable to reach you by phone regarding your recent test results. Please call our office at {_phone(rng)} to schedule a follow-up appointment at your earliest convenience.",
        "Your recent results were reviewed and are within normal limits. No changes to your treatment are needed at this time. Please continue your medications as prescribed.",
        f"We are writing to let you know that {_clinician(rng)} will be leaving our practice. Your care will continue with another physician who has reviewed your history. If you would prefer a different physician, please call the front desk.",
        f"{p['name']} was seen in our clinic today and may return to school on {_fmt_date(rng, when)}. Please excuse {p['his']} absence and allow {p['his']} to sit out of physical education for one week.",
        f"Our records show that you missed your appointment on {_fmt_date(rng, when)}. Regular follow-up is important for your health. Please contact us to reschedule.",
        f"Please excuse {p['name']} from jury duty. Because of {p['his']} medical condition, {p['he']} is unable to sit for long periods.",
        f"Welcome to our practice. We look forward to caring for you. Enclosed you will find our office hours, how to reach the on-call provider after hours, and our financial policy.",
        f"It was a pleasure to see {p['name']} in follow-up. Since the last visit {p['he']} has done well. Examination today was unremarkable. I have made no changes and will see {p['his']} in six months. A copy of this letter goes to the primary care physician.",
    )
    body = _pick(rng, bodies)
    if _chance(rng, 0.4):
        body += "\n\n" + _pick(rng, bodies)
    closing = _pick(rng, ("Sincerely,", "Best regards,", "Respectfully,", "Yours truly,", "With kind regards,", "Warm regards,", "Thank you,"))
    signer = _pick(rng, (_clinician(rng), f"The staff of {_pick(rng, FACILITIES)}", f"{_name(rng)}\nPractice Manager"))
    cc = f"\n\ncc: {_clinician(rng)}" if _chance(rng, 0.3) else ""
    re_line = f"RE: {p['name']}" + (f"  DOB {p['birth']}" if _chance(rng, 0.3) else "") + "\n" if _chance(rng, 0.5) else ""
    head = _facility_block(rng) if _chance(rng, 0.7) else ""
    return (f"{head}\n\n{_fmt_date(rng, when)}\n\n{recipient if not recipient.startswith(('To Whom', 'Dear')) else ''}\n"
            f"{_address(rng) if _chance(rng, 0.4) else ''}\n\n{re_line}{salutation}\n\n{body}\n\n"
            f"{_pick(rng, ('Please do not hesitate to contact me with any questions.', 'Thank you for your attention to this matter.', 'Please call with any questions.', ''))}\n\n"
            f"{closing}\n\n{signer}{cc}")


def _consent(rng: random.Random, p: dict[str, str]) -> str:
    proc = _pick(rng, [x[0] for x in PROCEDURES + BEDSIDE] + [
        "blood transfusion", "anesthesia", "treatment and care", "photography for the medical record", "HIV testing",
        "upper endoscopy", "moderate sedation", "vaccination", "telehealth visits", "a research study", "dental extraction"])
    title = _title(rng, "Informed Consent for Procedure", "Consent to Treatment", f"Consent for {proc}", "Authorization and Consent",
                   "Patient Consent Form", f"Permission for {proc}", f"Agreement to {proc}", "Request and Consent",
                   "Consent for Surgery or Special Procedure", "Consent for Sedation", "Acknowledgement and Consent",
                   "General Consent for Care", "Refusal of Treatment / Against Medical Advice")
    legal = (
        f"I, {p['name']}, authorize {_clinician(rng)} and such assistants as may be selected to perform the following procedure: {proc}.",
        "The nature and purpose of the procedure, the risks, benefits and possible alternatives, including no treatment, have been explained to me.",
        "I understand that risks include bleeding, infection, injury to nearby structures, reaction to medication and, rarely, death.",
        "I acknowledge that no guarantee or assurance has been made as to the results that may be obtained.",
        "I consent to the administration of anesthesia and to the disposal of any tissue removed.",
        "I have had the opportunity to ask questions and all my questions have been answered to my satisfaction.",
        "I understand that I may withdraw this consent at any time before the procedure begins.",
        "If an unforeseen condition arises, I authorize the physician to perform such additional procedures as are deemed necessary.",
        "I consent to the presence of students and observers for educational purposes.",
        "I consent to photographs or video being taken for my medical record.",
    )
    plain = (
        f"My doctor explained to me that {proc} will be done and why I need it.",
        "I was told about possible problems such as bleeding, infection, or a bad reaction to the medicine used to make me sleepy.",
        "Other choices, including not having the treatment, were discussed with me.",
        f"I agree to have {proc} and I give my permission.",
        "I know I can change my mind before it starts.",
        "I have read this form or had it read to me, and I understand it.",
        "I agree that tissue removed may be examined and then disposed of.",
        "I was given time to ask questions and my questions were answered.",
        "I give permission for sedation or anesthesia as needed.",
    )
    guardian = (
        "As the parent or legal guardian of the minor named above, I give permission for examination and treatment.",
        "This permission remains in effect for one year unless I cancel it in writing.",
        "I give permission for routine immunizations and laboratory tests ordered by the provider.",
        f"In my absence, {_name(rng)} may bring my child to appointments and consent to care.",
    )
    pool = _pick(rng, (legal, plain, plain + guardian)) if _chance(rng, 0.8) else guardian + plain[:3]
    paragraphs = _mix(rng, pool, 3, 6)
    if _chance(rng, 0.2):
        text = "\n".join(f"Initials ____ {x}" for x in paragraphs)
    else:
        text = _numbered(rng, paragraphs)
    extra = "\n".join(_mix(rng, (
        _checkbox(rng, "Interpreter used", _chance(rng, 0.2)) + ("  Language: ________" if _chance(rng, 0.3) else ""),
        _checkbox(rng, "I refuse blood products"),
        f"Relationship to patient: {_blank(rng, _pick(rng, ('self', 'spouse', 'parent', 'guardian')), 0.5)}",
        f"Time: {rng.randrange(1, 13)}:{rng.randrange(60):02d} {_pick(rng, ('AM', 'PM'))}",
    ), 0, 3))
    sigs = [_signature(rng, p["name"], _date(rng), _pick(rng, ("Patient signature", "Signature of patient or legal representative", "Signed (patient / guardian)")))]
    if _chance(rng, 0.7):
        sigs.append(_signature(rng, _name(rng), _date(rng), _pick(rng, ("Witness", "Witnessed by"))))
    if _chance(rng, 0.5):
        sigs.append(_signature(rng, _clinician(rng), _date(rng), _pick(rng, ("Physician", "Provider obtaining consent"))))
    head = _facility_block(rng) + "\n\n" if _chance(rng, 0.6) else ""
    return f"{head}{title}\n\n{text}\n\n{extra}\n\n" + "\n\n".join(sigs)


def _advance_directive(rng: random.Random, p: dict[str, str]) -> str:
    title = _title(rng, "Advance Health Care Directive", "Living Will", "Durable Power of Attorney for Health Care",
                   "Advance Directive", "POLST - Physician Orders for Life-Sustaining Treatment", "Health Care Proxy",
                   "My Health Care Wishes", "Do Not Resuscitate Order", "Out-of-Hospital DNR Order", "MOLST",
                   "Appointment of Health Care Agent", "Five Wishes")
    agent = _name(rng)
    role = _pick(rng, ("health care agent", "health care proxy", "surrogate", "attorney-in-fact for health care", "decision maker"))
    pool = (
        f"I, {p['name']}, being of sound mind, willfully and voluntarily make known my wishes regarding life-prolonging procedures.",
        f"I designate {agent}, my {_pick(rng, ('spouse', 'daughter', 'son', 'sister', 'friend', 'husband', 'wife'))}, phone {_phone(rng)}, as my {role} to make health care decisions for me if I am unable to make my own decisions.",
        "If I have a terminal condition or am permanently unconscious, I direct that life-sustaining treatment be withheld or withdrawn.",
        "I do / do not want artificial nutrition and hydration if it would only prolong the process of dying.",
        "I want comfort care and pain relief at all times, even if it hastens my death.",
        "This document revokes any prior advance directive I have signed.",
        "Organ donation: upon my death I wish to donate any needed organs and tissues.",
        "If my doctors believe I will not recover, I do not want to be kept alive on machines.",
        "In the event of cardiac or respiratory arrest, no chest compressions, artificial ventilation, defibrillation or cardiac drugs are to be given.",
        "This order was discussed with the patient or the patient's legal surrogate.",
        "I do not want a feeding tube if I cannot eat on my own and will not get better.",
        f"If {agent} is not available, I name {_name(rng)} as my alternate.",
        "I want to die at home if possible.",
        "I choose the person named below to make medical decisions for me when my doctor decides I cannot make them myself.",
        "My representative may agree to or refuse any treatment, including treatment that keeps me alive.",
        "Section A: Cardiopulmonary resuscitation - attempt resuscitation / do not attempt resuscitation (allow natural death).",
        "Section B: Medical interventions - full treatment / limited additional interventions / comfort measures only.",
        "Section C: Artificially administered nutrition - long-term / trial period / no feeding tube.",
    )
    parts = _mix(rng, pool, 3, 7)
    choices = "\n".join(_checkbox(rng, x) for x in _mix(rng, (
        "Attempt resuscitation (CPR)", "Do not attempt resuscitation (DNR)", "Full treatment", "Selective treatment",
        "Comfort-focused treatment", "Long-term artificial nutrition by tube", "No artificial nutrition by tube",
        "Trial period of mechanical ventilation", "Do not intubate (DNI)", "Transfer to hospital only if comfort needs cannot be met"), 0, 5))
    sigs = _signature(rng, p["name"], _date(rng), _pick(rng, ("Signature of principal", "Signed", "Patient or surrogate signature"))) + "\n\n" + \
        _signature(rng, _name(rng), _date(rng), _pick(rng, ("Witness 1", "Witness", "Notary public", "Physician signature")))
    state = _pick(rng, CITIES)[1]
    return (f"{title}\n{_pick(rng, ('State of ' + state, 'Pursuant to state law', '', ''))}\n\n"
            f"{_numbered(rng, parts)}\n\n{choices}\n\n{sigs}")


def _insurance_card(rng: random.Random, p: dict[str, str]) -> str:
    insurer = _insurer(rng)
    plan = _pick(rng, ("PPO", "HMO", "EPO", "POS", "Medicare Advantage", "Medicaid Managed Care", "Choice Plus", "Gold 80", "Bronze HSA", "Dental PPO"))
    member_id = _pick(rng, (f"{_pick(rng, ('XQ', 'W', 'ABC', 'H', 'GLH ', 'ZGP'))}{_digits(rng, 9)}",
                            f"{_digits(rng, 4)} {_digits(rng, 4)} {_digits(rng, 4)}", f"{_digits(rng, 3)}-{_digits(rng, 2)}-{_digits(rng, 4)}-{_digits(rng, 2)}"))
    fields = [
        (_pick(rng, ("Member", "Member Name", "Subscriber", "Name", "Recipient", "Enrollee")), p["name"].upper() if _chance(rng, 0.5) else p["name"]),
        (_pick(rng, ("Member ID", "ID #", "Subscriber ID", "Identification No.", "Member #", "ID No.")), member_id),
        (_pick(rng, ("Group", "Group No.", "GRP #", "Group Number")), _digits(rng, rng.randrange(5, 9))),
        (_pick(rng, ("Plan", "Plan type", "Product", "Plan Code")), plan),
        ("RxBIN", _digits(rng, 6)), ("RxPCN", _pick(rng, ("ADV", "RXPCS", "9999", "MEDDPRIME"))),
        ("RxGrp", _pick(rng, ("RX1234", "HPRX", "GRX77"))),
        (_pick(rng, ("Copay PCP", "Office visit", "PCP copay", "Primary care")), f"${rng.choice((0, 10, 15, 20, 25, 30, 40))}"),
        (_pick(rng, ("Copay Specialist", "Specialist", "SPC")), f"${rng.choice((30, 40, 50, 60, 75))}"),
        (_pick(rng, ("ER", "Emergency room", "ER copay")), f"${rng.choice((100, 150, 200, 250, 300))}"),
        (_pick(rng, ("Urgent care", "UC")), f"${rng.choice((25, 50, 75))}"),
        (_pick(rng, ("Effective date", "Issue date", "Coverage start", "Eff.")), _fmt_date(rng, _date(rng))),
        (_pick(rng, ("PCP", "Primary care provider")), _clinician(rng)),
        ("Dependents", f"{_pick(rng, ('01', '02', '03'))} {_pick(rng, GIVEN).upper()}"),
    ]
    chosen = _mix(rng, fields, 4, 10)
    heading = _pick(rng, ("Health Insurance Card", "Member ID Card", "Subscriber Card", "Identification Card", "", "", "www.example-health.org"))
    front = f"{insurer.upper() if _chance(rng, 0.5) else insurer}\n{heading}\n{_kv(rng, chosen)}"
    back = "\n".join(_mix(rng, (
        f"Member services: {_phone(rng)}", f"Provider services: 1-800-{rng.randrange(200, 999)}-{rng.randrange(1000, 9999)}",
        f"Pharmacist help desk: {_phone(rng)}", f"Send claims to: PO Box {rng.randrange(1000, 99999)}, {_pick(rng, CITIES)[0]}",
        "Present this card each time you receive services.", "Possession of this card does not guarantee eligibility.",
        f"24-hour nurse line {_phone(rng)}", "Emergency? Call 911 or go to the nearest emergency room.",
        "Precertification required for inpatient admissions.", "This card is not proof of coverage.",
        "Show this card at every visit.", f"Customer Service 1-888-{rng.randrange(200, 999)}-{rng.randrange(1000, 9999)}",
        "Behavioral health: call the number on the back of this card.", "Out-of-network benefits may apply.",
    ), 2, 7))
    return front + ("\n\n--- back of card ---\n" if _chance(rng, 0.4) else "\n\n") + back


def _medication_list(rng: random.Random, p: dict[str, str]) -> str:
    title = _title(rng, "Medication List", "Current Medications", "Medication Reconciliation", "My Medicines", "Active Medication Summary",
                   "Home Medications", "Discharge Medication List", "Medication Record", "Medication reconciliation at admission",
                   "List of medicines I take", "Outpatient Medication Profile")
    meds = rng.sample(DRUGS, rng.randrange(3, 11))
    style = rng.randrange(7)
    lines = []
    if style == 5:
        freq = {"once daily": "qd", "twice daily": "bid", "at bedtime": "qhs", "three times daily": "tid"}
        lines.append(_pick(rng, ("Pt med list (from bottles)", "Meds:", "Current meds per patient", "Home meds (pt report)")))
        for m in meds:
            lines.append(f"- {m[0]} {m[1].replace(' mg', '')} {freq.get(m[3], _pick(rng, ('1 qd', '1 bid', 'prn')))}")
    elif style == 6:
        verbs = ("NEW", "CHANGED", "SAME", "STOP TAKING", "CONTINUE")
        for m in meds:
            verb = _pick(rng, verbs)
            lines.append(f"{verb}: {m[0].capitalize()} {m[1]} - {m[3]} ({m[4]})")
    elif style == 0:
        head = _pick(rng, (("Medication", "Dose", "How to take", "For"), ("Name of medicine", "How much", "When", "Why"), ("Drug", "Strength", "Directions", "Indication")))
        lines.append(f"{head[0]:<26}{head[1]:<18}{head[2]:<40}{head[3]}")
        for m in meds:
            lines.append(f"{m[0]:<26}{m[1]:<18}{_sig(rng, m):<40}{m[4] if _chance(rng, 0.8) else ''}")
    elif style == 1:
        for i, m in enumerate(meds):
            lines.append(f"{i + 1}. {m[0].capitalize()} {m[1]} {m[2]} - take {m[3]} ({m[4]})")
    elif style == 2:
        for m in meds:
            lines.append(f"{m[0].upper()} {m[1]} {m[2].upper()}\n   Sig: {_sig(rng, m)}   Last dose: {_fmt_date(rng, _date(rng))}   {_checkbox(rng, 'Continue')}")
    elif style == 3:
        lines.append("Drug / dose / route / frequency / last taken / continue?")
        for m in meds:
            lines.append(f"{m[0].capitalize()} {m[1]} {_pick(rng, ('PO', 'SC', 'inhaled', 'PO'))} {_pick(rng, ('daily', 'BID', 'TID', 'QHS', 'PRN'))} - "
                         f"{_pick(rng, ('this AM', 'yesterday', 'last night', 'unknown'))} - {_pick(rng, ('yes', 'hold', 'stop', 'yes'))}")
    else:
        lines.append("Morning | Noon | Evening | Bedtime")
        for m in meds:
            slots = " | ".join(_pick(rng, ("X", "", "1", "")) for _ in range(4))
            lines.append(f"{m[0]} {m[1]}: {slots}")
    extra = _mix(rng, (
        f"Allergies: {_pick(rng, ('NKDA', 'Penicillin', 'Codeine', 'Sulfa', 'Latex'))}",
        f"Pharmacy: {_pick(rng, ('Main Street Pharmacy', 'CarePlus Drugs', 'Hilltop Apothecary'))} {_phone(rng)}",
        "Bring this list to every appointment. Include over-the-counter medicines and supplements.",
        f"Reviewed with patient on {_fmt_date(rng, _date(rng))} by {_clinician(rng)}",
        f"Stopped: {_pick(rng, DRUGS)[0]} ({_pick(rng, ('side effects', 'stomach upset', 'no longer needed', 'rash'))})",
        "Over-the-counter / supplements: vitamin D, fish oil, acetaminophen as needed",
        "Reconciled by pharmacist ________",
    ), 1, 3)
    return f"{title}\n\n" + "\n".join(lines) + "\n\n" + "\n".join(extra)


def _prescription(rng: random.Random, p: dict[str, str]) -> str:
    prescriber = _clinician(rng)
    drug = _pick(rng, DRUGS)
    qty = rng.choice((14, 20, 28, 30, 60, 90))
    ids = _mix(rng, (f"DEA# {_pick(rng, 'ABFM')}{_pick(rng, 'KLMRS')}{_digits(rng, 7)}", f"NPI {_digits(rng, 10)}", f"Lic. {_digits(rng, 5)}",
                     _phone(rng)), 1, 3)
    head = f"{prescriber}\n{_pick(rng, FACILITIES) if _chance(rng, 0.7) else _pick(rng, SPECIALTIES)}\n{_address(rng) if _chance(rng, 0.6) else ''}\n{'   '.join(ids)}"
    body = _pick(rng, (
        f"Rx\n{drug[0].capitalize()} {drug[1]} {drug[2]}\nSig: {_sig(rng, drug)}\nDisp: #{qty} ({_NUMBER_WORDS[qty]})\nRefills: {rng.randrange(0, 6)}",
        f"℞  {drug[0]} {drug[1]}\nTake {drug[3]}.\nQuantity: {qty}   Refills: {_pick(rng, ('0', '1', '2', '3', 'PRN', 'none', 'NR'))}",
        f"PRESCRIPTION\nDrug: {drug[0].upper()}  Strength: {drug[1]}  Form: {drug[2]}\nDirections: {_sig(rng, drug)}\nDispense: {qty}  Refill x {rng.randrange(0, 6)}",
        f"R/\n{drug[0].capitalize()} {drug[1]} {_pick(rng, ('tabs', 'caps', drug[2]))}\n{_sig(rng, drug)}\n#{qty}\nRefill: {_pick(rng, ('NR', '0', '1', '2'))}",
        f"e-Rx printout\nMedication: {drug[0]} {drug[1]} {drug[2]}\nInstructions: {drug[3]}\nQty: {qty}   Days supply: {rng.choice((7, 10, 30, 90))}   Refills: {rng.randrange(0, 6)}",
    ))
    patient_line = _pick(rng, (
        f"Patient: {p['name']}   DOB: {p['birth']}\nAddress: {p['address']}",
        f"Name of patient: {p['name']}   Age: {p['age']}",
        f"For: {p['name']}",
        "Name ____________________   Age ____",
    ))
    sub = _pick(rng, ("Substitution permitted", "Dispense as written", "Generic substitution allowed  [ ] DAW", "May substitute",
                      "Label [x]   Do not substitute [ ]", "Product selection permitted", ""))
    return f"{head}\n\n{patient_line}\nDate: {_fmt_date(rng, _date(rng))}\n\n{body}\n\n{sub}\n\n{_signature(rng, prescriber, _date(rng), _pick(rng, ('Prescriber signature', 'Signature', 'M.D.')))}"


def _intake_form(rng: random.Random, p: dict[str, str]) -> str:
    title = _title(rng, "New Patient Intake Form", "Patient Health Questionnaire", "Medical History Form", "Patient Registration and Health History",
                   "Pre-Visit Questionnaire", "Health History Questionnaire", "Welcome! Please complete before your visit", "Pediatric Health History",
                   "Annual Wellness Questionnaire", "Dental Health History", "Sports Pre-participation Questionnaire")
    demo = _kv(rng, _mix(rng, [("Name", _blank(rng, p["name"])), ("Date of birth", _blank(rng, p["birth"])), ("Address", _blank(rng, p["address"])),
                               ("Phone", _blank(rng, p["phone"])), ("Emergency contact", _blank(rng, f"{_name(rng)} {_phone(rng)}")),
                               ("Primary care physician", _blank(rng, _clinician(rng))), ("Preferred language", _pick(rng, ("English", "Spanish", "Vietnamese", "Arabic"))),
                               ("Reason for today's visit", _blank(rng, _pick(rng, COMPLAINTS), 0.5)), ("Pharmacy", _blank(rng, "Main Street Pharmacy", 0.6)),
                               ("Occupation", _blank(rng, _pick(rng, ("teacher", "retired", "driver", "nurse")), 0.5))], 3, 8))
    conditions = "\n".join(_checkbox(rng, c) for c in _mix(rng, (
        "High blood pressure", "Diabetes", "Heart disease", "Asthma", "Cancer", "Stroke", "Thyroid disease", "Headaches",
        "Depression / anxiety", "Kidney disease", "Arthritis", "Seizures", "Bleeding disorder", "Chest pain", "Shortness of breath",
        "High cholesterol", "Ear infections", "Acid reflux"), 4, 12))
    questions = "\n".join(_mix(rng, (
        f"Do you smoke?  {_pick(rng, ('Yes', 'No', 'Former', 'Y / N'))}", f"Alcohol use: {_pick(rng, ('None', 'Occasional', '1-2 drinks/day', '____ drinks per week'))}",
        "List any surgeries: ____________________", f"Allergies to medications: {_pick(rng, ('none', 'penicillin', 'aspirin', '__________'))}",
        "Are you pregnant or could you be pregnant?  Y / N", f"Pain level today (0-10): {_pick(rng, ('____', str(rng.randrange(0, 11))))}",
        "Have you fallen in the past 12 months?  Yes  No", f"Exercise per week: {_pick(rng, ('____', str(rng.randrange(0, 7))))} days",
        "Family history (parents, siblings): ______________", "Do you feel safe at home?  Y / N", "Who lives with you? __________",
        "Immunizations up to date?  yes / no / not sure", "Has the patient ever been hospitalized? ____",
        "Previous operations and year: ______________", "Do you wear glasses or hearing aids?  Y / N",
        "Marital status ______   Employer ______________", "Last name ________ First ________ MI ___   Sex  M  F  X",
        "Past illnesses (circle): measles  mumps  chicken pox  hepatitis  tuberculosis",
        "Do you snore loudly?  Y  N", "How many hours do you sleep at night? ____",
        "Rate your overall health: excellent  good  fair  poor", "Current medications and doses: ____________________"), 3, 9))
    heads = (_pick(rng, ("Patient information", "About you", "Demographics")), _pick(rng, ("Have you ever had", "Medical history - check any that apply", "Conditions")),
             _pick(rng, ("Lifestyle and other", "Other questions", "Social history")))
    sections = [(heads[0], demo), (heads[1], conditions), (heads[2], questions)]
    rng.shuffle(sections)
    head = _facility_block(rng) + "\n" if _chance(rng, 0.6) else ""
    sign = _signature(rng, p["name"], _date(rng), _pick(rng, ("Patient signature", "Parent/guardian completing form", "Signature")))
    return f"{head}{title}\n\n{_sections(rng, sections)}\n\n{sign}"


def _outside_records(rng: random.Random, p: dict[str, str]) -> str:
    source = _pick(rng, FACILITIES)
    title = _title(rng, "Medical Records", "Copy of Medical Records", "Records Transfer", "Outside Medical Records",
                   "Health Information Management - Records Copy", "Transmittal of Records", "Records Enclosed",
                   "Certification of Records", "Continuity of Care Records")
    enclosed = _numbered(rng, _mix(rng, (
        "Office visit notes", "Discharge summary", "Laboratory results", "Imaging reports", "Operative report", "Emergency visit record",
        "Immunization record", "Problem list", "Medication list", "Consultation reports", "Pathology reports", "Nursing notes"), 2, 7))
    if _chance(rng, 0.25):
        return (f"Records received {_pick(rng, ('by fax', 'by mail', 'on CD', 'through the HIE'))} from {source} - {rng.randrange(3, 200)} pages - "
                f"{_pick(rng, ('for continuity of care', 'requested by Dr. ' + _pick(rng, FAMILY), 'for the upcoming visit'))}.\n"
                f"Index: {', '.join(_mix(rng, ('admission assessment', 'therapy notes', 'discharge instructions', 'medication administration record', 'labs', 'imaging', 'clinic notes', 'nursing notes'), 2, 5))}.\n"
                f"{_pick(rng, ('Please scan to chart.', 'File to chart as outside records.', 'Logged by HIM.'))}")
    statement = _pick(rng, (
        f"Enclosed are copies of medical records for the above patient from {source}, covering dates of service {_fmt_date(rng, _date(rng, 2010, 2018))} through {_fmt_date(rng, _date(rng, 2019, 2026))}.",
        f"These records are provided at the request of the patient / authorized requester. Total pages: {rng.randrange(5, 240)}.",
        f"Records received from {source} for continuity of care. Please file into the patient's chart.",
        f"Per your request dated {_fmt_date(rng, _date(rng))}, please find enclosed {rng.randrange(3, 300)} pages of records for the patient named above.",
        f"The following records are forwarded from {source} following the patient's transfer of care.",
    ))
    cert = _pick(rng, (
        "I certify that the enclosed are true and complete copies of records maintained in the regular course of business.",
        "CONFIDENTIAL: This information has been disclosed to you from records protected by federal confidentiality rules. Redisclosure is prohibited.",
        "Custodian of records certification attached.", "These copies are certified as true and exact copies of the original records.", ""))
    return (f"{source}\n{title}\n\n{statement}\n\n{_pick(rng, ('Contents:', 'Enclosed:', 'Records included:', 'Included:'))}\n{enclosed}\n\n{cert}\n\n"
            f"{_signature(rng, _name(rng), _date(rng), _pick(rng, ('Custodian of records', 'HIM specialist', 'Release of information clerk')))}")


def _release_of_information(rng: random.Random, p: dict[str, str]) -> str:
    if _chance(rng, 0.25):
        return _roi_request_letter(rng, p)
    title = _title(rng, "Authorization for Release of Information", "Authorization to Disclose Protected Health Information",
                   "Request for Medical Records", "HIPAA Authorization Form", "Release of Information Request",
                   "Request to Release Health Records", "Authorization - Disclosure of PHI", "Patient Request for Access to Records",
                   "Authorization to Obtain and Release Records")
    recipient = _pick(rng, (f"{_pick(rng, ('Law offices of', 'Attorney', 'Legal group of'))} {_name(rng)}", _insurer(rng), _pick(rng, FACILITIES),
                            "Myself (patient)", "Social Security Administration", f"my {_pick(rng, ('daughter', 'son', 'spouse'))}, {_name(rng)}",
                            "Disability Determination Services", "My new physician"))
    purpose = _pick(rng, ("Continuity of care", "Legal", "Insurance claim", "Personal use", "Disability determination",
                          "At the request of the individual", "Legal matter", "Second opinion", "School / camp"))
    fields = _mix(rng, [("Patient name", _blank(rng, p["name"], 0.2)), ("Date of birth", _blank(rng, p["birth"], 0.2)),
                        (_pick(rng, ("Release records from", "Disclose from", "Provider holding records")), _pick(rng, FACILITIES)),
                        (_pick(rng, ("Release to", "Send records to", "Recipient")), recipient), ("Address", _address(rng)),
                        (_pick(rng, ("Purpose of disclosure", "Purpose", "Reason for request")), purpose),
                        (_pick(rng, ("Dates of service", "Records wanted", "Time period")),
                         f"{_fmt_date(rng, _date(rng, 2012, 2019))} to {_pick(rng, (_fmt_date(rng, _date(rng, 2020, 2026)), 'present'))}"),
                        ("Delivery", _pick(rng, ("mail", "fax", "pick up", "secure e-mail", "CD")))], 4, 8)
    items = "\n".join(_checkbox(rng, x) for x in _mix(rng, (
        "Entire record", "Discharge summary", "History and physical", "Lab results", "Radiology reports", "Progress notes",
        "Billing records", "Mental health records*", "HIV / STD test results*", "Alcohol and drug treatment records*",
        "Verbal communication", "Immunization record"), 2, 8))
    legal = _mix(rng, (
        "I understand that I may revoke this authorization at any time by written notice, except to the extent action has already been taken.",
        f"This authorization expires on {_fmt_date(rng, _date(rng, 2026, 2028))} or one year from the date signed.",
        "Information disclosed may be subject to redisclosure by the recipient and no longer protected by federal privacy regulations.",
        "Treatment, payment, enrollment or eligibility will not be conditioned on signing this authorization.",
        "A reasonable copying fee may be charged.", "This request ends 90 days after I sign it. I can cancel it in writing at any time.",
        "Records released may be shared again by the receiver and lose privacy protection.",
        "I have a right to receive a copy of this authorization.",
    ), 1, 4)
    head = _facility_block(rng) + "\n\n" if _chance(rng, 0.7) else ""
    return (f"{head}{title}\n\n{_kv(rng, fields)}\n\n{_pick(rng, ('Information to be released:', 'Records requested:', 'Please release:', 'I authorize release of:'))}\n{items}\n\n"
            + _numbered(rng, legal) + f"\n\n{_signature(rng, p['name'], _date(rng), _pick(rng, ('Signature of patient or legal representative', 'Patient signature', 'Signature')))}")


def _roi_request_letter(rng: random.Random, p: dict[str, str]) -> str:
    """A records request written as a letter or a short permission note rather than a form."""
    if _chance(rng, 0.5):
        firm = f"{_pick(rng, ('Law Offices of', 'The Law Firm of', ''))} {_name(rng)}{_pick(rng, (', Attorney at Law', ' & Associates', ', P.C.'))}".strip()
        body = _pick(rng, (
            f"Pursuant to the enclosed authorization signed by our client, {p['name']}, please provide complete copies of all medical and billing records for treatment rendered from {_fmt_date(rng, _date(rng))} through the present.",
            f"We represent {p['name']} in a personal injury matter. Enclosed is a HIPAA-compliant authorization. Please forward certified copies of records, imaging and itemized bills.",
        ))
        tail = _pick(rng, ("We agree to pay reasonable copy charges.", "Please forward the records to our office at the address above.",
                           "Thank you for your prompt attention to this request."))
        return f"{firm}\n{_address(rng)}\n\n{_fmt_date(rng, _date(rng))}\n\nRE: Request for medical records - {p['name']}\n\n{body} {tail}\n\nSincerely,\n{_name(rng)}, Paralegal"
    who = _pick(rng, (f"my daughter, {_name(rng)}", f"my husband, {_name(rng)}", "the school nurse", f"my caregiver, {_name(rng)}", "my employer's leave office"))
    what = _pick(rng, ("my test results and treatment", "my immunization record only", "my diagnosis and appointment dates", "information about my care"))
    return (f"{_pick(rng, ('Permission to share my health information', 'Authorization to discuss care with family', 'Consent to release information'))}\n"
            f"I allow {_pick(rng, FACILITIES)} to give {what} to {who}.\n"
            f"{_pick(rng, ('This covers verbal and written communication.', 'Information to share is limited to what is listed above.', ''))}\n"
            f"This permission ends on {_fmt_date(rng, _date(rng, 2026, 2028))} unless I revoke it.\n{_signature(rng, p['name'], _date(rng), 'Signature')}")


def _other(rng: random.Random, p: dict[str, str]) -> str:
    kind = rng.randrange(8)
    if kind == 0:
        return (f"FAX {_pick(rng, ('COVER SHEET', 'TRANSMITTAL', ''))}\nTo: {_name(rng)}   Fax: {_phone(rng)}\nFrom: {_pick(rng, FACILITIES)}\n"
                f"Pages (including cover): {rng.randrange(1, 20)}\nRe: {_pick(rng, ('Information as requested', 'Please call', 'Follow up'))}\n\n"
                "The documents accompanying this transmission may contain confidential information. If you received this in error, notify the sender.")
    if kind == 1:
        return (f"{_pick(rng, FACILITIES)}\nPatient Statement\nStatement date: {_fmt_date(rng, _date(rng))}\nAccount #{_digits(rng, 8)}\n"
                f"Previous balance ${rng.randrange(0, 900)}.00\nPayments -${rng.randrange(0, 300)}.00\nAmount due ${rng.randrange(10, 900)}.{rng.randrange(10, 99)}\n"
                "Please make checks payable to the address above. Pay online or call our billing office.")
    if kind == 2:
        return (f"Appointment reminder\nYou have an appointment on {_fmt_date(rng, _date(rng))} at {rng.randrange(8, 17)}:{_pick(rng, ('00', '15', '30', '45'))}"
                f" with {_clinician(rng)}.\nPlease arrive 15 minutes early and bring your insurance card and photo ID.\nTo cancel call {_phone(rng)}.")
    if kind == 3:
        return _pick(rng, ("This page intentionally left blank.", "SEPARATOR SHEET", "Page 2 of 2", "See attached.",
                           f"Batch {_digits(rng, 4)} - scanned {_fmt_date(rng, _date(rng))}"))
    if kind == 4:
        return (f"Patient Education: {_pick(rng, ('Healthy Eating', 'Managing Your Blood Pressure', 'Caring for Your Incision', 'Flu Season'))}\n\n"
                + _pick(rng, ("Eat more vegetables and whole grains. Limit salt and sugar.", "Check your blood pressure at home and keep a log.",
                              "Keep the area clean and dry. Call if you notice redness or fever.", "Wash your hands often and get vaccinated each year."))
                + "\nThis handout is for general information only.")
    if kind == 5:
        return (f"Notice of Privacy Practices - acknowledgement of receipt\nI acknowledge that I received a copy of the {_pick(rng, FACILITIES)} "
                "Notice of Privacy Practices.\n" + _signature(rng, p["name"], _date(rng), "Signature"))
    if kind == 6:
        return (f"Financial policy\nPayment is due at the time of service. We accept cash, checks and major credit cards. A fee of ${rng.randrange(20, 50)} "
                f"is charged for returned checks. Missed appointments without 24 hours notice may be charged ${rng.randrange(25, 75)}.\n"
                + _signature(rng, p["name"], _date(rng), "Responsible party"))
    return (f"Visitor sign-in sheet\nDate: {_fmt_date(rng, _date(rng))}\n"
            + "\n".join(f"{_name(rng)}    {rng.randrange(8, 17)}:{rng.randrange(60):02d}" for _ in range(rng.randrange(2, 8))))


def _furniture(rng: random.Random, body: str) -> str:
    """What any scanned page may carry whatever its type: fax headers, page numbers, stamps, form numbers."""
    top, bottom = [], []
    if _chance(rng, 0.15):
        top.append(f"{_fmt_date(rng, _date(rng))} {rng.randrange(0, 24):02d}:{rng.randrange(60):02d}  FROM: {_phone(rng)}  "
                   f"TO: {_phone(rng)}  P.{rng.randrange(1, 9):03d}/{rng.randrange(9, 20):03d}")
    if _chance(rng, 0.08):
        top.append(_pick(rng, ("COPY", "CONFIDENTIAL", "RECEIVED", "ORIGINAL", "SCANNED")))
    if _chance(rng, 0.2):
        bottom.append(f"Page {_pick(rng, ('1', '2'))} of {_pick(rng, ('2', '3', '4'))}")
    if _chance(rng, 0.1):
        bottom.append(_pick(rng, (f"Form {_pick(rng, ('HIM', 'MR', 'ADM', 'CL'))}-{_digits(rng, 3)} Rev. {rng.randrange(1, 13)}/{rng.randrange(10, 26)}",
                                  f"Printed {_fmt_date(rng, _date(rng))} by {_pick(rng, GIVEN).lower()}{_digits(rng, 2)}",
                                  f"{_pick(rng, FACILITIES)} - confidential patient information")))
    return "\n".join([*top, body, *bottom])


GENERATORS: dict[str, Callable[[random.Random, dict[str, str]], str]] = {
    "discharge_summary": _discharge_summary,
    "history_and_physical": _history_and_physical,
    "consult_note": _consult_note,
    "progress_note": _progress_note,
    "emergency_department_note": _emergency_department_note,
    "operative_note": _operative_note,
    "procedure_note": _procedure_note,
    "imaging_report": _imaging_report,
    "laboratory_report": _laboratory_report,
    "pathology_report": _pathology_report,
    "referral": _referral,
    "letter": _letter,
    "consent": _consent,
    "advance_directive": _advance_directive,
    "insurance_card": _insurance_card,
    "medication_list": _medication_list,
    "prescription": _prescription,
    "intake_form": _intake_form,
    "outside_records": _outside_records,
    "release_of_information": _release_of_information,
    "other": _other,
}

#: The document types this module can write, in the order of the default type list.
DOCUMENT_TYPES: tuple[str, ...] = tuple(GENERATORS)


def generate_document(doc_type: str, rng: random.Random, patient: Mapping[str, Any] | None = None) -> str:
    """Body text of one synthetic document of `doc_type` (a key of the default type list).

    Raises `KeyError` naming the known types when `doc_type` has no generator.
    """
    try:
        generator = GENERATORS[doc_type]
    except KeyError:
        raise KeyError(f"no generator for document type {doc_type!r}; known: {', '.join(DOCUMENT_TYPES)}") from None
    return _furniture(rng, generator(rng, _patient(rng, patient)).strip()).strip() + "\n"
