"""Ingest: what comes in, taken once, and batches cut into documents.

    intake.py      intake(path, now) -> IncomingDocument | Rejection: regular files only, size cap,
                   SHA-256, type sniffed from the bytes
    discover.py    iter_inputs(paths): folders walked sorted; junk skipped; links, FIFOs, devices refused
    watcher.py     watch(inbox, handle, ...): each complete file claimed and handed over once
    claim.py       take(path, area) / stale(area): atomic rename into a processing area, flock-held
    split.py       mark_page(...) -> PageMark per page; split_pages(...) -> BatchPart documents
    patchcode.py   Kodak patch codes: drawn, and read from their bar widths
    blank.py       ink_share(image): the blank-page measure
    pageimage.py   a page reduced to the working resolution of those two measures
    coversheet.py  the cover-sheet payload, read_cover(text), render_cover_sheet(label)
    names.py       display_name (escaped for logs), reserve_name (collision-free quarantine names)
    scratch.py     sweep_scratch(work_dir): the start-up sweep of scratch left by a killed run
    (`pipeline coversheet` is `pipeline/commands/coversheet.py` over `services/coversheets.py`)
"""
