#!/usr/bin/env python3
"""Registering through the console as the owned registrations grow (issue #16).

Starts the release `muster` (memory registry, a fresh data directory, no mDNS), registers COUNT
nodes one after another over one keep-alive connection, and at 10, 100, 1,000, 5,000 and 10,000
owned nodes prints the p50 of the last 50 registrations beside a `/healthz` p50 measured at the
same moment (the same-run baseline). Every registration is durable before its 201 (redb commit).

    python3 end2end/bench/register.py target/release/muster [COUNT]
"""
import http.client
import json
import statistics
import subprocess
import sys
import tempfile
import time

PORT = 3977


def main():
    binary = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
    data = tempfile.mkdtemp()
    console = subprocess.Popen(
        [binary, "--registry", "memory", "--listen", f"127.0.0.1:{PORT}", "--data-dir", data,
         "--probe-interval", "0", "--no-advertise", "--no-lan"],
        stderr=subprocess.DEVNULL)
    try:
        connection = wait_for_console()

        def timed(method, path, body=None):
            headers = {"Content-Type": "application/json"} if body else {}
            started = time.perf_counter()
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            if response.status >= 300:
                raise SystemExit(f"{method} {path}: {response.status}")
            return (time.perf_counter() - started) * 1000

        marks = {10, 100, 1000, 5000, 10000}
        latest = []
        for index in range(1, count + 1):
            body = json.dumps({
                "name": f"svc-{index % 1000}", "version": "1",
                "nodes": [{"id": f"node-{index}", "address": f"127.0.0.1:{1000 + index % 50000}"}],
            })
            latest.append(timed("POST", "/api/services", body))
            latest = latest[-50:]
            if index in marks:
                baseline = statistics.median(timed("GET", "/healthz") for _ in range(50))
                register = statistics.median(latest)
                print(f"owned {index:>6}: POST /api/services p50 {register:.2f} ms, "
                      f"/healthz p50 {baseline:.2f} ms ({register / baseline:.1f}x)", flush=True)
    finally:
        console.terminate()
        console.wait()


def wait_for_console():
    for _ in range(200):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", PORT)
            connection.request("GET", "/healthz")
            connection.getresponse().read()
            return connection
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the console did not start")


if __name__ == "__main__":
    main()
