"""The document-type list: LOINC-coded types a site can edit (`types.toml`).

The default list ships next to this module; `settings.types_path` points at a site's own copy.
Every problem in the file is reported at once in one `ConfigurationError` naming the file and entry.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import ConfigurationError

DEFAULT_TYPES_PATH = Path(__file__).with_name("types.toml")
FALLBACK_TYPE = "other"  # what the classifier says when nothing fits; always reviewed

_KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_LOINC = re.compile(r"^(\d{1,7})-(\d)$")
_FIELDS = {"loinc", "display", "threshold", "always_review"}


@dataclass(frozen=True, slots=True)
class DocumentType:
    key: str  # e.g. "discharge_summary"
    loinc: str  # e.g. "18842-5"
    display: str  # e.g. "Discharge summary"
    threshold: float | None = None  # below this confidence: review (None = the settings default)
    always_review: bool = False


@dataclass(frozen=True, slots=True)
class TypeList:
    """The ordered, validated type list; looks up like a read-only mapping by key."""

    types: tuple[DocumentType, ...]
    source: Path

    def __getitem__(self, key: str) -> DocumentType:
        for doc_type in self.types:
            if doc_type.key == key:
                return doc_type
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        return any(t.key == key for t in self.types)

    def __iter__(self) -> Iterator[DocumentType]:
        return iter(self.types)

    def __len__(self) -> int:
        return len(self.types)

    def keys(self) -> tuple[str, ...]:
        return tuple(t.key for t in self.types)

    def threshold(self, key: str, default: float) -> float:
        value = self[key].threshold
        return default if value is None else value


def loinc_check_digit_ok(code: str) -> bool:
    """True when `code` looks like a LOINC code and its mod-10 check digit is right."""
    match = _LOINC.match(code)
    if not match:
        return False
    total = 0
    for position, char in enumerate(reversed(match.group(1))):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10 == int(match.group(2))


def load_types(path: Path | None = None) -> TypeList:
    """Read and validate a type list (default: the one shipped with the package)."""
    source = Path(path) if path else DEFAULT_TYPES_PATH
    try:
        with source.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError as exc:
        raise ConfigurationError(f"{source}: type list not found; fix types_path (PIPELINE_TYPES_PATH) or remove it to use the default") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"{source}: not valid TOML ({exc}); fix the file") from exc
    except OSError as exc:
        raise ConfigurationError(f"{source}: cannot read the type list ({exc.strerror})") from exc

    table = data.get("types")
    if not isinstance(table, dict) or not table:
        raise ConfigurationError(f"{source}: no [types.<key>] tables found; see the shipped {DEFAULT_TYPES_PATH.name} for the format")

    problems: list[str] = []
    types: list[DocumentType] = []
    seen_loinc: dict[str, str] = {}
    for key, entry in table.items():
        where = f"{source}: [types.{key}]"
        if not _KEY.match(key):
            problems.append(f"{where}: the key must be lower-case letters, digits and '_' (e.g. discharge_summary)")
        if not isinstance(entry, dict):
            problems.append(f"{where}: must be a table with loinc and display")
            continue
        unknown = sorted(set(entry) - _FIELDS)
        if unknown:
            problems.append(f"{where}: unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_FIELDS))}")
        loinc = entry.get("loinc")
        if not isinstance(loinc, str) or not _LOINC.match(loinc):
            problems.append(f"{where}: loinc must be a LOINC code like \"18842-5\"; got {loinc!r}")
        elif not loinc_check_digit_ok(loinc):
            problems.append(f"{where}: loinc {loinc} has a wrong check digit; copy the code from loinc.org")
        elif loinc in seen_loinc:
            problems.append(f"{where}: loinc {loinc} is already used by [types.{seen_loinc[loinc]}]")
        else:
            seen_loinc[loinc] = key
        display = entry.get("display")
        if not isinstance(display, str) or not display.strip():
            problems.append(f"{where}: display must be a non-empty name, e.g. \"Discharge summary\"")
        threshold = entry.get("threshold")
        if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0.0 <= threshold <= 1.0):
            problems.append(f"{where}: threshold must be a number from 0 to 1; got {threshold!r}")
        always = entry.get("always_review", False)
        if not isinstance(always, bool):
            problems.append(f"{where}: always_review must be true or false; got {always!r}")
        types.append(DocumentType(
            key=key,
            loinc=loinc if isinstance(loinc, str) else "",
            display=display.strip() if isinstance(display, str) else "",
            threshold=float(threshold) if isinstance(threshold, int | float) and not isinstance(threshold, bool) else None,
            always_review=bool(always) or key == FALLBACK_TYPE,
        ))
    if FALLBACK_TYPE not in table:
        problems.append(f"{source}: the type list must keep a [types.{FALLBACK_TYPE}] entry (LOINC 34109-9 Note) for documents that fit no type")
    if len(table) < 2:
        problems.append(f"{source}: at least two types are needed to classify anything")
    if problems:
        raise ConfigurationError(problems)
    return TypeList(types=tuple(types), source=source)
