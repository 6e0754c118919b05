#!/usr/bin/env bash
# Sets up and runs every test: Rust unit/integration tests (cargo test, all features), then the
# browser tests (Playwright driving Debian's Chromium against a freshly built server).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
"$MUSTER_ROOT/scripts/setup.sh" test
cd "$MUSTER_ROOT"

say "cargo test"
cargo test --workspace --all-features

"$MUSTER_ROOT/scripts/build-site.sh"
say "browser tests (Playwright + Chromium)"
cd end2end
npx playwright test
