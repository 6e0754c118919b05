#!/usr/bin/env bash
# Sets up, builds and runs the dashboard on http://127.0.0.1:3000 (extra arguments go to muster).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
"$MUSTER_ROOT/scripts/setup.sh"
"$MUSTER_ROOT/scripts/build-site.sh"
cd "$MUSTER_ROOT"
exec target/release/muster "$@"
