"""The S3 endpoint stops mid-run and comes back (a moto server stopped and started again on the
same port, its buckets kept): the scan waits, is retried, and is filed once."""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from .conftest import FAST_RETRIES, Home, assert_each_filed_once, copy_scans, ocr_started, results, sha256, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]


class MotoServer:
    """moto's S3 over real HTTP on a fixed port, which can be stopped and started again."""

    def __init__(self) -> None:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.server.start()
        self.host, self.port = self.server.get_host_and_port()
        self.running = True

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        self.server.stop()
        self.running = False

    def start(self) -> None:  # the same port; moto's buckets live in this process, so they are kept
        self.server = ThreadedMotoServer(ip_address=self.host, port=self.port, verbose=False)
        self.server.start()
        self.running = True


@pytest.fixture
def moto() -> Iterator[MotoServer]:
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    server = MotoServer()
    yield server
    if server.running:
        server.stop()


def test_the_s3_endpoint_stopping_mid_run_and_coming_back_loses_and_doubles_nothing(
        home: Home, moto: MotoServer, tmp_path: Path) -> None:
    bucket = f"faults-{os.getpid()}"
    boto3.client("s3", endpoint_url=moto.url, region_name="us-east-1").create_bucket(Bucket=bucket)
    store = {"PIPELINE_S3_BUCKET": bucket, "PIPELINE_S3_ENDPOINT_URL": moto.url, "PIPELINE_S3_REGION": "us-east-1"}
    home.env.update(store, PIPELINE_FAULT_RETRIES="6", PIPELINE_FAULT_RETRY_DELAY="0.5")
    scans = copy_scans(tmp_path / "scans")
    log = tmp_path / "process.log"
    with log.open("w") as err:
        run = home.start("process", "--json", *map(str, scans), stdout=subprocess.PIPE, stderr=err)
        wait_until(ocr_started(home), 120, "the run to start a document")
        moto.stop()
        try:
            wait_until(lambda: "trying again in" in log.read_text() or run.poll() is not None, 180,
                       "the run to meet the stopped endpoint and retry")
        finally:
            moto.start()
        out, _ = run.communicate(timeout=240)
    text = log.read_text()
    assert "EndpointConnectionError); trying again in" in text, text  # it met the fault and waited
    assert run.returncode == 0, text
    assert list(results(out).values()) == ["filed"]
    assert_each_filed_once(home, {p.name: sha256(p) for p in scans})
    keys = [o["Key"] for o in boto3.client("s3", endpoint_url=moto.url, region_name="us-east-1")
            .list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert not [k for k in keys if k.startswith("quarantine/")]
