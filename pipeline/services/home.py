"""Open a home: the manifest (migrated) and the object store the settings name, and who is acting."""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Engine

from pipeline.settings import Settings
from pipeline.store.database import make_engine, migrate
from pipeline.store.manifest import Manifest
from pipeline.store.objects import ObjectStore, open_store


@dataclass(frozen=True, slots=True)
class Home:
    manifest: Manifest
    store: ObjectStore

    def __iter__(self) -> Iterator[Manifest | ObjectStore]:
        """`manifest, store = open_home(settings)`"""
        return iter((self.manifest, self.store))


def open_home(settings: Settings) -> Home:
    """Migrate the database, open the store, and copy journal events other processes left behind
    (the ADT feed and the review app may run without the store)."""
    settings.home.mkdir(parents=True, exist_ok=True)
    migrate(settings.database)
    store = open_store(settings)
    manifest = Manifest(make_engine(settings.database), store=store)
    manifest.flush_journal()
    return Home(manifest, store)


def open_database(settings: Settings) -> Engine:
    """The database, migrated, without the object store (the patient index and the ADT feed)."""
    settings.ensure_folders()
    migrate(settings.database)
    return make_engine(settings.database)


def read_manifest(settings: Settings) -> Manifest:
    """The manifest as it is, for reading only: no migration, no object store."""
    return Manifest(make_engine(settings.database))


def acting_user(explicit: str | None) -> str:
    """The id that goes into the access log: the one given, else the login name."""
    return explicit or os.environ.get("USER") or getpass.getuser() or "unknown"
