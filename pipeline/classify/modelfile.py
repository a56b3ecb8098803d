"""The model file: a JSON header (checked first) followed by the pickled scikit-learn pipeline.

Layout::

    b"PIPELINE-DOCTYPE-MODEL\\n"
    8-byte big-endian header length, then the header as UTF-8 JSON:
        format_version, sklearn_version, types (keys at training time), classes (labels seen),
        thresholds (tuned per type), training_data_sha256, payload_sha256, trained_at, metrics, ...
    payload: the joblib-pickled (zlib-compressed) Pipeline

Everything in the header is checked before anything is unpickled; the payload's SHA-256 must match.
Files are written atomically (temporary file in the same folder, fsync, rename). Unpickling runs
code, so only files from the shipped models/ folder or a path the operator configured are loaded.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
import sklearn

from pipeline.errors import ModelError

MAGIC = b"PIPELINE-DOCTYPE-MODEL\n"
FORMAT_VERSION = 1
MAX_HEADER = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ModelHeader:
    types: tuple[str, ...]
    classes: tuple[str, ...]
    thresholds: dict[str, float]
    training_data_sha256: str
    sklearn_version: str = sklearn.__version__
    format_version: int = FORMAT_VERSION
    trained_at: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)
    training_counts: dict[str, int] = field(default_factory=dict)
    payload_sha256: str = ""

    @property
    def version(self) -> str:
        """A short id for this model: format, training-data hash prefix, model-file payload hash prefix."""
        payload = f"-{self.payload_sha256[:8]}" if self.payload_sha256 else ""
        return f"doctype-v{self.format_version}-{self.training_data_sha256[:8]}{payload}"

    def to_json(self) -> dict[str, Any]:
        return {
            "format_version": self.format_version,
            "sklearn_version": self.sklearn_version,
            "types": list(self.types),
            "classes": list(self.classes),
            "thresholds": self.thresholds,
            "training_data_sha256": self.training_data_sha256,
            "payload_sha256": self.payload_sha256,
            "trained_at": self.trained_at,
            "metrics": self.metrics,
            "training_counts": self.training_counts,
        }


def save_model(path: Path, header: ModelHeader, model: Any) -> ModelHeader:
    """Write `model` with `header` to `path` atomically; returns the header as written."""
    buffer = io.BytesIO()
    joblib.dump(model, buffer, compress=("zlib", 6))
    payload = buffer.getvalue()
    data = header.to_json() | {"payload_sha256": hashlib.sha256(payload).hexdigest()}
    head = json.dumps(data, sort_keys=True).encode()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(temp, 0o644)  # mkstemp makes it 0600; a model file is not secret
        with os.fdopen(fd, "wb") as handle:
            handle.write(MAGIC)
            handle.write(len(head).to_bytes(8, "big"))
            handle.write(head)
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return _header_from_json(data, path)


def read_header(path: Path) -> ModelHeader:
    """Read and check the header only (nothing is unpickled)."""
    header, _ = _read(path, with_payload=False)
    return header


def load_model(path: Path) -> tuple[ModelHeader, Any]:
    """Check the header and payload hash, then unpickle the model."""
    header, payload = _read(path, with_payload=True)
    try:
        model = joblib.load(io.BytesIO(payload))
    except Exception as exc:  # unpickling errors come in many classes
        raise ModelError(f"{path}: the model could not be loaded ({type(exc).__name__}); retrain it with `pipeline train`") from exc
    return header, model


def _read(path: Path, *, with_payload: bool) -> tuple[ModelHeader, bytes]:
    path = Path(path)
    try:
        with path.open("rb") as handle:
            if handle.read(len(MAGIC)) != MAGIC:
                raise ModelError(f"{path}: not a document-type model file; point model_path at a file written by `pipeline train`")
            size = int.from_bytes(handle.read(8), "big")
            if not 0 < size <= MAX_HEADER:
                raise ModelError(f"{path}: the model file header is damaged; retrain with `pipeline train`")
            try:
                data = json.loads(handle.read(size))
            except ValueError as exc:
                raise ModelError(f"{path}: the model file header is damaged; retrain with `pipeline train`") from exc
            payload = handle.read() if with_payload else b""
    except FileNotFoundError as exc:
        raise ModelError(f"{path}: model file not found; train one with `pipeline train` or fix model_path (PIPELINE_MODEL_PATH)") from exc
    except OSError as exc:
        raise ModelError(f"{path}: cannot read the model file ({exc.strerror})") from exc
    header = _header_from_json(data, path)
    if header.format_version != FORMAT_VERSION:
        raise ModelError(
            f"{path}: model file format {header.format_version}, this version of pipeline reads format {FORMAT_VERSION}; "
            "retrain with `pipeline train`"
        )
    if header.sklearn_version != sklearn.__version__:
        raise ModelError(
            f"{path}: the model was trained with scikit-learn {header.sklearn_version} but {sklearn.__version__} is installed; "
            f"retrain with `pipeline train` or install scikit-learn=={header.sklearn_version}"
        )
    if with_payload and hashlib.sha256(payload).hexdigest() != header.payload_sha256:
        raise ModelError(f"{path}: the model file is damaged (its content does not match its recorded hash); restore or retrain it")
    return header, payload


def _header_from_json(data: Any, path: Path) -> ModelHeader:
    try:
        return ModelHeader(
            types=tuple(data["types"]),
            classes=tuple(data["classes"]),
            thresholds={str(k): float(v) for k, v in data["thresholds"].items()},
            training_data_sha256=str(data["training_data_sha256"]),
            sklearn_version=str(data["sklearn_version"]),
            format_version=int(data["format_version"]),
            trained_at=str(data.get("trained_at", "")),
            metrics=dict(data.get("metrics") or {}),
            training_counts={str(k): int(v) for k, v in (data.get("training_counts") or {}).items()},
            payload_sha256=str(data.get("payload_sha256", "")),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ModelError(f"{path}: the model file header is incomplete ({exc}); retrain with `pipeline train`") from exc
