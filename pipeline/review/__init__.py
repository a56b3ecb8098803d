"""The review queue: the command line (`commands.py`) and the browser app (`app.py`, `review serve`)."""
