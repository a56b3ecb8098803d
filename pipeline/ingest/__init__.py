"""Intake (hashing, type sniffing, duplicate check), the folder watcher and backfill."""
