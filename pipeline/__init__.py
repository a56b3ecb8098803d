"""pipeline: scanned medical records in, indexed and filed documents out."""

__version__ = "0.1.0"
