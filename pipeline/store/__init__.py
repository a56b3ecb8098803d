"""Object stores, the manifest database, FHIR export and audit. Knows nothing of the patient index:
what combines documents with patients (backup, audit's deficiencies, MRN look-up) is in
`pipeline/services/`.

    database.py   engine, one metadata, `migrate(url)` (Alembic scripts in migrations/, shipped in the package)
    objects.py    the `ObjectStore` protocol, `LocalStore`, `open_store(settings)`;  s3.py: `S3Store` (boto3)
    keys.py       where things live in the store
    tables.py     the manifest tables (revision 0001);  rows.py / mapping.py: records and their JSON
    manifest.py   `Manifest`, one object over its parts: transactions.py, outbox.py (journal outbox),
                  intake_log.py (duplicates, rejections), documents.py (rows, refile, merges),
                  search.py, review_queue.py, access_log.py, restore.py (export/import, reindex)
    journal.py    the manifest as NDJSON in the store (what `pipeline reindex` rebuilds from)
    filing.py     `file_document`, `quarantine`
    fhir.py       a manifest row as a FHIR R4 DocumentReference
    audit.py      every stored object checked against the manifest;  files.py: `atomic_file`
"""
