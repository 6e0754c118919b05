# Shared helpers for Muster's scripts. Sourced, not run.
#
# The wasm toolchain is chosen once by setup.sh and recorded in target/.wasm-toolchain:
#   rustup  - the rustup toolchain has the wasm32-unknown-unknown target (the usual machine);
#   debian  - Debian's rustc-web/cargo-web 1.96 build std for wasm32 from rust-web-src
#             (machines where rustup cannot download the target).

set -euo pipefail

MUSTER_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WASM_TOOLCHAIN_FILE="$MUSTER_ROOT/target/.wasm-toolchain"
export PATH="$HOME/.cargo/bin:$PATH"
# .cargo/config.toml gives every build `--cfg erase_components` (see there). A RUSTFLAGS
# variable in the caller's environment replaces that list, and `app` then refuses to compile:
# such a caller's flags get the cfg too.
if [ -n "${RUSTFLAGS+set}" ]; then
    case " $RUSTFLAGS " in
        *" erase_components "*) ;;
        *) export RUSTFLAGS="$RUSTFLAGS --cfg erase_components" ;;
    esac
fi

say() { printf '\033[1m[muster]\033[0m %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# Runs apt-get install for the packages not installed yet (idempotent; apt-get update once).
apt_install() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    say "installing Debian packages: ${missing[*]}"
    if [ ! -f /tmp/.muster-apt-updated ]; then
        $sudo apt-get update -qq && touch /tmp/.muster-apt-updated
    fi
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

# The version of a crate in Cargo.lock.
locked_version() {
    awk -v name="$1" '$0 == "name = \"" name "\"" { getline; gsub(/version = |"/, ""); print; exit }' \
        "$MUSTER_ROOT/Cargo.lock"
}

# Flags that shrink the release bundle (BENCHMARKS.md, "Page weight"): no Debug formatting or
# panic locations compiled in (450 -> 432 KB gzipped). They are unstable flags, so the build
# runs with RUSTC_BOOTSTRAP=1 and builds std from source (-Zbuild-std, std at opt-level z too),
# as Debian's rustc-web path needs anyway. Measured and left out: `-Cpanic=immediate-abort`
# (another 13 KB, but a panic then shows only as "unreachable", with no message). std is built
# with its `optimize_for_size` feature (WASM_STD_FEATURES): the small variants of its generic
# code, which the bundle instantiates per type — sorting (a merge sort and a heap sort, both
# O(n log n), instead of driftsort/ipnsort), integer formatting, float parsing: 411 → 402 KB
# brotli, measured in BENCHMARKS.md ("Page weight"). Leptos's
# `--cfg erase_components` is in .cargo/config.toml, for every build (the server must render
# with it too). These are given as `--config build.rustflags`, which cargo appends to that file's
# list; a RUSTFLAGS variable would replace the list and drop `erase_components`.
WASM_RUSTFLAGS='build.rustflags=["-Zfmt-debug=none", "-Zlocation-detail=none"]'
WASM_STD_FEATURES='-Zbuild-std-features=optimize_for_size'

# `cargo build` for the wasm32 target, with whichever toolchain setup.sh chose.
wasm_cargo_build() {
    local toolchain
    toolchain="$(cat "$WASM_TOOLCHAIN_FILE" 2>/dev/null || echo missing)"
    case "$toolchain" in
        rustup)
            RUSTC_BOOTSTRAP=1 cargo build --config "$WASM_RUSTFLAGS" \
                --target wasm32-unknown-unknown -Zbuild-std=std,panic_abort "$WASM_STD_FEATURES" "$@" ;;
        debian)
            RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 /usr/bin/cargo build --config "$WASM_RUSTFLAGS" \
                --target wasm32-unknown-unknown -Zbuild-std=std,panic_abort "$WASM_STD_FEATURES" "$@" ;;
        *)
            die "no wasm toolchain chosen yet: run scripts/setup.sh" ;;
    esac
}
