#!/usr/bin/env bash
# Runs the browser tests in a private network namespace whose loopback carries multicast:
# the console's real mDNS registry and the out-of-band `muster register` talk over `lo` there,
# and nothing reaches a real network. Then the main flow once more against a real etcd.
# Needs root (CI and these machines have it) for `unshare --net`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

if [ "${MUSTER_E2E_IN_NETNS:-}" != 1 ]; then
    exec env MUSTER_E2E_IN_NETNS=1 unshare --net -- "$PWD/run.sh" "$@"
fi

ip link set lo up
ip link set lo multicast on
ip route add 224.0.0.0/4 dev lo

reports="$(mktemp -d)"
# Prints "browser: N passed, N failed" from the runs' JSON reports (Playwright's own summary
# line is not in the plain form CI tools read).
summary() {
    node -e '
        let passed = 0, failed = 0;
        for (const file of process.argv.slice(1)) {
            const { stats } = JSON.parse(require("fs").readFileSync(file, "utf8"));
            passed += stats.expected + stats.flaky;
            failed += stats.unexpected;
        }
        console.log(`browser: ${passed} passed, ${failed} failed`);
    ' "$reports"/*.json
}

echo "[e2e] mDNS registry on lo"
MUSTER_E2E_REGISTRY=mdns MUSTER_E2E_REPORT="$reports/mdns.json" npx playwright test "$@"

echo "[e2e] etcd registry: the main flow"
data_dir="$(mktemp -d)"
etcd --name e2e --data-dir "$data_dir" \
    --listen-client-urls http://127.0.0.1:23790 --advertise-client-urls http://127.0.0.1:23790 \
    --listen-peer-urls http://127.0.0.1:23800 --initial-advertise-peer-urls http://127.0.0.1:23800 \
    --initial-cluster e2e=http://127.0.0.1:23800 >"$data_dir.log" 2>&1 &
etcd_pid=$!
trap 'kill $etcd_pid 2>/dev/null; rm -rf "$data_dir" "$data_dir.log" "$reports"' EXIT
for _ in $(seq 50); do
    etcdctl --endpoints 127.0.0.1:23790 endpoint health >/dev/null 2>&1 && break
    sleep 0.2
done
MUSTER_E2E_REGISTRY=etcd MUSTER_E2E_REGISTRY_ADDRESS=127.0.0.1:23790 MUSTER_E2E_PORT=3310 \
    MUSTER_E2E_REPORT="$reports/etcd.json" \
    npx playwright test console.spec.ts -g "form with a nested schema|out of band|deregister"
summary
