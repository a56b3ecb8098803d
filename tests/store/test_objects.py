"""The local store: atomic, checksummed, never overwrites; key layout."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from pipeline.errors import ConfigurationError, IntegrityError, StorageError
from pipeline.settings import Settings
from pipeline.store.keys import extension_for, filed_keys, quarantine_key, review_keys
from pipeline.store.objects import LocalStore, open_store


def test_put_get_round_trip_records_sha256(store: LocalStore, tmp_path: Path) -> None:
    source = tmp_path / "a.pdf"
    source.write_bytes(b"%PDF-1.4 tiny")
    stored = store.put("patients/1/consent/2024/x.pdf", source, "application/pdf")
    assert stored.size == len(b"%PDF-1.4 tiny")
    assert store.get(stored.key) == b"%PDF-1.4 tiny"
    assert store.head(stored.key) == stored
    assert store.exists(stored.key) and not store.exists("patients/1/consent/2024/y.pdf")
    assert store.head("patients/nope.pdf") is None


def test_same_bytes_again_is_a_no_op_other_bytes_are_refused(store: LocalStore) -> None:
    first = store.put("review/2024/01/a.pdf", b"one", "application/pdf")
    assert store.put("review/2024/01/a.pdf", b"one", "application/pdf") == first
    with pytest.raises(StorageError, match="never overwrites") as info:
        store.put("review/2024/01/a.pdf", b"two", "application/pdf")
    assert info.value.exit_code == 7
    assert store.get("review/2024/01/a.pdf") == b"one"


def test_damaged_bytes_raise_integrity_error(store: LocalStore) -> None:
    store.put("patients/2/x/2024/d.pdf", b"original bytes", "application/pdf")
    (store.root / "patients/2/x/2024/d.pdf").write_bytes(b"original byteZ")
    with pytest.raises(IntegrityError, match="SHA-256") as info:
        store.get("patients/2/x/2024/d.pdf")
    assert info.value.exit_code == 8


def test_missing_object_is_a_storage_error(store: LocalStore) -> None:
    with pytest.raises(StorageError, match="missing"):
        store.get("patients/9/x/2024/none.pdf")


@pytest.mark.parametrize("key", ["", "/abs/key", "a/../b", "a//b", "./a", ".meta/x", "a\\b", "a/.tmp-x"])
def test_bad_keys_are_refused(store: LocalStore, key: str) -> None:
    with pytest.raises(StorageError, match="invalid object key"):
        store.put(key, b"x", "text/plain")


def test_iter_keys_lists_objects_sorted_without_sidecars_or_temp_files(store: LocalStore) -> None:
    for key in ("patients/2/a.pdf", "patients/10/b.pdf", "review/2024/01/c.pdf", "originals/review/d.tif"):
        store.put(key, key.encode(), "application/octet-stream")
    (store.root / "patients" / ".tmp-abc-left-over").write_bytes(b"crash debris")
    assert list(store.iter_keys("patients/")) == ["patients/10/b.pdf", "patients/2/a.pdf"]
    assert len(list(store.iter_keys())) == 4
    assert not any(".meta" in k for k in store.iter_keys())


def test_no_temp_files_left_and_url_is_a_file_uri(store: LocalStore) -> None:
    store.put("patients/1/a.pdf", b"x" * 3_000_000, "application/pdf")
    names = [p.name for p in store.root.rglob("*")]
    assert not [n for n in names if n.startswith(".tmp-")]
    assert store.url("patients/1/a.pdf").startswith("file:///")


def test_key_layout() -> None:
    original, searchable = filed_keys(12, "discharge_summary", date(2024, 5, 1), "doc-1", ".tif")
    assert original == "originals/patients/12/discharge_summary/2024/doc-1.tif"
    assert searchable == "patients/12/discharge_summary/2024/doc-1.pdf"
    assert review_keys(date(2023, 2, 9), "doc-2", ".pdf") == ("originals/review/2023/02/doc-2.pdf",
                                                               "review/2023/02/doc-2.pdf")
    assert quarantine_key(datetime(2026, 1, 2, tzinfo=UTC), "abc", "bad file?.pdf") == \
        "quarantine/2026/01/02/abc-bad_file_.pdf"
    assert extension_for("image/tiff") == ".tif"
    assert extension_for("application/x-weird", "scan.DCM") == ".dcm"
    assert extension_for("application/x-weird", "noext") == ".bin"


def test_open_store_defaults_to_the_home_folder_and_checks_s3_settings(tmp_path: Path) -> None:
    store = open_store(Settings(home=tmp_path))
    assert isinstance(store, LocalStore) and store.root == tmp_path / "objects"
    with pytest.raises(ConfigurationError, match="PIPELINE_S3_BUCKET"):
        open_store(Settings(home=tmp_path, s3_sse="AES256"))


def test_racing_writers_never_overwrite_each_other(store: LocalStore) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def put(n: int):
        try:
            return store.put("patients/1/x/2025/race.pdf", f"writer {n % 2}".encode(), "application/pdf")
        except StorageError as exc:
            return exc

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(put, range(16)))
    winner = store.get("patients/1/x/2025/race.pdf")  # verifies against the sidecar
    assert winner in (b"writer 0", b"writer 1")
    stored = [r for r in results if not isinstance(r, StorageError)]
    refused = [r for r in results if isinstance(r, StorageError)]
    assert len(stored) + len(refused) == 16 and len(refused) >= 1
    assert all(s.sha256 == store.head(s.key).sha256 for s in stored)
    assert all("never overwrites" in str(r) for r in refused)
