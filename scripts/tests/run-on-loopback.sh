#!/usr/bin/env bash
# README's run command on a machine whose only interface is loopback (a container, a laptop
# offline): inside a network namespace of its own with only `lo` up, `scripts/run.sh` must
# serve the console, say that mDNS is on loopback only, and find a go-micro node announced on
# the same loopback (the captured announcement of a real go-micro v1.18 peer). Needs root for
# `unshare --net`; nothing leaves the namespace.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

if [ "${MUSTER_IN_LOOPBACK_NETNS:-}" != 1 ]; then
    exec env MUSTER_IN_LOOPBACK_NETNS=1 unshare --net -- "${BASH_SOURCE[0]}" "$@"
fi
ip link set lo up

data="$(mktemp -d)"
log="$data/muster.log"
"$root/scripts/run.sh" --listen 127.0.0.1:3999 --data-dir "$data/state" --probe-interval 0 \
    >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$data"' EXIT

fail() { echo "loopback: $*"; cat "$log"; echo "loopback: 0 passed, 1 failed"; exit 1; }
get() { python3 -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=2).read().decode())' "$1"; }

for _ in $(seq 2400); do  # run.sh may have to build first
    get http://127.0.0.1:3999/healthz >/dev/null 2>&1 && break
    kill -0 $pid 2>/dev/null || fail "scripts/run.sh exited"
    sleep 0.5
done
get http://127.0.0.1:3999/api/session | grep -q '"notice":"mDNS on loopback only: no LAN interface"' \
    || fail "the session does not say mDNS is on loopback only"

# A go-micro service on this machine announces itself by multicast over lo.
announce="$root/registry/tests/vectors/gomicro-v1.18/02-announce.bin"
for _ in $(seq 50); do
    python3 - "$announce" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton("127.0.0.1"))
s.sendto(open(sys.argv[1], "rb").read(), ("224.0.0.251", 5353))
PY
    if get http://127.0.0.1:3999/api/services/go.micro.srv.greeter 2>/dev/null \
        | grep -q 'go.micro.srv.greeter-18015368-48e9-4cb2-9b69-6791349bfdda'; then
        grep -q "mDNS on loopback only" "$log" || fail "the log does not say mDNS is on loopback only"
        echo "loopback: 1 passed, 0 failed"
        exit 0
    fi
    sleep 0.2
done
fail "the go-micro node announced on lo never appeared"
