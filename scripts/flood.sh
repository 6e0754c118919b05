#!/usr/bin/env bash
# The hardening floods (issue #13) at length: the tests of server/tests/flood.rs (LAN floods
# of fat nodes, fake services and nodes, junk DNS-SD records; 20 viewers at once), each
# sending SCALE times its default flood (default 10), on a private LAN of network namespaces.
# The bounds asserted are the same as in the test suite (RSS ceilings, /healthz p95 within
# 100 ms, legitimate nodes learned and kept); each test prints its RSS before, at peak and
# after, and its /healthz latencies.
#
#   scripts/flood.sh [SCALE] [TEST-NAME-FILTER]
#
# Needs root (network namespaces) and what `scripts/setup.sh test` installs. Not part of CI:
# `scripts/test.sh` runs the same tests at scale 1.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
scale="${1:-10}"
filter="${2:-}"
[[ "$scale" =~ ^[0-9]+$ ]] || die "SCALE must be a whole number, not '$scale'"
[ "$(id -u)" -eq 0 ] || die "the floods build network namespaces: run as root"
"$MUSTER_ROOT/scripts/setup.sh" test
cd "$MUSTER_ROOT"
say "floods at $scale× (cargo test --test flood)"
MUSTER_FLOOD_SCALE="$scale" cargo test --workspace \
    --features muster-registry/mdns,muster-registry/etcd,muster-registry/conformance \
    --test flood -- --test-threads=1 --nocapture $filter 2>&1 |
    grep -E '^(test |[a-zA-Z0-9 ,+.-]+: RSS )|test result|panicked|FAILED'
exit "${PIPESTATUS[0]}"
