#!/usr/bin/env bash
# Sets up and runs every test: Rust unit/integration tests (cargo test, all features), then the
# browser tests (Playwright driving Debian's Chromium against a freshly built server).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
"$MUSTER_ROOT/scripts/setup.sh" test
cd "$MUSTER_ROOT"

say "cargo test"
# One invocation for the workspace (features unify: the server pulls in app/ssr and every
# registry backend); the registry's own test-only features are named explicitly.
cargo test --workspace --features muster-registry/mdns,muster-registry/etcd,muster-registry/conformance

"$MUSTER_ROOT/scripts/build-site.sh"
say "README's run command on a loopback-only machine"
scripts/tests/run-on-loopback.sh
say "browser tests (Playwright + Chromium)"
end2end/run.sh
