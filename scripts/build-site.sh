#!/usr/bin/env bash
# Builds the dashboard the way cargo-leptos lays it out, without needing cargo-leptos:
#   target/site/pkg/muster.js, muster_bg.wasm   the hydrate bundle (app crate, feature hydrate)
#   target/site/pkg/muster.css                  style/main.css
#   target/site/*                               public/
#   target/release/muster                       the server (feature ssr)
#   target/release/fake-go-micro                the browser tests' fake go-micro node
# The wasm build uses its own target dir (target/front, as cargo-leptos does) so that the two
# toolchains never invalidate each other's build cache.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$MUSTER_ROOT"

site="target/site"
mkdir -p "$site/pkg"

say "building the front end (wasm)"
CARGO_TARGET_DIR=target/front wasm_cargo_build -p app --lib --no-default-features \
    --features hydrate --profile wasm-release
wasm-bindgen --target web --no-typescript --remove-name-section --remove-producers-section --out-name muster --out-dir "$site/pkg" \
    target/front/wasm32-unknown-unknown/wasm-release/app.wasm

cp style/main.css "$site/pkg/muster.css"
cp -r public/. "$site/"

# Precompressed copies: the server sends muster_bg.wasm.br (or .gz) to browsers that accept
# it, so the bundle costs its compressed size on the wire without compressing per request.
for file in "$site"/pkg/*.wasm "$site"/pkg/*.js "$site"/pkg/*.css; do
    gzip -9 -k -f "$file"
    brotli -q 11 -k -f "$file"
done

say "building the server"
cargo build --release -p server --bin muster
# The browser tests' go-micro node (muster-rpc's fake peer as a process).
cargo build --release -p muster-rpc --features fake-peer --bin fake-go-micro
