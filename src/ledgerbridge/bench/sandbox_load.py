"""How fast the Xero sandbox answers GET Invoices/{id} on loopback with one worker.

Run: ``ledgerbridge bench sandbox-load [--seconds 5] [--concurrency 8]``. Starts
``python -m xero_sandbox`` (one uvicorn worker, in-memory database, rate limits
counted but out of reach), creates 50 invoices, then keeps ``concurrency``
keep-alive connections busy fetching invoices by ID and prints requests/s and
latency percentiles. The target is at least 300 requests/s, so the sandbox is
never the bottleneck of a benchmark; this prints the figure and asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import socket
import statistics
import subprocess
import sys
import time

import httpx

TARGET = 300


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_sandbox(port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "xero_sandbox",
            "--port",
            str(port),
            "--no-webhooks",
            "--rate-limits",
            "off",
        ],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=0.5).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("the sandbox did not start")


def seed(base: str) -> tuple[dict[str, str], list[str]]:
    tokens = httpx.post(f"{base}/sandbox/tokens", json={}).json()
    headers = {
        "Authorization": f"Bearer {tokens['access_token']}",
        "xero-tenant-id": tokens["tenant_ids"][0],
        "Accept": "application/json",
    }
    invoices = [
        {
            "Type": "ACCREC",
            "Contact": {"Name": f"Customer {i % 10}"},
            "Date": "2026-10-01",
            "DueDate": "2026-10-31",
            "Status": "AUTHORISED",
            "LineItems": [
                {
                    "Description": "Freight",
                    "Quantity": 1,
                    "UnitAmount": 100 + i,
                    "AccountCode": "200",
                },
                {
                    "Description": "Fuel surcharge",
                    "Quantity": 1,
                    "UnitAmount": 8,
                    "AccountCode": "201",
                },
            ],
        }
        for i in range(50)
    ]
    response = httpx.put(
        f"{base}/api.xro/2.0/Invoices", json={"Invoices": invoices}, headers=headers
    )
    response.raise_for_status()
    return headers, [i["InvoiceID"] for i in response.json()["Invoices"]]


async def hammer(
    base: str, headers: dict[str, str], ids: list[str], seconds: float, concurrency: int
) -> list[float]:
    latencies: list[float] = []
    stop = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits) as client:

        async def worker() -> None:
            while time.perf_counter() < stop:
                started = time.perf_counter()
                invoice_id = random.choice(ids)  # noqa: S311 - load spread, not secrets
                response = await client.get(f"/api.xro/2.0/Invoices/{invoice_id}")
                if response.status_code != 200:
                    raise SystemExit(f"unexpected {response.status_code}: {response.text[:200]}")
                latencies.append(time.perf_counter() - started)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ledgerbridge bench sandbox-load", description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args(argv)
    port = free_port()
    process = start_sandbox(port)
    base = f"http://127.0.0.1:{port}"
    try:
        headers, ids = seed(base)
        asyncio.run(hammer(base, headers, ids, 0.5, args.concurrency))  # warm up
        started = time.perf_counter()
        latencies = asyncio.run(hammer(base, headers, ids, args.seconds, args.concurrency))
        elapsed = time.perf_counter() - started
    finally:
        process.terminate()
        process.wait(timeout=10)
    rate = len(latencies) / elapsed
    quantiles = statistics.quantiles(latencies, n=100)
    print(f"GET /api.xro/2.0/Invoices/{{id}}, one uvicorn worker, {args.concurrency} connections")
    print(f"  requests:   {len(latencies)} in {elapsed:.1f} s")
    print(f"  throughput: {rate:.0f} requests/s (target >= {TARGET})")
    print(f"  latency:    p50 {quantiles[49] * 1000:.1f} ms, p99 {quantiles[98] * 1000:.1f} ms")
    print(f"  ratio to target: {rate / TARGET:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
