#!/usr/bin/env bash
# Runs Muster's benchmarks and prints the results with the machine they ran on.
#
#   scripts/bench.sh            end to end (issue #7): the release `muster` on a private LAN of
#                               network namespaces, real go-micro mDNS packets, websocket clients,
#                               a service page in Chromium (wire → DOM, issue #16);
#                               then the RPC path (issue #14): calls and a 10,000-node health sweep;
#                               then the query paths at 1,000 and 10,000 nodes (issue #16)
#   scripts/bench.sh --all      the same, then the registry's criterion benches (memory, mdns,
#                               etcd; etcd needs an `etcd` binary and is skipped without one)
#   MUSTER_BENCH_QUICK=1 ...    100 × 10 nodes and 5 s of churn instead of 1,000 × 10 and 60 s
#   scripts/bench.sh --hydrate-profile  only where a cold load's time goes until hydrated (a
#                               V8 CPU profile by crate, end2end/bench/hydrate-profile.mjs)
#   scripts/bench.sh --keystroke  only the services page's search keystroke → updated list in
#                               Chromium at 40 and 2,000 services (end2end/bench/keystroke.mjs)
#   Then the page: bundle weight and hydration time in headless Chromium (end2end/bench/page.mjs),
#   and registering through the console with up to 10,000 owned nodes (end2end/bench/register.py).
#   and DOM mutations per live event on a service page (end2end/bench/mutations.mjs).
#
# Needs root (network namespaces) and iproute2. Not part of CI: a slow machine does not fail a
# benchmark, but a lost node, a lost event or a wrong final view does (non-zero exit).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$MUSTER_ROOT"

[ "$(id -u)" -eq 0 ] || die "the benchmarks build network namespaces: run as root"
apt_install iproute2 protobuf-compiler

# Namespaces left by a bench that was killed (its pid is in the name) are deleted first.
for ns in $(ip netns list | awk '/^mbench-/ {print $1}'); do
    pid="${ns#mbench-}"; pid="${pid%%-*}"
    kill -0 "$pid" 2>/dev/null || ip netns del "$ns"
done

out="$MUSTER_ROOT/target/bench"
mkdir -p "$out"
{
    echo "date:    $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/^Mem:/ {print $2}') GiB"
    echo "kernel:  $(uname -r)"
    echo "rustc:   $(rustc --version)"
    echo "commit:  $(git rev-parse --short HEAD)$(git diff --quiet || echo ' (modified)')"
    echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min, before the run)"
} | tee "$out/machine.txt"

# Issue #17: a search keystroke on the services page until the list is updated and painted,
# at 2,000 services / 6,000 nodes beside 40 services, alone (the other benches take an hour).
if [ "${1:-}" = "--keystroke" ]; then
    scripts/setup.sh test
    scripts/build-site.sh
    say "search keystroke → updated list (end2end/bench/keystroke.mjs)"
    unshare --net -- bash -c 'ip link set lo up && exec node end2end/bench/keystroke.mjs' \
        2>&1 | tee "$out/keystroke.txt"
    exit "${PIPESTATUS[0]}"
fi

# Where a cold load's main-thread time goes until the page is hydrated (issue #16): a V8 CPU
# profile summed by crate, on a copy of the site whose wasm keeps its name section.
if [ "${1:-}" = "--hydrate-profile" ]; then
    scripts/setup.sh test
    scripts/build-site.sh
    named="$MUSTER_ROOT/target/site-named"
    rm -rf "$named" && cp -r target/site "$named" && rm -f "$named"/pkg/muster_bg.wasm* "$named"/pkg/muster.js*
    wasm-bindgen --target web --no-typescript --out-name muster --out-dir "$named/pkg" \
        target/front/wasm32-unknown-unknown/wasm-release/app.wasm
    for args in "" "10 2"; do
        say "hydration profile (end2end/bench/hydrate-profile.mjs) ${args:-1000 10}"
        unshare --net -- bash -c "ip link set lo up && node end2end/bench/hydrate-profile.mjs target/site $args && exec node end2end/bench/hydrate-profile.mjs $named $args" \
            2>&1 | tee -a "$out/hydrate-profile.txt"
    done
    exit
fi

# The site, Node and Chromium first: the end-to-end bench opens a service page in Chromium
# (wire → DOM) and fails without them; the page benches below use the same build.
scripts/setup.sh test
scripts/build-site.sh

say "end to end (cargo bench -p server --bench end_to_end)"
cargo bench -p server --bench end_to_end 2>&1 | tee "$out/end_to_end.txt"

# Issue #14: a call through /api/…/call against the same call made directly, and a health
# sweep of 10,000 fake go-micro peers on loopback ports (one socket each: needs the file limit).
say "rpc: calls through the API, health sweep of 10,000 nodes (cargo bench -p server --bench rpc)"
(ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; cargo bench -p server --bench rpc) \
    2>&1 | tee "$out/rpc.txt"

# Issue #16, the query paths: GET /api/services, both pages rendered on the server and the
# memory registry's list_services at 1,000 and at 10,000 nodes, each beside a same-run baseline.
say "queries at 1,000 and 10,000 nodes (cargo bench -p server --bench queries)"
cargo bench -p server --bench queries 2>&1 | tee "$out/queries.txt"

# The page: the release bundle's weight and the time to hydrate it in headless Chromium. The
# console there runs the memory registry on 127.0.0.1 with no mDNS at all; the private network
# namespace is only so that nothing could reach a real link anyway.
say "page weight and hydration (end2end/bench/page.mjs)"
unshare --net -- bash -c 'ip link set lo up && exec node end2end/bench/page.mjs' \
    2>&1 | tee "$out/page.txt"

say "registering through the console as owned registrations grow (end2end/bench/register.py)"
unshare --net -- bash -c 'ip link set lo up && exec python3 end2end/bench/register.py target/release/muster' \
    2>&1 | tee "$out/register.txt"
# DOM mutations per live event on a service page (issue #12). MUSTER_BENCH_BUILDS="base=BIN:SITE
# this=target/release/muster:target/site" compares builds in the same run (first = baseline).
say "DOM mutations per event (end2end/bench/mutations.mjs)"
unshare --net -- bash -c 'ip link set lo up && exec node end2end/bench/mutations.mjs' \
    2>&1 | tee "$out/mutations.txt"

if [ "${1:-}" = "--all" ]; then
    say "registry: memory"
    cargo bench -p muster-registry --bench memory -- --warm-up-time 1 --measurement-time 3 \
        2>&1 | tee "$out/memory.txt"
    say "registry: mdns"
    cargo bench -p muster-registry --features mdns --bench mdns 2>&1 | tee "$out/mdns.txt"
    if command -v etcd >/dev/null || [ -n "${MUSTER_ETCD_BIN:-}" ]; then
        say "registry: etcd"
        cargo bench -p muster-registry --features etcd --bench etcd 2>&1 | tee "$out/etcd.txt"
    else
        say "registry: etcd SKIPPED (no etcd binary; scripts/setup.sh test installs one)"
    fi
fi
say "results in $out/"
