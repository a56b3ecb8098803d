"""The S3 object store (any S3-compatible endpoint). The only module that imports boto3.

Each put sends the object's SHA-256 (`ChecksumSHA256`, so the server rejects bytes damaged in
transit) and keeps the hex digest in the object's metadata; each get asks for the checksum back and
verifies the bytes. Puts are conditional (`If-None-Match: *`) so nothing is ever overwritten, even
by a racing writer. Every object (documents, review copies, journal) is encrypted at rest by the
server: `AES256` (SSE-S3) by default, `aws:kms` (SSE-KMS, with a key id or the account's default
key), or `none` only for an S3-compatible store that refuses SSE (`pipeline doctor` warns). With
`object_lock_days`, each object is put under S3 Object Lock in COMPLIANCE mode for that long
(the bucket must have been created with Object Lock, which also turns versioning on), so not even
an administrator can delete or overwrite a filed document before then.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import Iterator
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from pipeline.errors import ConfigurationError, IntegrityError, StorageError, StoreUnreachableError
from pipeline.records import StoredObject
from pipeline.settings import Settings
from pipeline.store.objects import _same_or_refuse, check_key, sha256_of

log = logging.getLogger(__name__)

SSE_AES256, SSE_KMS, SSE_NONE = "AES256", "aws:kms", "none"
SSE_MODES = (SSE_AES256, SSE_KMS, SSE_NONE)
META_SHA256 = "sha256"  # x-amz-meta-sha256: hex digest, what the manifest records


class S3Store:
    def __init__(self, bucket: str, *, endpoint_url: str | None = None, region: str | None = None,
                 sse: str = SSE_AES256, kms_key_id: str | None = None, object_lock_days: int | None = None,
                 client: Any = None) -> None:
        problems = []
        if sse not in SSE_MODES:
            problems.append(f"s3_sse (PIPELINE_S3_SSE): {sse!r} is not one of {', '.join(SSE_MODES)}")
        if kms_key_id and sse != SSE_KMS:
            problems.append("s3_kms_key_id (PIPELINE_S3_KMS_KEY_ID) needs PIPELINE_S3_SSE=aws:kms")
        if object_lock_days is not None and object_lock_days < 1:
            problems.append("s3_object_lock_days (PIPELINE_S3_OBJECT_LOCK_DAYS): must be 1 or more "
                            "(HIPAA records: at least 2190, six years)")
        if problems:
            raise ConfigurationError(problems)
        self.object_lock_days = object_lock_days
        self.bucket = bucket
        self.endpoint_url = endpoint_url
        self.sse = sse
        self.kms_key_id = kms_key_id
        self.client = client or boto3.client(
            "s3", endpoint_url=endpoint_url, region_name=region,
            config=Config(signature_version="s3v4", retries={"max_attempts": 5, "mode": "standard"},
                          request_checksum_calculation="when_required",
                          response_checksum_validation="when_required"),
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> S3Store:
        return cls(settings.s3_bucket or "", endpoint_url=settings.s3_endpoint_url, region=settings.s3_region,
                   sse=settings.s3_sse, kms_key_id=settings.s3_kms_key_id,
                   object_lock_days=settings.s3_object_lock_days)

    def __repr__(self) -> str:
        return f"S3Store(s3://{self.bucket})"

    # ----------------------------------------------------------------------------------- write

    def put(self, key: str, data: bytes | Path, content_type: str) -> StoredObject:
        check_key(key)
        sha256, size = sha256_of(data)  # a file is streamed, never held in memory whole
        existing = self.head(key)
        if existing is not None:
            return _same_or_refuse(key, existing, sha256, self)
        extra: dict[str, Any] = {}
        if self.sse != SSE_NONE:
            extra["ServerSideEncryption"] = self.sse
        if self.kms_key_id:
            extra["SSEKMSKeyId"] = self.kms_key_id
        if self.object_lock_days:
            extra["ObjectLockMode"] = "COMPLIANCE"
            extra["ObjectLockRetainUntilDate"] = datetime.now(UTC) + timedelta(days=self.object_lock_days)
        try:
            with (nullcontext(data) if isinstance(data, bytes) else open(data, "rb")) as body:
                # the server recomputes the SHA-256 and refuses the object if a byte differs
                self.client.put_object(
                    Bucket=self.bucket, Key=key, Body=body, ContentType=content_type,
                    ChecksumAlgorithm="SHA256", ChecksumSHA256=base64.b64encode(bytes.fromhex(sha256)).decode(),
                    Metadata={META_SHA256: sha256}, IfNoneMatch="*", **extra,
                )
        except OSError as exc:
            raise StorageError(f"cannot read {data} to store it as {key} ({exc.strerror})") from exc
        except ClientError as exc:
            if _code(exc) in ("PreconditionFailed", "ConditionalRequestConflict"):
                theirs = self.head(key)
                if theirs is not None:
                    return _same_or_refuse(key, theirs, sha256, self)
            raise self._error("put", key, exc) from exc
        except BotoCoreError as exc:
            raise self._error("put", key, exc) from exc
        log.debug("stored s3://%s/%s (%d bytes, sha256 %s)", self.bucket, key, size, sha256[:12])
        return StoredObject(key, sha256, size)

    # ------------------------------------------------------------------------------------ read

    def get(self, key: str) -> bytes:
        check_key(key)
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
            body = response["Body"].read()
        except ClientError as exc:
            raise self._error("get", key, exc) from exc
        except BotoCoreError as exc:
            raise self._error("get", key, exc) from exc
        digest = hashlib.sha256(body)
        sent = response.get("ChecksumSHA256")
        recorded = response.get("Metadata", {}).get(META_SHA256)
        if sent is not None and "-" not in sent and base64.b64decode(sent) != digest.digest():
            raise IntegrityError(f"s3://{self.bucket}/{key}: bytes received do not match the stored SHA-256 checksum",
                                 hint="retry; if it persists restore the object and run `pipeline audit`")
        if recorded is not None and recorded != digest.hexdigest():
            raise IntegrityError(f"s3://{self.bucket}/{key}: SHA-256 is {digest.hexdigest()[:12]}..., the store "
                                 f"recorded {recorded[:12]}...", hint="restore it from a backup; run `pipeline audit`")
        if sent is None and recorded is None:
            raise IntegrityError(f"s3://{self.bucket}/{key}: the object carries no SHA-256 to verify against",
                                 hint="it was not written by the pipeline; run `pipeline audit`")
        return body

    def exists(self, key: str) -> bool:
        return self.head(key) is not None

    def head(self, key: str) -> StoredObject | None:
        check_key(key)
        try:
            response = self.client.head_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
        except ClientError as exc:
            if _code(exc) in ("404", "NoSuchKey", "NotFound"):
                return None
            raise self._error("head", key, exc) from exc
        except BotoCoreError as exc:
            raise self._error("head", key, exc) from exc
        sha256 = response.get("Metadata", {}).get(META_SHA256)
        if sha256 is None and response.get("ChecksumSHA256"):
            sha256 = base64.b64decode(response["ChecksumSHA256"]).hex()
        return StoredObject(key, sha256 or "", int(response["ContentLength"]))

    def iter_keys(self, prefix: str = "") -> Iterator[str]:
        try:
            paginator = self.client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", ()):
                    yield item["Key"]
        except (ClientError, BotoCoreError) as exc:
            raise self._error("list", prefix, exc) from exc

    def url(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def _error(self, verb: str, key: str, exc: Exception) -> StorageError:
        code = _code(exc) if isinstance(exc, ClientError) else type(exc).__name__
        hint = {"NoSuchBucket": "create the bucket or fix PIPELINE_S3_BUCKET",
                "AccessDenied": "check the credentials and the bucket policy",
                "InvalidRequest": "Object Lock needs a bucket created with Object Lock enabled",
                "NotImplemented": _SSE_REFUSED, "InvalidArgument": _SSE_REFUSED,
                "InvalidEncryptionAlgorithmError": _SSE_REFUSED, "KMS.NotFoundException": _SSE_REFUSED,
                "NoSuchKey": "run `pipeline audit`"}.get(code, "check PIPELINE_S3_ENDPOINT_URL and that the service is up")
        if _unreachable(exc):  # a passing fault: the document is left where it was, to be retried
            return StoreUnreachableError(f"S3 {verb} s3://{self.bucket}/{key} failed ({code})", hint=hint)
        return StorageError(f"S3 {verb} s3://{self.bucket}/{key} failed ({code})", hint=hint)


_SSE_REFUSED = ("if the store refuses server-side encryption, set PIPELINE_S3_SSE to one it supports "
                "(AES256, aws:kms) or, only where the disks under it are encrypted, none")


def encryption_warnings(settings: Settings) -> list[str]:
    """For `pipeline doctor`: what about encryption at rest needs a person's attention."""
    if not settings.s3_bucket or settings.s3_sse != SSE_NONE:
        return []
    return [f"S3 objects in s3://{settings.s3_bucket} are written WITHOUT server-side encryption "
            "(PIPELINE_S3_SSE=none): make sure the store encrypts its disks, or set PIPELINE_S3_SSE=AES256 "
            "or aws:kms if it supports them"]


#: answers of a store that is up but cannot serve now (throttled, restarting, overloaded)
_BUSY_CODES = frozenset({"SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout", "503", "500"})


def _unreachable(exc: Exception) -> bool:
    """A connection refused, reset or timed out (botocore already retried it), or a busy answer."""
    if isinstance(exc, BotoConnectionError | HTTPClientError):
        return True
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return _code(exc) in _BUSY_CODES or int(status) >= 500
    return False


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
