"""Object store overhead per document: put (with SHA-256) + get (verified), local folder vs S3.

S3 is moto's standalone server on 127.0.0.1 over real HTTP (what the tests use), so the figure is
the client-side cost of the S3 path (signing, checksums, HTTP) plus moto's own, not AWS latency.
Documents are random bytes of scan-like sizes (no PHI).

    .venv/bin/python benchmarks/store_s3.py                 # 200 documents of 250 KB
    .venv/bin/python benchmarks/store_s3.py --docs 100 --size 2000000
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from pipeline.store.objects import LocalStore, ObjectStore


def run(store: ObjectStore, blobs: list[bytes]) -> tuple[list[float], list[float]]:
    puts, gets = [], []
    for blob in blobs:
        key = f"patients/1/consent/2025/{uuid.uuid4()}.pdf"
        t0 = time.perf_counter()
        store.put(key, blob, "application/pdf")
        t1 = time.perf_counter()
        assert store.get(key) == blob
        t2 = time.perf_counter()
        puts.append((t1 - t0) * 1000)
        gets.append((t2 - t1) * 1000)
    return puts, gets


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=200)
    parser.add_argument("--size", type=int, default=250_000, help="bytes per document")
    parser.add_argument("--sse", choices=["none", "AES256", "aws:kms"], default="AES256")
    args = parser.parse_args()
    rng = random.Random(6)
    blobs = [rng.randbytes(args.size) for _ in range(args.docs)]

    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    import boto3
    from moto.server import ThreadedMotoServer

    from pipeline.store.s3 import S3Store

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket="bench-store")
        kms_key = None
        if args.sse == "aws:kms":
            kms_key = boto3.client("kms", endpoint_url=endpoint, region_name="us-east-1").create_key()["KeyMetadata"]["KeyId"]
        s3 = S3Store("bench-store", endpoint_url=endpoint, region="us-east-1",
                     sse=None if args.sse == "none" else args.sse, kms_key_id=kms_key)
        with tempfile.TemporaryDirectory(dir=".") as root:
            local = LocalStore(Path(root))
            run(local, blobs[:5]), run(s3, blobs[:5])  # warm up
            results = {"local folder": run(local, blobs), f"S3 (moto, SSE {args.sse})": run(s3, blobs)}
    finally:
        server.stop()

    print(f"### Object store: put + verified get, {args.docs} documents of {args.size / 1000:.0f} KB (milliseconds)\n")
    print("| store | put p50 | put p95 | get p50 | get p95 | put+get mean | vs local |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    base = None
    for name, (puts, gets) in results.items():
        total = statistics.mean(p + g for p, g in zip(puts, gets, strict=True))
        base = base or total
        print(f"| {name} | {statistics.median(puts):.2f} | {p95(puts):.2f} | {statistics.median(gets):.2f} | "
              f"{p95(gets):.2f} | {total:.2f} | {total / base:.1f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
