"""The review queue in the browser (`app.py`, `pipeline review serve`); its command line is `pipeline/commands/review.py`."""
