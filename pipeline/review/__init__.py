"""The review queue in the browser (`app.py`, `pipeline review serve`).

Its command line is `pipeline/commands/review.py`; both go through `pipeline/services/review.py`."""
