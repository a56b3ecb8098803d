"""One settings object for the whole pipeline.

Sources, highest first: explicit arguments (the CLI), environment variables `PIPELINE_*`,
`<home>/pipeline.toml`, the defaults below. Built once at the edge (`load_settings`) and handed
down; nothing reads the environment at import time.

The home folder (`--home DIR`, `PIPELINE_HOME`, default `./var`) holds the manifest database, the
local object store, the inbox and quarantine folders and the config file.
"""

from __future__ import annotations

import os
import tomllib
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from pipeline.errors import ConfigurationError

DEFAULT_HOME = Path("var")
CONFIG_FILE_NAME = "pipeline.toml"
DEFAULT_MAX_INPUT_BYTES = 2_000_000_000  # one input file; larger ones are rejected before they are read
DEFAULT_SPLIT_PATCH_CODES = "T"  # patch codes that separate documents in a batch
DEFAULT_BLANK_MAX_INK = 0.00001  # ink share below which a page is blank (benchmarks/ingest_split.py)

#: the Host header values `pipeline review serve` answers unless told more (a DNS-rebinding page gets a 400)
DEFAULT_REVIEW_HOSTS = ("127.0.0.1", "localhost")


class OcrMode(StrEnum):
    AUTO = "auto"  # use a PDF's own text layer when it has real text, OCR otherwise
    FORCE = "force"  # always OCR
    SKIP = "skip"  # never OCR; text layer only (image-only pages get no text)


class OrientationMode(StrEnum):
    AUTO = "auto"  # run OSD only when the first pass looks poor
    ALWAYS = "always"
    NEVER = "never"


