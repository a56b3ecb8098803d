"""S3Store against moto's standalone server over real HTTP (boto3 is never patched)."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import boto3
from botocore.exceptions import ClientError
import pytest

from pipeline.errors import ConfigurationError, IntegrityError, StorageError
from pipeline.settings import Settings
from pipeline.store.objects import open_store
from pipeline.store.s3 import S3Store

from .conftest import RECEIVED

pytestmark = pytest.mark.integration


def _raw(endpoint: str):
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")


def test_put_sends_sha256_and_get_verifies(moto_endpoint: str, bucket: str, tmp_path: Path) -> None:
    store = S3Store(bucket, endpoint_url=moto_endpoint, region="us-east-1", sse="AES256")
    source = tmp_path / "scan.pdf"
    source.write_bytes(b"%PDF-1.4 synthetic scan")
    stored = store.put("patients/3/consent/2025/d1.pdf", source, "application/pdf")
    assert stored.sha256 == hashlib.sha256(b"%PDF-1.4 synthetic scan").hexdigest()
    head = _raw(moto_endpoint).head_object(Bucket=bucket, Key=stored.key, ChecksumMode="ENABLED")
    assert base64.b64decode(head["ChecksumSHA256"]).hex() == stored.sha256
    assert head["ServerSideEncryption"] == "AES256"
    assert head["ContentType"] == "application/pdf"
    assert store.get(stored.key) == b"%PDF-1.4 synthetic scan"
    assert store.head(stored.key) == stored
    assert list(store.iter_keys("patients/")) == [stored.key]
    assert store.url(stored.key) == f"s3://{bucket}/{stored.key}"


def test_kms_encryption_uses_the_given_key(moto_endpoint: str, bucket: str) -> None:
    key_id = boto3.client("kms", endpoint_url=moto_endpoint, region_name="us-east-1").create_key()["KeyMetadata"]["KeyId"]
    store = S3Store(bucket, endpoint_url=moto_endpoint, region="us-east-1", sse="aws:kms", kms_key_id=key_id)
    store.put("patients/4/x/2025/d.pdf", b"kms bytes", "application/pdf")
    head = _raw(moto_endpoint).head_object(Bucket=bucket, Key="patients/4/x/2025/d.pdf")
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"].endswith(key_id)


def test_never_overwrites(moto_endpoint: str, bucket: str) -> None:
    store = S3Store(bucket, endpoint_url=moto_endpoint, region="us-east-1")
    first = store.put("review/2025/01/a.pdf", b"one", "application/pdf")
    assert store.put("review/2025/01/a.pdf", b"one", "application/pdf") == first
    with pytest.raises(StorageError, match="never overwrites"):
        store.put("review/2025/01/a.pdf", b"two", "application/pdf")
    assert store.get("review/2025/01/a.pdf") == b"one"


def test_object_changed_behind_our_back_fails_verification(moto_endpoint: str, bucket: str) -> None:
    store = S3Store(bucket, endpoint_url=moto_endpoint, region="us-east-1")
    stored = store.put("patients/5/x/2025/d.pdf", b"good bytes", "application/pdf")
    # someone with write access replaces the bytes but keeps our metadata
    _raw(moto_endpoint).put_object(Bucket=bucket, Key=stored.key, Body=b"evil bytes",
                                   Metadata={"sha256": stored.sha256})
    with pytest.raises(IntegrityError, match="SHA-256"):
        store.get(stored.key)


def test_missing_bucket_and_missing_key_are_storage_errors(moto_endpoint: str, bucket: str) -> None:
    with pytest.raises(StorageError, match="NoSuchBucket"):
        S3Store("no-such-bucket-here", endpoint_url=moto_endpoint, region="us-east-1").put("a/b", b"x", "text/plain")
    store = S3Store(bucket, endpoint_url=moto_endpoint, region="us-east-1")
    assert store.head("patients/none.pdf") is None
    with pytest.raises(StorageError, match="NoSuchKey"):
        store.get("patients/none.pdf")


def test_bad_encryption_settings_are_reported_together() -> None:
    with pytest.raises(ConfigurationError) as info:
        S3Store("b", sse="DES", kms_key_id="k")
    assert len(info.value.problems) == 2 and info.value.exit_code == 2


def test_open_store_picks_s3_from_settings(moto_endpoint: str, bucket: str, tmp_path: Path) -> None:
    store = open_store(Settings(home=tmp_path, s3_bucket=bucket, s3_endpoint_url=moto_endpoint,
                                s3_region="us-east-1"))
    assert isinstance(store, S3Store)
    assert store.put("manifest/x.ndjson", b"{}\n", "application/x-ndjson").size == 3


def test_filing_audit_and_reindex_on_s3(moto_endpoint: str, bucket: str, sqlite_url: str, tmp_path: Path,
                                        make_filing) -> None:
    """The whole store path on S3: file, audit clean, then rebuild a fresh manifest from the bucket alone."""
    from pipeline.store.audit import run_audit
    from pipeline.services.backup import reindex
    from pipeline.store.database import make_engine, migrate
    from pipeline.store.filing import file_document
    from pipeline.store.manifest import Manifest

    store = S3Store(bucket, endpoint_url=moto_endpoint, region="us-east-1", sse="AES256")
    manifest = Manifest(make_engine(sqlite_url), store=store)
    filed = file_document(store=store, manifest=manifest, **make_filing(text="Operative note hernia").kwargs())
    queued = file_document(store=store, manifest=manifest, **make_filing(filed=False).kwargs())
    report = run_audit(manifest, store)
    assert not report.findings and report.objects_checked == 4
    fresh_url = f"sqlite:///{tmp_path / 'fresh.db'}"
    migrate(fresh_url)
    fresh = Manifest(make_engine(fresh_url))
    assert reindex(fresh, store).documents == 2
    assert fresh.get(filed.document_id) == manifest.get(filed.document_id)
    assert [d.document_id for d in fresh.search(text="hernia")] == [filed.document_id]
    assert [i.document_id for i in fresh.open_review_items()] == [queued.document_id]


def test_object_lock_keeps_objects_from_being_deleted(moto_endpoint: str) -> None:
    raw = _raw(moto_endpoint)
    raw.create_bucket(Bucket="locked-records", ObjectLockEnabledForBucket=True)
    store = S3Store("locked-records", endpoint_url=moto_endpoint, region="us-east-1", object_lock_days=2190)
    store.put("patients/6/consent/2025/d.pdf", b"kept for six years", "application/pdf")
    head = raw.head_object(Bucket="locked-records", Key="patients/6/consent/2025/d.pdf")
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert (head["ObjectLockRetainUntilDate"] - head["LastModified"]).days >= 2189
    with pytest.raises(ClientError, match="AccessDenied"):
        raw.delete_object(Bucket="locked-records", Key="patients/6/consent/2025/d.pdf", VersionId=head["VersionId"])
    assert store.get("patients/6/consent/2025/d.pdf") == b"kept for six years"
    with pytest.raises(ConfigurationError, match="2190"):
        S3Store("locked-records", object_lock_days=0)


def _encryption(raw, bucket: str) -> dict[str, str | None]:
    keys = [o["Key"] for page in raw.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            for o in page.get("Contents", ())]
    return {key: raw.head_object(Bucket=bucket, Key=key).get("ServerSideEncryption") for key in keys}


def test_every_object_is_encrypted_at_rest_by_default(moto_endpoint: str, bucket: str, sqlite_url: str,
                                                      tmp_path: Path, make_filing) -> None:
    """Documents, review copies, quarantined inputs and the journal all carry SSE AES256 with no setting."""
    from pipeline.records import Rejection
    from pipeline.store.database import make_engine
    from pipeline.store.filing import file_document, quarantine
    from pipeline.store.manifest import Manifest

    store = open_store(Settings(home=tmp_path, s3_bucket=bucket, s3_endpoint_url=moto_endpoint,
                                s3_region="us-east-1"))
    manifest = Manifest(make_engine(sqlite_url), store=store)
    file_document(store=store, manifest=manifest, **make_filing().kwargs())
    file_document(store=store, manifest=manifest, **make_filing(filed=False).kwargs())
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"not a pdf")
    quarantine(store=store, manifest=manifest, source=bad, sha256=None, received_at=RECEIVED,
               rejection=Rejection(bad, "bad.pdf: not a PDF", "CorruptFileError"))
    manifest.flush_journal(store)
    encryption = _encryption(_raw(moto_endpoint), bucket)
    assert {key.split("/")[0] for key in encryption} == {"patients", "originals", "review", "quarantine", "manifest"}
    assert set(encryption.values()) == {"AES256"}, encryption


def test_sse_none_writes_plain_objects_and_doctor_warns(moto_endpoint: str, bucket: str, tmp_path: Path,
                                                       monkeypatch, capsys) -> None:
    from pipeline.cli import main

    settings = Settings(home=tmp_path, s3_bucket=bucket, s3_endpoint_url=moto_endpoint, s3_region="us-east-1",
                        s3_sse="none")
    open_store(settings).put("manifest/x.ndjson", b"{}\n", "application/x-ndjson")
    assert _encryption(_raw(moto_endpoint), bucket) == {"manifest/x.ndjson": None}
    for name, value in {"PIPELINE_S3_BUCKET": bucket, "PIPELINE_S3_ENDPOINT_URL": moto_endpoint,
                        "PIPELINE_S3_SSE": "none"}.items():
        monkeypatch.setenv(name, value)
    main(["--home", str(tmp_path), "doctor"])
    assert "WARNING S3 objects in s3://" in capsys.readouterr().out
    monkeypatch.setenv("PIPELINE_S3_SSE", "AES256")
    main(["--home", str(tmp_path), "doctor", "--json"])
    assert '"warning"' not in capsys.readouterr().out


def test_kms_without_a_key_id_uses_the_default_key(moto_endpoint: str, bucket: str) -> None:
    store = S3Store(bucket, endpoint_url=moto_endpoint, region="us-east-1", sse="aws:kms")
    store.put("patients/8/x/2025/d.pdf", b"kms default", "application/pdf")
    assert _encryption(_raw(moto_endpoint), bucket) == {"patients/8/x/2025/d.pdf": "aws:kms"}


def test_sse_setting_is_checked(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="not one of AES256, aws:kms, none"):
        S3Store("b", sse="aes256")
    with pytest.raises(ConfigurationError, match="PIPELINE_S3_BUCKET is not"):
        open_store(Settings(home=tmp_path, s3_sse="none"))
    assert Settings(home=tmp_path).s3_sse == "AES256"
