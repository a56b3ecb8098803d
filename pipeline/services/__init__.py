"""The use cases: one module per job a person does with the pipeline.

    scan.py        read a scan: intake and OCR one file named by a person (`ocr`, `match`, `train`)
    home.py        open the manifest and object store a home (or database and bucket) names
    patients.py    look up a patient: by MRN (following merges), by name and birth date, with the
                   birth-date verdict against a document
    review.py      the review queue: list, show, resolve (the rules: a document type, and an explicit
                   confirmation when the birth date differs), close without filing, reopen
    surgery.py     page surgery on review items: split, merge, rotate, drop a page (new versions)
    dashboard.py   the supervisor's figures: outcomes, auto-file rate, queue age, per hour, per clerk
    documents.py   search, view or download, refile a document
    release.py     release of information: bundle a patient's documents, log the disclosure
    audit.py       check every stored object, and the charts' deficiencies from the patient index
    backup.py      export and import a home, FHIR export, reindex and snapshots from the journal

Edges (the CLI's command modules, the review web app, the Celery task) parse input, call one use
case and render what it returns. A use case takes what it needs (manifest, store, clock, the
patient-index functions of `pipeline.patients.lookup`), returns frozen records and raises errors
from `pipeline.errors`; it never prints, reads argv or knows HTTP. Stages never import this package
(`tests/test_layers.py` checks it): see docs/architecture.md.
"""