class WorkerMode(StrEnum):
    LOCAL = "local"  # in-process pool
    CELERY = "celery"  # Celery workers on a broker


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PIPELINE_", frozen=True, extra="forbid")

    home: Path = DEFAULT_HOME

    # --- storage -------------------------------------------------------------------------------
    database_url: str | None = None  # default: sqlite:///<home>/manifest.db
    s3_bucket: str | None = None  # set it to store objects in S3 instead of <home>/objects
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    s3_sse: str = "AES256"  # server-side encryption of every object: "AES256", "aws:kms" or "none"
    s3_kms_key_id: str | None = None
    s3_object_lock_days: int | None = None  # S3 Object Lock (COMPLIANCE) retention per object; bucket needs lock on

    # --- workers -------------------------------------------------------------------------------
    workers: int = 0  # 0 = one per core
    worker_mode: WorkerMode = WorkerMode.LOCAL
    celery_broker_url: str = "redis://127.0.0.1:6379/0"
    celery_queue: str = "pipeline"
    celery_visibility_timeout: float = 3600.0  # a document taken by a worker that died is handed on after this
    # a task hit by a passing fault is sent back to the queue this many times (waits from
    # `fault_retry_delay`, doubling, jittered; at most 5 minutes and half the visibility timeout), then
    # returned to the submitter undone
    celery_fault_retries: int = 10

    # --- OCR -----------------------------------------------------------------------------------
    ocr_mode: OcrMode = OcrMode.AUTO
    ocr_languages: str = "eng"
    ocr_dpi: int = 300
    ocr_orientation: OrientationMode = OrientationMode.AUTO
    ocr_deskew: bool = True
    ocr_page_timeout: float = 120.0  # seconds per page
    ocr_max_pages: int = 2000
    ocr_max_pixels: int = 200_000_000  # per page; Pillow's decompression-bomb guard stays on too
    ocr_min_confidence: float = 45.0  # below this a document's text counts as unreadable
    ocr_searchable_pdf: bool = True

    # --- classifier ----------------------------------------------------------------------------
    model_path: Path | None = None  # default: the model shipped in models/
    types_path: Path | None = None  # default: the type list shipped with the package
    classify_threshold: float = 0.6  # default per-type threshold; the model file may set per type

    # --- matching ------------------------------------------------------------------------------
    match_auto_file_threshold: float = 0.99
    match_review_threshold: float = 0.5
    match_runner_up_margin: float = 10.0  # log2 weight the best must lead the runner-up by

    # --- ADT listener (MLLP) -------------------------------------------------------------------
    adt_max_message_bytes: int = 1 << 20  # larger messages get a NAK (AR) with the reason; the connection stays
    adt_idle_timeout: float = 300.0  # seconds without a byte before a connection is closed
    adt_max_connections: int = 32  # connections beyond this are closed at once
    adt_tls_cert: Path | None = None  # PEM certificate (chain): the listener speaks TLS when set
    adt_tls_key: Path | None = None  # its PEM private key
    adt_tls_client_ca: Path | None = None  # PEM CA bundle: when set, senders must present a certificate it signed

    # --- intake and batch splitting ------------------------------------------------------------
    max_input_bytes: int = DEFAULT_MAX_INPUT_BYTES
    split_patch_codes: str = DEFAULT_SPLIT_PATCH_CODES  # comma-separated, e.g. "T,2"; "" for none
    split_separator_barcode: str | None = None  # a barcode with exactly this text is a separator sheet
    split_on_identity_change: bool = False  # split where the MRN or birth date read changes (reviewed)
    split_blank_max_ink: float = DEFAULT_BLANK_MAX_INK
    split_drop_blank_pages: bool = True

    # --- filing --------------------------------------------------------------------------------
    # a certain patient with an uncertain type: file it with the type marked unconfirmed and queue a
    # type-only item (True), or queue the whole document as before (False)
    file_with_unconfirmed_type: bool = True

    # --- passing faults (database locked or gone, disk full, object store down) ------------------
    fault_retries: int = 4  # tries after the first within one run (waits 1, 2, 4, 8 s), then "undone"
    fault_retry_delay: float = 1.0  # seconds before the first retry; doubles each time (`watch`: up to 60 s)
    database_busy_timeout: float = 30.0  # SQLite: how long a write waits for another writer's lock

    # --- watcher -------------------------------------------------------------------------------
    watch_settle_seconds: float = 2.0  # a file must stop growing this long before it is read
    watch_poll_seconds: float = 0.5

    @field_validator("adt_max_message_bytes", "adt_max_connections")
    @classmethod
    def _positive_int(cls, value: int) -> int:
        if value < 1:
            raise ValueError("must be 1 or more")
        return value

    @field_validator("adt_idle_timeout", "celery_visibility_timeout")
    @classmethod
    def _positive_seconds(cls, value: float) -> float:
        if not value > 0:
            raise ValueError("must be more than 0 seconds")
        return value

    @field_validator("max_input_bytes")
    @classmethod
    def _positive_size(cls, value: int) -> int:
        if value <= 0:
            raise ValueError("must be a positive number of bytes, e.g. 2000000000")
        return value

    @field_validator("split_patch_codes")
    @classmethod
    def _patch_codes(cls, value: str) -> str:
        codes = [c.strip().upper() for c in value.split(",") if c.strip()]
        unknown = [c for c in codes if c not in ("1", "2", "3", "4", "6", "T")]
        if unknown:
            raise ValueError(f"unknown patch code(s) {', '.join(unknown)}: use 1, 2, 3, 4, 6 or T")
        return ",".join(codes)

    @field_validator("fault_retries", "fault_retry_delay", "database_busy_timeout", "celery_visibility_timeout",
                     "celery_fault_retries")
    @classmethod
    def _not_negative(cls, value: float) -> float:
        if value < 0:
            raise ValueError("must be 0 or more")
        return value

    # --- review app ----------------------------------------------------------------------------
    review_allowed_hosts: tuple[str, ...] = DEFAULT_REVIEW_HOSTS  # Host header values answered; others get a 400

    @field_validator("workers")
    @classmethod
    def _workers_non_negative(cls, value: int) -> int:
        if value < 0:
            raise ValueError("must be 0 (one per core) or more")
        return value

    # ----------------------------------------------------------------------------------- paths

    @property
    def inbox(self) -> Path:
        return self.home / "inbox"

    @property
    def quarantine(self) -> Path:
        return self.home / "quarantine"

    @property
    def objects_dir(self) -> Path:
        return self.home / "objects"

    @property
    def work_dir(self) -> Path:
        return self.home / "work"

    @property
    def database(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'manifest.db').resolve()}"

    @property
    def worker_count(self) -> int:
        return self.workers or (os.cpu_count() or 1)

    def ensure_folders(self) -> None:
        for folder in (self.home, self.inbox, self.quarantine, self.work_dir):
            folder.mkdir(parents=True, exist_ok=True)


def load_settings(home: Path | str | None = None, **overrides: Any) -> Settings:
    """Build the settings once: arguments > environment > <home>/pipeline.toml > defaults.

    Every invalid value is reported at once in one `ConfigurationError`.
    """
    home_path = Path(home) if home else Path(os.environ.get("PIPELINE_HOME", DEFAULT_HOME))
    file_values = _read_config_file(home_path / CONFIG_FILE_NAME)
    env_names = {k[len("PIPELINE_"):].lower() for k in os.environ if k.startswith("PIPELINE_")}
    values = {k: v for k, v in file_values.items() if k not in env_names}
    values.update({k: v for k, v in overrides.items() if v is not None})
    values["home"] = home_path
    try:
        return Settings(**values)
    except ValidationError as exc:
        raise ConfigurationError([_describe(err) for err in exc.errors()]) from exc


def _read_config_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{path}: not valid TOML ({exc}); fix or remove the file") from exc


def _describe(error: Any) -> str:
    name = ".".join(str(part) for part in error.get("loc", ())) or "settings"
    env = f"PIPELINE_{name.upper()}"
    return f"{name} ({env}): {error.get('msg')}; got {error.get('input')!r}"
