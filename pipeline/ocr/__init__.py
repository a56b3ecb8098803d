"""OCR: rasterize page by page, orientation and skew, Tesseract, searchable PDF.

    engine.py      OcrEngine: one shared process pool, started when first needed (a one-page
                   image file is read in-process); recognize(doc, workdir) -> OcrResult;
                   a watchdog stops a worker stuck on a page
    worker.py      what a worker does with one page (text layer / deskew / OCR / OSD / barcodes)
    raster.py      opening inputs, one page image at a time (direct decode, pypdfium2, Pillow)
    resolution.py  an image's true resolution (its header's when plausible, else estimated from
                   its characters' height) and how much to enlarge it before OCR
    preprocess.py  skew estimation, straightening, quarter turns, grey or 1-bit (Otsu, gated)
    tesseract.py   the Tesseract adapter (the only pytesseract importer)
    barcodes.py    QR / Code 128 / Data Matrix (the only zxingcpp importer)
    pdfout.py      the searchable PDF: Tesseract's text-only pages laid over the original pages
                   (pikepdf in chunks, pdfunite to join)
    doctor.py      tool_report() for `pipeline doctor`
"""
