#!/usr/bin/env bash
# Installs what Muster needs, skipping whatever is already there. Safe to run again.
#
#   scripts/setup.sh        what building and running the dashboard needs
#   scripts/setup.sh test   also what the tests need (Chromium, Playwright, etcd, iproute2, openssl,
#                           and python-zeroconf in target/pyenv: the independent DNS-SD peer)
#
# The wasm half needs a wasm32 standard library. `rustup target add` is the usual way; where
# rustup cannot download it (these machines, offline mirrors), Debian's rustc-web 1.96 with
# rust-web-src builds std from source (-Zbuild-std) and lld-22 provides rust-lld.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

mode="${1:-run}"
mkdir -p "$MUSTER_ROOT/target"

command -v cargo >/dev/null || die "cargo not found: install Rust (https://rustup.rs) first"

choose_wasm_toolchain() {
    if [ "${MUSTER_WASM_TOOLCHAIN:-}" != "debian" ] && command -v rustup >/dev/null; then
        # The target, and std's source for the size-optimised -Zbuild-std build (lib.sh).
        if rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown \
            && rustup component list --installed 2>/dev/null | grep -q '^rust-src'; then
            echo rustup > "$WASM_TOOLCHAIN_FILE"; return
        fi
        say "adding the wasm32-unknown-unknown target and rust-src with rustup"
        if timeout 300 rustup target add wasm32-unknown-unknown >/dev/null 2>&1 \
            && timeout 300 rustup component add rust-src >/dev/null 2>&1; then
            echo rustup > "$WASM_TOOLCHAIN_FILE"; return
        fi
        say "rustup could not add the wasm32 target; using Debian's rustc-web instead"
    fi
    say "wasm toolchain: Debian rustc-web + rust-web-src + lld-22 (-Zbuild-std)"
    apt_install rustc-web cargo-web rust-web-src lld-22
    [ -x /usr/bin/rust-lld ] || ln -sf "$(ls /usr/bin/rust-lld* /usr/lib/llvm-22/bin/lld 2>/dev/null | head -n1)" /usr/bin/rust-lld
    echo debian > "$WASM_TOOLCHAIN_FILE"
}

install_wasm_bindgen() {
    local want have
    want="$(locked_version wasm-bindgen)"
    have="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}' || true)"
    if [ "$have" = "$want" ]; then return; fi
    say "installing wasm-bindgen-cli $want (must match Cargo.lock; takes a few minutes)"
    # --locked first for a reproducible build; some mirrors lack a locked dependency version,
    # in which case the newest compatible versions are used.
    cargo install wasm-bindgen-cli --version "$want" --locked --quiet 2>/dev/null \
        || cargo install wasm-bindgen-cli --version "$want" --quiet
}

install_test_tools() {
    apt_install chromium etcd-server etcd-client iproute2 ca-certificates
    # The HTTPS tests (server/tests/https.rs, end2end/tests/https.spec.ts) make their CA with it.
    command -v openssl >/dev/null || apt_install openssl
    command -v node >/dev/null || apt_install nodejs npm
    if [ ! -d "$MUSTER_ROOT/end2end/node_modules/playwright-core" ]; then
        say "installing end2end dependencies (npm ci)"
        (cd "$MUSTER_ROOT/end2end" && npm ci --no-audit --no-fund --silent)
    fi
}

# The DNS-SD tests (server/tests/dnssd.rs) check Muster against an independent implementation:
# python-zeroconf, pinned, in a venv of its own (the tests look for target/pyenv/bin/python).
ZEROCONF_VERSION=0.147.0
install_dnssd_peer() {
    local venv="$MUSTER_ROOT/target/pyenv"
    if "$venv/bin/python" -c "import zeroconf, sys; sys.exit(zeroconf.__version__ != '$ZEROCONF_VERSION')" 2>/dev/null; then
        return
    fi
    python3 -m venv --help >/dev/null 2>&1 || apt_install python3-venv
    say "installing python-zeroconf $ZEROCONF_VERSION into target/pyenv (the DNS-SD test peer)"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "zeroconf==$ZEROCONF_VERSION"
}

# The etcd backend's client (etcd-client) compiles etcd's protobuf files at build time.
# brotli precompresses the front end's files (build-site.sh).
install_build_tools() {
    command -v protoc >/dev/null || apt_install protobuf-compiler
    command -v brotli >/dev/null || apt_install brotli
    # The service page's "Copy as curl" test runs the copied command against a fake node.
    command -v curl >/dev/null || apt_install curl
}

install_build_tools
choose_wasm_toolchain
install_wasm_bindgen
if [ "$mode" = "test" ]; then
    install_test_tools
    install_dnssd_peer
fi
say "set-up done (wasm toolchain: $(cat "$WASM_TOOLCHAIN_FILE"))"
