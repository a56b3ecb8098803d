"""OCR: rasterize page by page, orientation and skew, Tesseract, searchable PDF."""
