"""The review queue (web app to come)."""
