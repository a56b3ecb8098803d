"""The scaled-out path for real: Celery worker on Redis, PostgreSQL manifest, S3 object store.

A real `pipeline worker` process consumes the documents that `pipeline process` sends with
`PIPELINE_WORKER_MODE=celery`; the manifest lands in a throwaway PostgreSQL database and the objects
in a bucket on moto's S3 server over HTTP.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import boto3
import pytest

from pipeline.cli import main
from pipeline.store.database import make_engine
from pipeline.store.manifest import Manifest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


@pytest.fixture
def scaled_env(tmp_path, postgres_url, redis_url, moto_endpoint, monkeypatch) -> dict[str, str]:
    bucket = f"pipeline-{uuid.uuid4().hex[:10]}"
    boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1").create_bucket(Bucket=bucket)
    env = {
        "PIPELINE_DATABASE_URL": postgres_url,
        "PIPELINE_S3_BUCKET": bucket,
        "PIPELINE_S3_ENDPOINT_URL": moto_endpoint,
        "PIPELINE_S3_REGION": "us-east-1",
        "PIPELINE_CELERY_BROKER_URL": redis_url,
        "PIPELINE_CELERY_QUEUE": f"pipeline-test-{uuid.uuid4().hex[:10]}",
        "PIPELINE_WORKERS": "1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


def test_celery_worker_files_into_postgres_and_s3(tmp_path, scaled_env, monkeypatch):
    home = tmp_path / "home"
    worker_log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "--home", str(home), "worker", "--concurrency", "1"],
        env={**os.environ, **scaled_env}, stdout=worker_log, stderr=subprocess.STDOUT,
    )
    try:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            assert main(["--home", str(home), "patients", "import", str(SAMPLES / "patients.csv")]) == 0
        monkeypatch.setenv("PIPELINE_WORKER_MODE", "celery")
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = main(["--home", str(home), "process", "--json",
                         str(SAMPLES / "scans" / "progress_note.png"),
                         str(SAMPLES / "scans" / "lab_report_mrn_only.png")])
        assert code == 0
        results = {Path(r["source"]).name: r for r in map(json.loads, out.getvalue().splitlines())}
    finally:
        worker.terminate()
        worker.wait(timeout=60)
        worker_log.close()

    assert results["progress_note.png"]["status"] == "filed"
    assert results["progress_note.png"]["patient_mrn"] == "75826275"
    assert results["lab_report_mrn_only.png"]["status"] == "needs_review"

    manifest = Manifest(make_engine(scaled_env["PIPELINE_DATABASE_URL"]))
    assert manifest.count() == 2
    filed = manifest.get(results["progress_note.png"]["document_id"])
    s3 = boto3.client("s3", endpoint_url=scaled_env["PIPELINE_S3_ENDPOINT_URL"], region_name="us-east-1")
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=scaled_env["PIPELINE_S3_BUCKET"])["Contents"]}
    assert filed.original_key in keys
    assert not (home / "objects").exists()  # nothing went to the local store
